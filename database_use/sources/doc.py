"""The doc source: parse ``.roo/docs/database_schema.md`` (as ``render_doc`` writes it) back.

``parse_doc(render_doc(s)).structure() == s.structure()`` for every snapshot. Parsing is
strict where a hand edit would silently change facts (an unknown section, a row with a
missing cell, an unknown value) and raises :class:`DocParseError` naming the line and what
was expected; it tolerates harmless edits (trailing whitespace, blank lines, CRLF line
ends). Derived parts of the doc — the contents, the "Key" column, "Referenced by", the
Mermaid diagrams, a partitioned table's partition tree, the "yes (domain NOT NULL)" note —
are skipped or read as the plain fact: the facts live in the per-table sections (a
partition's own "Partition of" line) and in the per-kind sections (read by
``database_use.sources.doc_kinds``). An error names the section, and the table, it is in.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from database_use import hints
from database_use.errors import DocParseError, NotFound
from database_use.render.doc import (
    COLUMNS_HEAD,
    COMMENT_HEAD,
    CONSTRAINTS_HEAD,
    DEFAULT_MARK,
    ENUMS_HEAD,
    FOREIGN_KEYS_HEAD,
    FORMAT_VERSION,
    GENERATED_MARK,
    HEADER_PREFIX,
    HEADER_RE,
    IDENTITY_MARK,
    INDEXES_HEAD,
    NULLABLE_DOMAIN,
    NULLS_NOT_DISTINCT,
    PART_SEP,
    PARTITIONS,
    REFERENCED_BY_HEAD,
)
from database_use.render.doc_kinds import (
    POLICIES_HEAD,
    RULES_HEAD,
    TABLE_PRIVILEGES_HEAD,
    TRIGGERS_HEAD,
)
from database_use.render.doc_text import (
    EMPTY,
    split_escaped,
    split_qualified,
    uncell,
    unescape,
    unescape_list,
)
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ExclusionConstraint,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    UniqueConstraint,
)
from database_use.sources.doc_kinds import KindsParser, qualified_prefix

REGENERATE = f"regenerate it with: {hints.plain('generate-docs')}"
SECTIONS = (
    "Contents",
    "Tables",
    "Views",
    "Enums",
    "Sequences",
    "Domains",
    "Composite types",
    "Range types",
    "Functions",
    "Extensions",
    "Schemas",
    "Relationships",
)
SUBSECTIONS = {
    "Columns": COLUMNS_HEAD,
    "Constraints": CONSTRAINTS_HEAD,
    "Foreign keys": FOREIGN_KEYS_HEAD,
    "Indexes": INDEXES_HEAD,
    "Triggers": TRIGGERS_HEAD,
    "Policies": POLICIES_HEAD,
    "Rules": RULES_HEAD,
    "Privileges": TABLE_PRIVILEGES_HEAD,
    "Referenced by": REFERENCED_BY_HEAD,
}
_SUBSECTION_NAMES = ", ".join([*SUBSECTIONS, PARTITIONS, "Definition"])
# Subsections whose table gains a last Comment column when any row has a comment.
_COMMENTED = ("Constraints", "Foreign keys", "Indexes")
KINDS = ("table", "partitioned table", "view", "materialized view", "foreign table")
TABLE_PROPERTIES = (
    "Kind",
    "Comment",
    "Partition key",
    "Partition of",
    "Partition bound",
    "Row-level security",
)
_RLS = {
    "enabled": (True, False),
    "enabled, forced": (True, True),
    "disabled, forced": (False, True),
}
_ANCHOR_RE = re.compile(r'^<a id="[^"]*"></a>$')
_FENCE_RE = re.compile(r"^(`{3,})([A-Za-z0-9_-]*)$")
_SEPARATOR_RE = re.compile(r"^\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?$")
_DEFERRABLE_RE = re.compile(r"^(yes|no)(, initially deferred)?(, not valid)?$")
_COLLATE_RE = re.compile(r'^(?P<type>.+) COLLATE "(?P<collation>(?:[^"]|"")+)"$')
_OPS_SEP = " ops "
_ACTION_RE = re.compile(r"^[A-Z][A-Z ]*$")
_MAX_SHOWN = 60


def doc_header_hash(text: str) -> str | None:
    """The schema hash written in the doc's header, or None when there is no valid header."""
    for line in text.split("\n", 40)[:40]:
        m = HEADER_RE.match(line.strip())
        if m:
            return m.group(1)
        if line.startswith("## "):
            break
    return None


