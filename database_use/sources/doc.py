"""The doc source: parse ``.roo/docs/database_schema.md`` (as ``render_doc`` writes it) back.

``parse_doc(render_doc(s)).structure() == s.structure()`` for every snapshot. Parsing is
strict where a hand edit would silently change facts (an unknown section, a row with a
missing cell, an unknown value) and raises :class:`DocParseError` naming the line and what
was expected; it tolerates harmless edits (trailing whitespace, blank lines, CRLF line
ends). Derived parts of the doc — the contents, the "Key" column, "Referenced by", the
Mermaid diagrams — are skipped: the facts live in the per-table sections.
"""

from __future__ import annotations

import re
from pathlib import Path

from database_use import hints
from database_use.errors import DocParseError, NotFound
from database_use.render.doc import (
    COLUMNS_HEAD,
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
    NULLS_NOT_DISTINCT,
    PART_SEP,
    REFERENCED_BY_HEAD,
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

REGENERATE = f"regenerate it with: {hints.plain('generate-docs')}"
SECTIONS = ("Contents", "Tables", "Views", "Enums", "Relationships")
SUBSECTIONS = {
    "Columns": COLUMNS_HEAD,
    "Constraints": CONSTRAINTS_HEAD,
    "Foreign keys": FOREIGN_KEYS_HEAD,
    "Indexes": INDEXES_HEAD,
    "Referenced by": REFERENCED_BY_HEAD,
}
KINDS = ("table", "partitioned table", "view", "materialized view", "foreign table")
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


class _Parser:
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

    # -- helpers ------------------------------------------------------------------------
    def error(self, expected: str, line_no: int | None = None) -> DocParseError:
        n = self.i if line_no is None else line_no
        found = _shown(self.lines[n]) if n < len(self.lines) else "the end of the file"
        return DocParseError(
            f"schema doc line {n + 1}: expected {expected}, found {found}", hint=REGENERATE
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
            if name in ("Tables", "Views"):
                self.relations("table" if name == "Tables" else "view")
            elif name == "Enums":
                self.enums()
            else:
                self.skip_section()
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
        # Properties: "- Kind: ...", "- Comment: ..." before the first "####".
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or not line.startswith("- "):
                break
            label, sep, value = line[2:].partition(":")
            value = value.strip(" \t")
            if not sep or label not in ("Kind", "Comment"):
                raise self.error("'- Kind: ...' or '- Comment: ...'")
            if label == "Kind":
                if value not in KINDS:
                    raise self.error("a kind (" + ", ".join(KINDS) + ")")
                table.kind = value  # type: ignore[assignment]
            else:
                table.comment = unescape(value)
            self.i += 1
        seen: set[str] = set()
        while True:
            self.skip_blank()
            line = self.peek()
            if line is None or line.startswith(("## ", "### ")) or _ANCHOR_RE.match(line.strip()):
                break
            if not line.startswith("#### "):
                raise self.error(
                    "a '#### ' subsection (Columns, Constraints, Foreign keys, "
                    "Indexes, Referenced by, Definition)"
                )
            name = line[5:].strip(" \t")
            if name != "Definition" and name not in SUBSECTIONS:
                raise self.error(
                    "a known subsection (Columns, Constraints, Foreign keys, "
                    "Indexes, Referenced by, Definition)"
                )
            if name in seen:
                raise self.error(f"each subsection once ('{name}' appeared before)")
            seen.add(name)
            self.i += 1
            if name == "Definition":
                table.definition = self.code_block("sql")
                continue
            rows = self.grid(SUBSECTIONS[name])
            handler = {
                "Columns": self.columns,
                "Constraints": self.constraints,
                "Foreign keys": self.foreign_keys,
                "Indexes": self.indexes,
                "Referenced by": None,  # derived from the foreign keys: nothing to read
            }[name]
            if handler is not None:
                handler(table, rows)
        self.snap.add_table(table)

    def grid(self, head: tuple[str, ...]) -> list[tuple[int, list[str]]]:
        """A Markdown table with exactly ``head``; its rows as (line index, raw cells)."""
        self.skip_blank()
        cells = self.row_cells()
        if cells is None or [c.lower() for c in cells] != [h.lower() for h in head]:
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

    def code_block(self, lang: str) -> str:
        self.skip_blank()
        line = self.peek()
        m = _FENCE_RE.match(line or "")
        if not m or m.group(2) != lang:
            raise self.error(f"a ```{lang} code block")
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
                nullable=self.yes_no(nullable, line_no, "Nullable"),
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
        for line_no, (name, kind, columns, expression) in rows:
            if kind == "PRIMARY KEY":
                if table.primary_key is not None:
                    raise self.error("one PRIMARY KEY per table", line_no)
                table.primary_key = PrimaryKey(columns=unescape_list(columns), name=uncell(name))
            elif kind in ("UNIQUE", "UNIQUE NULLS NOT DISTINCT"):
                table.unique_constraints.append(
                    UniqueConstraint(
                        columns=unescape_list(columns),
                        name=uncell(name),
                        nulls_not_distinct=kind != "UNIQUE",
                    )
                )
            elif kind == "EXCLUDE":
                table.exclusion_constraints.append(
                    ExclusionConstraint(definition=unescape(expression), name=uncell(name))
                )
            elif kind in ("CHECK", "CHECK NOT VALID"):
                if expression == "":
                    raise self.error("the CHECK expression in the Expression cell", line_no)
                table.check_constraints.append(
                    CheckConstraint(
                        expression=unescape(expression),
                        name=uncell(name),
                        validated=kind == "CHECK",
                    )
                )
            else:
                raise self.error("PRIMARY KEY, UNIQUE, CHECK or EXCLUDE in the Type cell", line_no)

    def foreign_keys(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, cells in rows:
            name, columns, ref, ref_columns, on_delete, on_update, deferrable = cells
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
                )
            )

    def indexes(self, table: Table, rows: list[tuple[int, list[str]]]) -> None:
        for line_no, (name, columns, unique, method, where, include) in rows:
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
                )
            )

    # -- enums ----------------------------------------------------------------------------
    def enums(self) -> None:
        for line_no, (name, labels) in self.grid(ENUMS_HEAD):
            parts = split_qualified(unescape(name))
            if not parts or len(parts) != 2:
                raise self.error("a schema-qualified enum name such as 'public.user_role'", line_no)
            if f"{parts[0]}.{parts[1]}" in self.snap.enums:
                raise self.error("each enum once", line_no)
            self.snap.add_enum(
                EnumType(schema=parts[0], name=parts[1], labels=unescape_list(labels))
            )
        self.skip_blank()
        line = self.peek()
        if line is not None and not line.startswith("## "):
            raise self.error("the next '## ' section after the enums table")
