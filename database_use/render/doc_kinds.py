"""The schema doc's parts for the kinds of issue 12 (the rest is ``database_use.render.doc``).

Per table: triggers, policies, rules and privileges (column grants too). Sections of their
own: sequences, domains, composite and range types, functions (procedures, aggregates; the
body verbatim in a code block), extensions, and schemas (comments, privileges). Privileges in
one cell are ``grantee: PRIV PRIV`` items joined like a list, a privilege held WITH GRANT
OPTION marked ``*`` (as in PostgreSQL's ``aclitem``). Each part appears only when the
snapshot has something for it.
"""

from __future__ import annotations

from typing import Any

from database_use.render.doc_text import (
    by_name,
    cell,
    code_block,
    display_name,
    escape,
    escape_list,
    md_table,
    qualified,
    quote_ident,
    yes_no,
)
from database_use.schema.snapshot import Grant, Snapshot, Table

TRIGGERS_HEAD = (
    "Name",
    "Timing",
    "Events",
    "Level",
    "Function",
    "When",
    "Enabled",
    "Extra",
    "Comment",
)
POLICIES_HEAD = ("Name", "Command", "Type", "Roles", "Using", "With check", "Comment")
RULES_HEAD = ("Name", "Event", "Enabled", "Definition", "Comment")
TABLE_PRIVILEGES_HEAD = ("Grantee", "Column", "Privileges", "Grantable")
SEQUENCES_HEAD = (
    "Sequence",
    "Type",
    "Start",
    "Increment",
    "Min",
    "Max",
    "Cycle",
    "Cache",
    "Owned by",
    "Privileges",
    "Comment",
)
DOMAIN_CHECKS_HEAD = ("Name", "Type", "Expression", "Comment")
ATTRIBUTES_HEAD = ("Attribute", "Type", "Collation")
RANGE_TYPES_HEAD = (
    "Range type",
    "Subtype",
    "Subtype opclass",
    "Collation",
    "Canonical",
    "Subtype diff",
    "Multirange",
    "Comment",
)
EXTENSIONS_HEAD = ("Extension", "Version", "Schema")
SCHEMAS_HEAD = ("Schema", "Comment", "Privileges")
OBJECT_SECTIONS = (
    ("Sequences", "sequences"),
    ("Domains", "domains"),
    ("Composite types", "composite_types"),
    ("Range types", "range_types"),
    ("Functions", "functions"),
    ("Extensions", "extensions"),
)


def _grant_rows(grants: list[Grant]) -> list[list[str]]:
    return [
        [escape(g.grantee), cell(g.column), escape_list(g.privileges), escape_list(g.grantable)]
        for g in sorted(grants, key=_grant_key)
    ]


def _grant_key(g: Grant) -> tuple[Any, ...]:
    return (g.column is not None, g.column or "", g.grantee, g.privileges, g.grantable)


def grants_cell(grants: list[Grant]) -> str:
    """Privileges in one cell or line: ``grantee: PRIV PRIV*`` items (``*``: grantable)."""
    items = []
    for g in sorted(grants, key=_grant_key):
        privs = " ".join(p + ("*" if p in g.grantable else "") for p in g.privileges)
        items.append(escape(f"{g.grantee}: {privs}", list_item=True))
    return ", ".join(items)


def table_subsections(t: Table) -> list[str]:
    """Triggers, policies, rules and privileges: each only when the table has some."""
    out: list[str] = []
    if t.triggers:
        rows = [
            [
                escape(x.name),
                escape(x.timing),
                escape_list(x.events),
                escape(x.level),
                escape(x.function),
                cell(x.when),
                escape(x.enabled),
                cell(x.extra),
                cell(x.comment),
            ]
            for x in by_name(t.triggers)
        ]
        out += ["#### Triggers", "", *md_table(TRIGGERS_HEAD, rows), ""]
    if t.policies:
        rows = [
            [
                escape(p.name),
                escape(p.command),
                "permissive" if p.permissive else "restrictive",
                escape_list(p.roles),
                cell(p.using),
                cell(p.with_check),
                cell(p.comment),
            ]
            for p in by_name(t.policies)
        ]
        out += ["#### Policies", "", *md_table(POLICIES_HEAD, rows), ""]
    if t.rules:
        rows = [
            [
                escape(r.name),
                escape(r.event),
                escape(r.enabled),
                escape(r.definition),
                cell(r.comment),
            ]
            for r in by_name(t.rules)
        ]
        out += ["#### Rules", "", *md_table(RULES_HEAD, rows), ""]
    if t.privileges:
        out += [
            "#### Privileges",
            "",
            *md_table(TABLE_PRIVILEGES_HEAD, _grant_rows(t.privileges)),
            "",
        ]
    return out


def domain_type_spelling(schema: str, name: str) -> str:
    """How a column's type names a user type: schema-qualified only outside ``public``."""
    return quote_ident(name) if schema == "public" else qualified(schema, name)


def not_null_domain_types(snapshot: Snapshot) -> frozenset[str]:
    """The type spellings of domains that are NOT NULL themselves or through their base."""
    if not snapshot.domains:
        return frozenset()
    by_spelling = {domain_type_spelling(d.schema, d.name): d for d in snapshot.domains.values()}
    by_spelling.update({d.qualified_name: d for d in snapshot.domains.values()})
    out: set[str] = set()
    for spelling, domain in by_spelling.items():
        seen: set[str] = set()
        current = domain
        while current is not None and current.qualified_name not in seen:
            if not current.nullable:
                out.add(spelling)
                break
            seen.add(current.qualified_name)
            current = by_spelling.get(current.base_type)
    return frozenset(out)