def load_doc(path: str | Path) -> Snapshot:
    """Parse the doc at ``path``; NotFound when it does not exist yet."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(
            f"schema doc {path} does not exist",
            hint=f"run generate-docs: {hints.plain('generate-docs')}",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocParseError(f"{path}: not UTF-8 text (byte {exc.start})", hint=REGENERATE) from None
    try:
        return parse_doc(text)
    except DocParseError as exc:
        raise DocParseError(f"{path}: {exc.message}", hint=exc.hint) from None


def parse_doc(text: str) -> Snapshot:
    """The snapshot (source ``doc``) a schema doc describes; DocParseError names the line."""
    return _Parser(text).parse()


def _shown(line: str) -> str:
    line = line.strip()
    return repr(line if len(line) <= _MAX_SHOWN else line[:_MAX_SHOWN] + "…")


class _Parser(KindsParser):
    def __init__(self, text: str) -> None:
        text = text.removeprefix("\ufeff")
        # A doc checked out with CRLF line ends (every line) is still the same doc; a lone
        # CR inside a view definition is content and stays.
        if "\r\n" in text and text.count("\r\n") == text.count("\n"):
            text = text.replace("\r\n", "\n")
        self.lines = text.split("\n")
        self.i = 0
        self.snap = Snapshot(source="doc")
        self.table: Table | None = None
        self.where: str | None = None  # the section (and table) being read, for errors

    # -- helpers ------------------------------------------------------------------------
    def error(self, expected: str, line_no: int | None = None) -> DocParseError:
        n = self.i if line_no is None else line_no
        found = _shown(self.lines[n]) if n < len(self.lines) else "the end of the file"
        where = f" (in {self.where})" if self.where else ""
        return DocParseError(
            f"schema doc line {n + 1}: expected {expected}{where}, found {found}", hint=REGENERATE
        )

    def peek(self) -> str | None:
        return self.lines[self.i].rstrip(" \t\r") if self.i < len(self.lines) else None

    def skip_blank(self) -> None:
        while self.i < len(self.lines) and not self.lines[self.i].strip():
            self.i += 1

    # -- document -------------------------------------------------------------------------
    def parse(self) -> Snapshot:
        self.preamble()
        seen: set[str] = set()
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None:
                break
            if not line.startswith("## "):
                raise self.error("a '## ' section heading (" + ", ".join(SECTIONS) + ")")
            name = line[3:].strip(" \t")
            if name not in SECTIONS:
                raise self.error("a known section (" + ", ".join(SECTIONS) + ")")
            if name in seen:
                raise self.error(f"each section once ('{name}' appeared before)")
            seen.add(name)
            self.i += 1
            self.where = f"the {name} section"
            if name in ("Tables", "Views"):
                self.relations("table" if name == "Tables" else "view")
            elif name in ("Contents", "Relationships"):
                self.skip_section()
            else:
                handler = {
                    "Enums": self.enums,
                    "Sequences": self.sequences,
                    "Domains": self.domains,
                    "Composite types": self.composite_types,
                    "Range types": self.range_types,
                    "Functions": self.functions,
                    "Extensions": self.extensions,
                    "Schemas": self.schema_rows,
                }[name]
                handler()
            self.where = None
        return self.snap

    def preamble(self) -> None:
        header_found = False
        while self.i < len(self.lines):
            line = self.lines[self.i].strip()
            if line.startswith("## "):
                break
            if line.startswith(HEADER_PREFIX):
                m = HEADER_RE.match(line)
                if not m:
                    raise self.error(
                        "the header '<!-- database-use: schema-hash=<hex> format=1 -->'"
                    )
                if int(m.group(2)) != FORMAT_VERSION:
                    raise self.error(f"doc format {FORMAT_VERSION} (this one is newer or older)")
                header_found = True
            elif line.startswith("- Schemas:"):
                for schema in unescape_list(line[len("- Schemas:") :]):
                    if schema not in self.snap.schemas:
                        self.snap.schemas.append(schema)
            self.i += 1
        if not header_found:
            raise self.error(
                "the header '<!-- database-use: schema-hash=<hex> format=1 -->' before the "
                "first section",
                line_no=0,
            )

    def skip_section(self) -> None:
        fence: str | None = None
        while self.i < len(self.lines):
            line = self.lines[self.i].rstrip()
            if fence is None:
                if line.startswith("## "):
                    return
                m = _FENCE_RE.match(line)
                if m:
                    fence = m.group(1)
            elif line == fence:
                fence = None
            self.i += 1
        if fence is not None:
            raise self.error(f"the closing {fence} of a code block")

    # -- tables and views -----------------------------------------------------------------
    def relations(self, default_kind: str) -> None:
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or line.startswith("## "):
                return
            if _ANCHOR_RE.match(line.strip()):
                self.i += 1
                continue
            if not line.startswith("### "):
                raise self.error("a '### schema.table' heading")
            self.relation(line[4:].strip(" \t"), default_kind)

    def relation(self, raw_name: str, default_kind: str) -> None:
        parts = split_qualified(unescape(raw_name))
        if not parts or len(parts) != 2:
            raise self.error("a schema-qualified table name such as 'public.users'")
        key = f"{parts[0]}.{parts[1]}"
        if key in self.snap.tables:
            raise self.error(f"each table once ('{key}' appeared before)")
        table = Table(schema=parts[0], name=parts[1], kind=default_kind)  # type: ignore[arg-type]
        self.i += 1
        section = self.where
        self.where = f"{section}, table {key}"
        props = self.properties(TABLE_PROPERTIES)
        self.table_properties(table, props)
        seen: set[str] = set()
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or line.startswith(("## ", "### ")) or _ANCHOR_RE.match(line.strip()):
                break
            if not line.startswith("#### "):
                raise self.error(f"a '#### ' subsection ({_SUBSECTION_NAMES})")
            name = line[5:].strip(" \t")
            if name not in ("Definition", PARTITIONS) and name not in SUBSECTIONS:
                raise self.error(f"a known subsection ({_SUBSECTION_NAMES})")
            if name in seen:
                raise self.error(f"each subsection once ('{name}' appeared before)")
            seen.add(name)
            self.i += 1
            if name == "Definition":
                table.definition = self.code_block("sql")
                continue
            if name == PARTITIONS:
                self.skip_list()  # derived from each partition's "Partition of" line
                continue
            rows = self.grid(
                SUBSECTIONS[name], may_comment=name in _COMMENTED, heading=(name, self.i - 1)
            )
            handler = {
                "Columns": self.columns,
                "Constraints": self.constraints,
                "Foreign keys": self.foreign_keys,
                "Indexes": self.indexes,
                "Triggers": self.triggers,
                "Policies": self.policies,
                "Rules": self.rules,
                "Privileges": self.table_privileges,
                "Referenced by": None,  # derived from the foreign keys: nothing to read
            }[name]
            if handler is not None:
                handler(table, rows)
        self.where = section
        self.snap.add_table(table)

    def properties(self, allowed: tuple[str, ...]) -> dict[str, tuple[int, str]]:
        """The ``- Label: value`` lines here: label → (line index, raw value)."""
        found: dict[str, tuple[int, str]] = {}
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or not line.startswith("- "):
                return found
            label, sep, value = line[2:].partition(":")
            if not sep or label not in allowed:
                raise self.error(
                    "a property line (" + ", ".join(f"'- {a}: ...'" for a in allowed) + ")"
                )
            if label in found:
                raise self.error(f"each property once ('{label}' appeared before)")
            found[label] = (self.i, value.strip(" \t"))
            self.i += 1

    def table_properties(self, table: Table, props: dict[str, tuple[int, str]]) -> None:
        if "Kind" in props:
            line_no, value = props["Kind"]
            if value not in KINDS:
                raise self.error("a kind (" + ", ".join(KINDS) + ")", line_no)
            table.kind = value  # type: ignore[assignment]
        if "Comment" in props:
            table.comment = unescape(props["Comment"][1])
        if "Partition key" in props:
            table.partition_key = unescape(props["Partition key"][1])
        if "Partition bound" in props:
            table.partition_bound = unescape(props["Partition bound"][1])
        if "Partition of" in props:
            line_no, value = props["Partition of"]
            # An empty bound is the bare marker (a bound that reads "*(empty)*" is escaped).
            empty_bound = value.endswith(" " + EMPTY)
            split = qualified_prefix(unescape(value.removesuffix(" " + EMPTY)))
            if split is None or (split[1] and not split[1].startswith(" ")):
                raise self.error(
                    "'- Partition of: schema.parent FOR VALUES ...' (or DEFAULT)", line_no
                )
            (schema, name), rest = split
            table.partition_of = f"{schema}.{name}"
            table.partition_bound = "" if empty_bound else rest[1:] if rest else None
        if "Row-level security" in props:
            line_no, value = props["Row-level security"]
            if value not in _RLS:
                raise self.error(
                    "'enabled', 'enabled, forced' or 'disabled, forced' for row-level security",
                    line_no,
                )
            table.rls_enabled, table.rls_forced = _RLS[value]

    def skip_list(self) -> None:
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or not line.lstrip(" ").startswith("- "):
                return
            self.i += 1

    def grid(
        self,
        head: tuple[str, ...],
        *,
        may_comment: bool = False,
        heading: tuple[str, int] | None = None,
    ) -> list[tuple[int, list[str]]]:
        """A Markdown table with exactly ``head`` (and a last Comment column when
        ``may_comment``); its rows as (line index, raw cells). ``heading``: the subsection
        (name, line) the table is under, named when the table is another subsection's."""
        self.skip_blank()
        cells = self.row_cells()
        got = tuple(c.lower() for c in cells) if cells is not None else None
        if may_comment and got == _lower((*head, COMMENT_HEAD)):
            head = (*head, COMMENT_HEAD)
        if got != _lower(head):
            other = _HEAD_OWNER.get(got) if got is not None else None
            if heading is not None and other is not None and other != heading[0]:
                raise self.error(
                    f"a known subsection heading for the table below it (that table is "
                    f"'{other}', not '{heading[0]}')",
                    heading[1],
                )
            raise self.error("the table header | " + " | ".join(head) + " |")
        self.i += 1
        line = self.peek()
        if line is None or not _SEPARATOR_RE.match(line.strip()) or line.count("|") < len(head) - 1:
            raise self.error("the table separator | --- | ... |")
        self.i += 1
        rows: list[tuple[int, list[str]]] = []
        while True:
            cells = self.row_cells()
            if cells is None:
                return rows
            if len(cells) != len(head):
                raise self.error(f"{len(head)} cells (" + " | ".join(head) + f"), got {len(cells)}")
            rows.append((self.i, cells))
            self.i += 1

    def row_cells(self) -> list[str] | None:
        line = self.peek()
        if line is None:
            return None
        line = line.strip(" \t")
        if not line.startswith("|"):
            return None
        cells = [c.strip(" \t") for c in split_escaped(line[1:], "|")]
        if cells and cells[-1] == "":
            cells.pop()  # the closing pipe
        return cells

    def code_block(self, lang: str | tuple[str, ...]) -> str:
        langs = (lang,) if isinstance(lang, str) else lang
        self.skip_blank()
        line = self.peek()
        m = _FENCE_RE.match(line or "")
        if not m or m.group(2) not in langs:
            raise self.error(" or ".join(f"a ```{x} code block" for x in langs))
        fence, start = m.group(1), self.i
        self.i += 1
        body: list[str] = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.rstrip() == fence:
                self.i += 1
                return "\n".join(body)
            body.append(line)
            self.i += 1
        raise self.error(f"the closing {fence} of the code block opened on line {start + 1}")

    # -- table sections -------------------------------------------------------------------
    def yes_no(self, raw: str, line_no: int, what: str) -> bool:
        if raw not in ("yes", "no"):
            raise self.error(f"'yes' or 'no' in the {what} cell", line_no)
        return raw == "yes"

    def columns(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for position, (line_no, cells) in enumerate(rows, start=1):
            name, type_, nullable, default, _key, comment = cells
            if not name or not type_:
                raise self.error("a column name and type", line_no)
            type_text, collation = unescape(type_), None
            m = _COLLATE_RE.match(type_text)
            if m:
                type_text, collation = m.group("type"), m.group("collation").replace('""', '"')
            column = Column(
                name=unescape(name),
                type=type_text,
                collation=collation,
                nullable=nullable == NULLABLE_DOMAIN or self.yes_no(nullable, line_no, "Nullable"),
                comment=uncell(comment),
                position=position,
            )
            self.default_cell(column, default, line_no)
            table.columns.append(column)

    def default_cell(self, column: Column, raw: str, line_no: int) -> None:
        if raw == "":
            return
        parts = raw.split(PART_SEP)
        marks = {v: k for k, v in IDENTITY_MARK.items()}
        for part in parts:
            if part in marks:
                column.identity = marks[part]  # type: ignore[assignment]
            elif part.startswith(GENERATED_MARK + " "):
                column.generated = unescape(part[len(GENERATED_MARK) + 1 :])
            elif part.startswith(DEFAULT_MARK + " "):
                column.default = unescape(part[len(DEFAULT_MARK) + 1 :])
            elif part.startswith("*") and not part.startswith("*(empty)*"):
                raise self.error(
                    "a default expression, *identity always*, *identity by default* or "
                    "*generated* <expression> in the Default cell",
                    line_no,
                )
            else:
                column.default = unescape(part)

    def constraints(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, kind, columns, expression = cells[:4]
            comment = _comment_cell(cells, 4)
            if kind == "PRIMARY KEY":
                if table.primary_key is not None:
                    raise self.error("one PRIMARY KEY per table", line_no)
                table.primary_key = PrimaryKey(
                    columns=unescape_list(columns), name=uncell(name), comment=comment
                )
            elif kind in ("UNIQUE", "UNIQUE NULLS NOT DISTINCT"):
                table.unique_constraints.append(
                    UniqueConstraint(
                        columns=unescape_list(columns),
                        name=uncell(name),
                        nulls_not_distinct=kind != "UNIQUE",
                        comment=comment,
                    )
                )
            elif kind == "EXCLUDE":
                table.exclusion_constraints.append(
                    ExclusionConstraint(
                        definition=unescape(expression), name=uncell(name), comment=comment
                    )
                )
            elif kind in ("CHECK", "CHECK NOT VALID"):
                if expression == "":
                    raise self.error("the CHECK expression in the Expression cell", line_no)
                table.check_constraints.append(
                    CheckConstraint(
                        expression=unescape(expression),
                        name=uncell(name),
                        validated=kind == "CHECK",
                        comment=comment,
                    )
                )
            else:
                raise self.error("PRIMARY KEY, UNIQUE, CHECK or EXCLUDE in the Type cell", line_no)

    def foreign_keys(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, columns, ref, ref_columns, on_delete, on_update, deferrable = cells[:7]
            parts = split_qualified(unescape(ref))
            if not parts or len(parts) != 2:
                raise self.error("a schema-qualified table in the References cell", line_no)
            m = _DEFERRABLE_RE.match(deferrable)
            if not m:
                raise self.error(
                    "'yes', 'no' or '…, initially deferred' in the Deferrable cell", line_no
                )
            actions = [unescape(on_delete), unescape(on_update)]
            if not all(_ACTION_RE.match(a) for a in actions):
                raise self.error("a referential action such as CASCADE or NO ACTION", line_no)
            table.foreign_keys.append(
                ForeignKey(
                    columns=unescape_list(columns),
                    ref_table=f"{parts[0]}.{parts[1]}",
                    ref_columns=unescape_list(ref_columns),
                    name=uncell(name),
                    on_delete=actions[0],
                    on_update=actions[1],
                    deferrable=m.group(1) == "yes",
                    initially_deferred=m.group(2) is not None,
                    validated=m.group(3) is None,
                    comment=_comment_cell(cells, 7),
                )
            )

    def indexes(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, columns, unique, method, where, include = cells[:6]
            if method == "":
                raise self.error("an index method such as btree", line_no)
            method, _, ops = method.partition(_OPS_SEP)
            nnd = unique.endswith(NULLS_NOT_DISTINCT)
            unique = unique.removesuffix(NULLS_NOT_DISTINCT)
            opclasses = [o if o != "default" else "" for o in unescape_list(ops)] if ops else []
            table.indexes.append(
                Index(
                    columns=unescape_list(columns),
                    name=uncell(name),
                    unique=self.yes_no(unique, line_no, "Unique"),
                    method=unescape(method),
                    opclasses=opclasses,
                    nulls_not_distinct=nnd,
                    where=uncell(where),
                    include=unescape_list(include),
                    comment=_comment_cell(cells, 6),
                )
            )

    # -- enums ----------------------------------------------------------------------------
    def enums(self) -> None:
        for line_no, cells in self.grid(ENUMS_HEAD, may_comment=True):
            name, labels = cells[:2]
            parts = split_qualified(unescape(name))
            if not parts or len(parts) != 2:
                raise self.error("a schema-qualified enum name such as 'public.user_role'", line_no)
            if f"{parts[0]}.{parts[1]}" in self.snap.enums:
                raise self.error("each enum once", line_no)
            self.snap.add_enum(
                EnumType(
                    schema=parts[0],
                    name=parts[1],
                    labels=unescape_list(labels),
                    comment=_comment_cell(cells, 2),
                )
            )
        self.end_grid_section("enums")

    def end_grid_section(self, what: str) -> None:
        self.skip_blank()
        line = self.peek()
        if line is not None and not line.startswith("## "):
            raise self.error(f"the next '## ' section after the {what} table")


@lru_cache(maxsize=64)
def _lower(head: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(h.lower() for h in head)


# A subsection's table header (with and without the Comment column) → the subsection.
_HEAD_OWNER = {
    _lower(h): name
    for name, head in SUBSECTIONS.items()
    for h in ((head, (*head, COMMENT_HEAD)) if name in _COMMENTED else (head,))
}


def _comment_cell(cells: list[str], index: int) -> str | None:
    return uncell(cells[index]) if len(cells) > index else None
