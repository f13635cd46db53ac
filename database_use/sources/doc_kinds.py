"""The doc source's reading of the kinds of issue 12 (see ``database_use.sources.doc``).

:class:`KindsParser` is mixed into the doc parser: it reads tables' triggers, policies, rules
and privileges, and the sections of sequences, domains, composite and range types, functions,
extensions and schemas, as ``database_use.render.doc_kinds`` writes them. It uses the
parser's line helpers (``grid``, ``properties``, ``code_block``, ``error``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from database_use.errors import DocParseError
from database_use.render.doc_kinds import (
    ATTRIBUTES_HEAD,
    DOMAIN_CHECKS_HEAD,
    EXTENSIONS_HEAD,
    FUNCTION_LANGS,
    RANGE_TYPES_HEAD,
    SCHEMAS_HEAD,
    SEQUENCES_HEAD,
)
from database_use.render.doc_text import split_qualified, uncell, unescape, unescape_list
from database_use.schema.snapshot import (
    Attribute,
    CheckConstraint,
    CompositeType,
    Domain,
    Extension,
    Function,
    Grant,
    Policy,
    RangeType,
    Rule,
    Sequence,
    Snapshot,
    Table,
    Trigger,
)

_TIMINGS = ("BEFORE", "AFTER", "INSTEAD OF")
_LEVELS = ("ROW", "STATEMENT")
_ENABLED = ("origin", "disabled", "replica", "always")
_COMMANDS = ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE")
_RULE_EVENTS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_FUNCTION_KINDS = ("function", "procedure", "aggregate", "window")
_VOLATILITIES = ("immutable", "stable", "volatile")
_PARALLEL = ("safe", "restricted", "unsafe")
_PRIVILEGE_RE = re.compile(r"^[A-Z]+\*?$")
_INT_RE = re.compile(r"^-?[0-9]+$")


class KindsParser:
    """Section readers for the kinds outside the original doc (a mixin of the doc parser)."""

    # Provided by the doc parser this is mixed into (database_use.sources.doc._Parser).
    snap: Snapshot
    where: str | None
    error: Callable[..., DocParseError]
    grid: Callable[..., list[tuple[int, list[str]]]]
    properties: Callable[[tuple[str, ...]], dict[str, tuple[int, str]]]
    code_block: Callable[[str | tuple[str, ...]], str]
    end_grid_section: Callable[[str], None]
    yes_no: Callable[[str, int, str], bool]
    peek: Callable[[], str | None]
    skip_blank: Callable[[], None]

    def number(self, raw: str, line_no: int, what: str, *, blank: bool = False) -> int | None:
        if blank and raw == "":
            return None
        if not _INT_RE.match(raw):
            raise self.error(f"a whole number in the {what} cell", line_no)
        return int(raw)

    def choice(self, raw: str, line_no: int, what: str, allowed: tuple[str, ...]) -> str:
        if raw not in allowed:
            raise self.error(f"one of {', '.join(allowed)} in the {what} cell", line_no)
        return raw

    def new_name(self, raw: str, line_no: int, what: str, known: dict[str, Any]) -> tuple[str, str]:
        """A schema-qualified name (cell or heading) not seen before in its section."""
        parts = split_qualified(unescape(raw))
        if not parts or len(parts) != 2:
            raise self.error(f"a schema-qualified {what} name such as 'public.x'", line_no)
        if f"{parts[0]}.{parts[1]}" in known:
            raise self.error(f"each {what} once", line_no)
        return parts[0], parts[1]

    def grants(self, raw: str, line_no: int, what: str) -> list[Grant]:
        out: list[Grant] = []
        for item in unescape_list(raw):
            grantee, sep, privileges = item.rpartition(": ")
            words = privileges.split(" ")
            if not sep or not all(_PRIVILEGE_RE.match(w) for w in words):
                raise self.error(
                    f"'grantee: PRIVILEGE ...' items (a trailing * for WITH GRANT OPTION) in "
                    f"the {what} cell",
                    line_no,
                )
            out.append(
                Grant(
                    grantee=grantee,
                    privileges=[w.rstrip("*") for w in words],
                    grantable=[w[:-1] for w in words if w.endswith("*")],
                )
            )
        return out

    # -- tables' triggers, policies, rules, privileges ----------------------------------
    def triggers(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, timing, events, level, function, when, enabled, extra, comment = cells
            if name == "" or function == "":
                raise self.error("a trigger name and its function", line_no)
            table.triggers.append(
                Trigger(
                    name=unescape(name),
                    timing=self.choice(timing, line_no, "Timing", _TIMINGS),  # type: ignore[arg-type]
                    events=unescape_list(events),
                    level=self.choice(level, line_no, "Level", _LEVELS),  # type: ignore[arg-type]
                    function=unescape(function),
                    when=uncell(when),
                    enabled=self.choice(enabled, line_no, "Enabled", _ENABLED),  # type: ignore[arg-type]
                    extra=uncell(extra),
                    comment=uncell(comment),
                )
            )

    def policies(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, command, kind, roles, using, with_check, comment = cells
            if name == "":
                raise self.error("a policy name", line_no)
            kind = self.choice(kind, line_no, "Type", ("permissive", "restrictive"))
            table.policies.append(
                Policy(
                    name=unescape(name),
                    command=self.choice(command, line_no, "Command", _COMMANDS),  # type: ignore[arg-type]
                    permissive=kind == "permissive",
                    roles=unescape_list(roles),
                    using=uncell(using),
                    with_check=uncell(with_check),
                    comment=uncell(comment),
                )
            )

    def rules(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, (name, event, enabled, definition, comment) in rows:
            if name == "" or definition == "":
                raise self.error("a rule name and its definition", line_no)
            table.rules.append(
                Rule(
                    name=unescape(name),
                    event=self.choice(event, line_no, "Event", _RULE_EVENTS),  # type: ignore[arg-type]
                    enabled=self.choice(enabled, line_no, "Enabled", _ENABLED),  # type: ignore[arg-type]
                    definition=unescape(definition),
                    comment=uncell(comment),
                )
            )

    def table_privileges(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, (grantee, column, privileges, grantable) in rows:
            privs, held = unescape_list(privileges), unescape_list(grantable)
            if grantee == "" or not privs or not all(_PRIVILEGE_RE.match(p) for p in privs):
                raise self.error("a grantee and upper-case privileges such as SELECT", line_no)
            table.privileges.append(
                Grant(unescape(grantee), privs, grantable=held, column=uncell(column))
            )

    # -- kinds outside tables -------------------------------------------------------------
    def sequences(self) -> None:
        for line_no, cells in self.grid(SEQUENCES_HEAD):
            name, type_, start, increment, low, high, cycle, cache, owned, privs, comment = cells
            schema, bare = self.new_name(name, line_no, "sequence", self.snap.sequences)
            if type_ == "":
                raise self.error("the sequence's data type", line_no)
            self.snap.add(
                Sequence(
                    schema=schema,
                    name=bare,
                    data_type=unescape(type_),
                    start=self.number(start, line_no, "Start"),  # type: ignore[arg-type]
                    increment=self.number(increment, line_no, "Increment"),  # type: ignore[arg-type]
                    min_value=self.number(low, line_no, "Min", blank=True),
                    max_value=self.number(high, line_no, "Max", blank=True),
                    cycle=self.yes_no(cycle, line_no, "Cycle"),
                    cache=self.number(cache, line_no, "Cache"),  # type: ignore[arg-type]
                    owned_by=uncell(owned),
                    privileges=self.grants(privs, line_no, "Privileges"),
                    comment=uncell(comment),
                )
            )
        self.end_grid_section("sequences")

    def object_headings(self, what: str) -> Iterator[tuple[int, str]]:
        """Each ``### name`` heading of a per-object section: yields (line index, raw name)."""
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or line.startswith("## "):
                return
            if not line.startswith("### "):
                raise self.error(f"a '### ' heading naming a {what}")
            start = self.i
            self.i += 1
            yield start, line[4:].strip(" \t")

    def subsection(self, name: str, *, optional: bool = False) -> bool:
        self.skip_blank()
        line = self.peek()
        if line is not None and line.startswith("#### ") and line[5:].strip(" \t") == name:
            self.i += 1
            return True
        if optional:
            return False
        raise self.error(f"the '#### {name}' subsection")

    def domains(self) -> None:
        for line_no, raw in self.object_headings("domain"):
            schema, name = self.new_name(raw, line_no, "domain", self.snap.domains)
            props = self.properties(("Base type", "Nullable", "Default", "Collation", "Comment"))
            if "Base type" not in props or "Nullable" not in props:
                raise self.error("'- Base type: ...' and '- Nullable: ...' lines")
            domain = Domain(
                schema=schema,
                name=name,
                base_type=unescape(props["Base type"][1]),
                nullable=self.yes_no(props["Nullable"][1], props["Nullable"][0], "Nullable"),
                default=_prop(props, "Default"),
                collation=_prop(props, "Collation"),
                comment=_prop(props, "Comment"),
            )
            if self.subsection("Checks", optional=True):
                for row_no, (cname, kind, expression, comment) in self.grid(DOMAIN_CHECKS_HEAD):
                    kind = self.choice(kind, row_no, "Type", ("CHECK", "CHECK NOT VALID"))
                    if expression == "":
                        raise self.error("the CHECK expression in the Expression cell", row_no)
                    domain.checks.append(
                        CheckConstraint(
                            expression=unescape(expression),
                            name=uncell(cname),
                            validated=kind == "CHECK",
                            comment=uncell(comment),
                        )
                    )
            self.snap.add(domain)

    def composite_types(self) -> None:
        for line_no, raw in self.object_headings("composite type"):
            schema, name = self.new_name(raw, line_no, "composite type", self.snap.composite_types)
            props = self.properties(("Comment",))
            composite = CompositeType(schema=schema, name=name, comment=_prop(props, "Comment"))
            self.subsection("Attributes")
            for row_no, (aname, type_, collation) in self.grid(ATTRIBUTES_HEAD):
                if aname == "" or type_ == "":
                    raise self.error("an attribute name and type", row_no)
                composite.attributes.append(
                    Attribute(
                        name=unescape(aname), type=unescape(type_), collation=uncell(collation)
                    )
                )
            self.snap.add(composite)

    def range_types(self) -> None:
        for line_no, cells in self.grid(RANGE_TYPES_HEAD):
            name, subtype, opclass, collation, canonical, diff, multirange, comment = cells
            schema, bare = self.new_name(name, line_no, "range type", self.snap.range_types)
            if subtype == "":
                raise self.error("the range's subtype", line_no)
            self.snap.add(
                RangeType(
                    schema=schema,
                    name=bare,
                    subtype=unescape(subtype),
                    subtype_opclass=uncell(opclass),
                    collation=uncell(collation),
                    canonical=uncell(canonical),
                    subtype_diff=uncell(diff),
                    multirange=uncell(multirange),
                    comment=uncell(comment),
                )
            )
        self.end_grid_section("range types")

    def functions(self) -> None:
        labels = (
            "Kind",
            "Arguments",
            "Returns",
            "Language",
            "Volatility",
            "Strict",
            "Security definer",
            "Parallel",
            "Leakproof",
            "Config",
            "Privileges",
            "Comment",
        )
        for line_no, raw in self.object_headings("function"):
            split = qualified_prefix(unescape(raw))
            if split is None or not (split[1].startswith("(") and split[1].endswith(")")):
                raise self.error("a function signature such as 'public.f(a integer)'", line_no)
            (schema, name), rest = split
            function = Function(schema=schema, name=name, identity_arguments=rest[1:-1])
            if function.signature in self.snap.functions:
                raise self.error("each function signature once", line_no)
            props = self.properties(labels)
            missing = [x for x in ("Kind", "Language", "Volatility", "Parallel") if x not in props]
            if missing:
                raise self.error(f"the '- {missing[0]}: ...' line of the function")
            function.kind = self.prop_choice(props, "Kind", _FUNCTION_KINDS)  # type: ignore[assignment]
            function.volatility = self.prop_choice(props, "Volatility", _VOLATILITIES)  # type: ignore[assignment]
            function.parallel = self.prop_choice(props, "Parallel", _PARALLEL)  # type: ignore[assignment]
            function.language = unescape(props["Language"][1])
            args = _prop(props, "Arguments")
            function.arguments = function.identity_arguments if args is None else args
            function.returns = _prop(props, "Returns")
            for label, attr in (
                ("Strict", "strict"),
                ("Security definer", "security_definer"),
                ("Leakproof", "leakproof"),
            ):
                if label in props:
                    setattr(function, attr, self.yes_no(props[label][1], props[label][0], label))
            if "Config" in props:
                function.config = unescape_list(props["Config"][1])
            if "Privileges" in props:
                prop_line, value = props["Privileges"]
                function.privileges = self.grants(value, prop_line, "Privileges")
            function.comment = _prop(props, "Comment")
            self.subsection("Body")
            function.body = self.code_block(FUNCTION_LANGS)
            self.snap.add(function)

    def prop_choice(
        self, props: dict[str, tuple[int, str]], label: str, allowed: tuple[str, ...]
    ) -> str:
        line_no, value = props[label]
        if value not in allowed:
            raise self.error(f"one of {', '.join(allowed)} after '- {label}:'", line_no)
        return value

    def extensions(self) -> None:
        for line_no, (name, version, schema) in self.grid(EXTENSIONS_HEAD):
            if name == "" or schema == "":
                raise self.error("an extension name and schema", line_no)
            extension = Extension(unescape(name), unescape(version), unescape(schema))
            if extension.name in self.snap.extensions:
                raise self.error("each extension once", line_no)
            self.snap.add(extension)
        self.end_grid_section("extensions")

    def schema_rows(self) -> None:
        for line_no, (name, comment, privileges) in self.grid(SCHEMAS_HEAD):
            if name == "":
                raise self.error("a schema name", line_no)
            schema = unescape(name)
            if schema in self.snap.schema_comments or schema in self.snap.schema_privileges:
                raise self.error("each schema once", line_no)
            if comment != "":
                self.snap.schema_comments[schema] = unescape(comment)
            grants = self.grants(privileges, line_no, "Privileges")
            if grants:
                self.snap.schema_privileges[schema] = grants
        self.end_grid_section("schemas")


def _prop(props: dict[str, tuple[int, str]], label: str) -> str | None:
    return unescape(props[label][1]) if label in props else None


_IDENT = r'(?:"(?:[^"]|"")*"|[^."()\s]+)'
_PREFIX_RE = re.compile(rf"({_IDENT}\.{_IDENT})(.*)\Z", re.S)


def qualified_prefix(text: str) -> tuple[tuple[str, str], str] | None:
    """``schema.name`` (quoted as PostgreSQL does) at the start of ``text``, and the rest."""
    m = _PREFIX_RE.match(text)
    parts = split_qualified(m.group(1)) if m else None
    if not m or not parts or len(parts) != 2:
        return None
    return (parts[0], parts[1]), m.group(2)