# ---------------------------------------------------------------------------------------------
# kinds outside tables: sequences, domains, composite and range types, functions, extensions,
# schemas
# ---------------------------------------------------------------------------------------------
def _sorted_objects(objs: dict[str, Any]) -> list[Any]:
    return sorted(objs.values(), key=lambda o: (o.schema, o.name))


def _int_cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _render_sequences(snapshot: Snapshot) -> list[str]:
    rows = [
        [
            display_name(q.schema, q.name),
            escape(q.data_type),
            str(q.start),
            str(q.increment),
            _int_cell(q.min_value),
            _int_cell(q.max_value),
            yes_no(q.cycle),
            str(q.cache),
            cell(q.owned_by),
            grants_cell(q.privileges),
            cell(q.comment),
        ]
        for q in _sorted_objects(snapshot.sequences)
    ]
    return [*md_table(SEQUENCES_HEAD, rows), ""]


def _render_domains(snapshot: Snapshot) -> list[str]:
    out: list[str] = []
    for d in _sorted_objects(snapshot.domains):
        out += [f"### {display_name(d.schema, d.name)}", "", f"- Base type: {escape(d.base_type)}"]
        out.append(f"- Nullable: {yes_no(d.nullable)}")
        if d.default is not None:
            out.append(f"- Default: {escape(d.default)}")
        if d.collation is not None:
            out.append(f"- Collation: {escape(d.collation)}")
        if d.comment is not None:
            out.append(f"- Comment: {escape(d.comment)}")
        out.append("")
        if d.checks:
            rows = [
                [
                    cell(c.name),
                    "CHECK" if c.validated else "CHECK NOT VALID",
                    escape(c.expression),
                    cell(c.comment),
                ]
                for c in by_name(d.checks)
            ]
            out += ["#### Checks", "", *md_table(DOMAIN_CHECKS_HEAD, rows), ""]
    return out


def _render_composite_types(snapshot: Snapshot) -> list[str]:
    out: list[str] = []
    for c in _sorted_objects(snapshot.composite_types):
        out += [f"### {display_name(c.schema, c.name)}", ""]
        if c.comment is not None:
            out += [f"- Comment: {escape(c.comment)}", ""]
        rows = [[escape(a.name), escape(a.type), cell(a.collation)] for a in c.attributes]
        out += ["#### Attributes", "", *md_table(ATTRIBUTES_HEAD, rows), ""]
    return out


def _render_range_types(snapshot: Snapshot) -> list[str]:
    rows = [
        [
            display_name(r.schema, r.name),
            escape(r.subtype),
            cell(r.subtype_opclass),
            cell(r.collation),
            cell(r.canonical),
            cell(r.subtype_diff),
            cell(r.multirange),
            cell(r.comment),
        ]
        for r in _sorted_objects(snapshot.range_types)
    ]
    return [*md_table(RANGE_TYPES_HEAD, rows), ""]


FUNCTION_LANGS = ("sql", "text")  # the code block's info string: sql for SQL and PL/pgSQL


def function_heading(schema: str, name: str, identity_arguments: str) -> str:
    return escape(f"{qualified(schema, name)}({identity_arguments})")


def _render_functions(snapshot: Snapshot) -> list[str]:
    out: list[str] = []
    for f in sorted(snapshot.functions.values(), key=lambda f: (f.schema, f.name, f.signature)):
        out += [f"### {function_heading(f.schema, f.name, f.identity_arguments)}", ""]
        out.append(f"- Kind: {escape(f.kind)}")
        if f.arguments != f.identity_arguments:
            out.append(f"- Arguments: {escape(f.arguments)}")
        if f.returns is not None:
            out.append(f"- Returns: {escape(f.returns)}")
        out += [
            f"- Language: {escape(f.language)}",
            f"- Volatility: {escape(f.volatility)}",
            f"- Strict: {yes_no(f.strict)}",
            f"- Security definer: {yes_no(f.security_definer)}",
            f"- Parallel: {escape(f.parallel)}",
            f"- Leakproof: {yes_no(f.leakproof)}",
        ]
        if f.config:
            out.append(f"- Config: {escape_list(f.config)}")
        if f.privileges:
            out.append(f"- Privileges: {grants_cell(f.privileges)}")
        if f.comment is not None:
            out.append(f"- Comment: {escape(f.comment)}")
        lang = "sql" if f.language in ("sql", "plpgsql") else "text"
        out += ["", "#### Body", "", *code_block(lang, f.body), ""]
    return out


def _render_extensions(snapshot: Snapshot) -> list[str]:
    rows = [
        [escape(e.name), escape(e.version), escape(e.schema)]
        for e in sorted(snapshot.extensions.values(), key=lambda e: e.name)
    ]
    return [*md_table(EXTENSIONS_HEAD, rows), ""]


def _render_schemas(snapshot: Snapshot) -> list[str]:
    names = sorted(
        set(snapshot.schema_comments) | {k for k, v in snapshot.schema_privileges.items() if v}
    )
    rows = [
        [
            escape(name),
            cell(snapshot.schema_comments.get(name)),
            grants_cell(snapshot.schema_privileges.get(name, [])),
        ]
        for name in names
    ]
    return [*md_table(SCHEMAS_HEAD, rows), ""]


OBJECT_RENDERERS = {
    "Sequences": _render_sequences,
    "Domains": _render_domains,
    "Composite types": _render_composite_types,
    "Range types": _render_range_types,
    "Functions": _render_functions,
    "Extensions": _render_extensions,
    "Schemas": _render_schemas,
}
