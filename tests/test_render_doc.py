"""The schema doc: golden file, determinism, escaping, render → parse round trip, errors.

Pure tests: snapshots are built in code. ``UPDATE_GOLDEN=1 pytest tests/test_render_doc.py``
rewrites ``tests/golden/example_schema.md`` after an intended format change (review the
git diff of the golden file before committing it).
"""

from __future__ import annotations

import copy
import os
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from database_use.errors import DocParseError, NotFound
from database_use.render.doc import (
    MERMAID_MAX_ENTITIES,
    escape,
    escape_list,
    qualified,
    render_doc,
    split_qualified,
    unescape,
    unescape_list,
)
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    UniqueConstraint,
)
from database_use.sources.doc import doc_header_hash, load_doc, parse_doc
from tests.conftest import REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "golden" / "example_schema.md"


def example_snapshot() -> Snapshot:
    """The example app's schema (models/models_user.py, models_media.py) as the live DB has it."""
    snap = Snapshot(source="db", server_version="16.4")
    snap.add_enum(EnumType("public", "user_role", ["admin", "editor", "viewer"]))
    snap.add_enum(EnumType("public", "media_kind", ["image", "video", "audio", "document"]))
    tstz = "timestamp with time zone"
    snap.add_table(
        Table(
            schema="public",
            name="users",
            comment="People who can sign in to the app",
            columns=[
                Column("id", "bigint", False, identity="by default", position=1),
                Column("email", "character varying(255)", False, position=2),
                Column("username", "character varying(64)", False, position=3),
                Column(
                    "pw_hashed",
                    "character varying(255)",
                    False,
                    comment="argon2id hash; never the plain password",
                    position=4,
                ),
                Column("role", "user_role", False, default="'viewer'", position=5),
                Column("is_active", "boolean", False, default="true", position=6),
                Column("created_at", tstz, False, default="now()", position=7),
                Column("last_login_at", tstz, True, position=8),
            ],
            primary_key=PrimaryKey(["id"], "pk_users"),
            unique_constraints=[UniqueConstraint(["email"], "uq_users_email")],
            estimated_rows=1200,
            size_bytes=98304,
        )
    )
    snap.add_table(
        Table(
            schema="public",
            name="media",
            comment="Files uploaded by users",
            columns=[
                Column("id", "bigint", False, identity="by default", position=1),
                Column("owner_id", "bigint", False, position=2),
                Column("kind", "media_kind", False, position=3),
                Column(
                    "path", "text", False, comment="Path relative to the media root", position=4
                ),
                Column("size_bytes", "bigint", False, default="0", position=5),
                Column("metadata", "jsonb", True, default="'{}'", position=6),
                Column("created_at", tstz, False, default="now()", position=7),
            ],
            primary_key=PrimaryKey(["id"], "pk_media"),
            foreign_keys=[
                ForeignKey(
                    ["owner_id"],
                    "public.users",
                    ["id"],
                    "fk_media_owner_id_users",
                    on_delete="CASCADE",
                )
            ],
            indexes=[Index(["owner_id", "kind"], "ix_media_owner_id_kind")],
            unique_constraints=[UniqueConstraint(["owner_id", "path"], "uq_media_owner_id_path")],
            check_constraints=[
                CheckConstraint("size_bytes >= 0", "ck_media_size_bytes_non_negative")
            ],
            estimated_rows=5400,
        )
    )
    snap.add_table(
        Table(
            schema="public",
            name="active_users",
            kind="view",
            comment="Users allowed to sign in",
            columns=[
                Column("id", "bigint", True, position=1),
                Column("email", "character varying(255)", True, position=2),
            ],
            definition=" SELECT id,\n    email\n   FROM users\n  WHERE is_active;",
        )
    )
    return snap


def hostile_snapshot() -> Snapshot:
    snap = Snapshot(source="db")
    snap.add_enum(EnumType("Weird Schema", "Mood|Type", ["ok", "a, b", "it's `x`", "<b>", ""]))
    snap.add_table(
        Table(
            schema="Weird Schema",
            name='Order "Lines".v2',
            kind="table",
            comment="pipes | and `ticks` and *stars* and _under_\nsecond line <script>alert(1)</script>",
            columns=[
                Column("ID", "integer", False, identity="always", position=1),
                Column(
                    "a|b", "text", True, default="'x|y'::text", comment="  padded  ", position=2
                ),
                Column(
                    "select", "character varying(10)[]", True, comment="ünïcødé ✓ 表", position=3
                ),
                Column("line\nbreak", "numeric(12,2)", False, generated='("ID" * 2)', position=4),
                Column("tab\there", "user_role", True, default="'<none>'", position=5),
            ],
            primary_key=PrimaryKey(["ID"], "pk weird"),
            indexes=[
                Index(
                    ['lower("a|b")', "coalesce(select, 'x, y')"],
                    "ix|expr",
                    unique=True,
                    method="gin",
                    where="(\"a|b\" <> '')",
                    include=["select"],
                )
            ],
            check_constraints=[CheckConstraint('length("a|b") > 0 AND "a|b" !~ \'\\*\'', None)],
        )
    )
    snap.add_table(
        Table(
            schema="public",
            name="child",
            columns=[Column("parent_id", "integer", True, position=1)],
            foreign_keys=[
                ForeignKey(
                    ["parent_id"],
                    'Weird Schema.Order "Lines".v2',
                    ["ID"],
                    None,
                    on_delete="SET NULL",
                    on_update="CASCADE",
                    deferrable=True,
                    initially_deferred=True,
                )
            ],
        )
    )
    return snap


# --------------------------------------------------------------------------------------------
# golden file and determinism
# --------------------------------------------------------------------------------------------
def test_golden_file() -> None:
    text = render_doc(example_snapshot())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), "run UPDATE_GOLDEN=1 pytest tests/test_render_doc.py once"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_rendering_is_byte_identical_and_ignores_order_and_statistics() -> None:
    first = render_doc(example_snapshot())
    assert render_doc(example_snapshot()) == first
    shuffled = example_snapshot()
    rng = random.Random(7)
    items = list(shuffled.tables.items())
    rng.shuffle(items)
    shuffled.tables = dict(reversed(items))
    shuffled.enums = dict(reversed(list(shuffled.enums.items())))
    for table in shuffled.tables.values():
        table.estimated_rows, table.size_bytes = 10**9, 10**12
        table.unique_constraints.reverse()
        table.indexes.reverse()
    shuffled.server_version = "17.0"
    shuffled.source = "models"
    assert render_doc(shuffled) == first


def test_doc_contents() -> None:
    text = render_doc(example_snapshot())
    snap = example_snapshot()
    assert text.startswith(f"<!-- database-use: schema-hash={snap.schema_hash()} format=1 -->\n")
    assert doc_header_hash(text) == snap.schema_hash()
    assert "do not edit by hand" in text and "`database-use generate-docs`" in text
    assert "- [public.users](#t-public-users)" in text and '<a id="t-public-users"></a>' in text
    assert "| id | bigint | no | *identity by default* | PK |  |" in text
    assert "| owner_id | bigint | no |  | FK → public.users.id |  |" in text
    assert "| metadata | jsonb | yes | '{}' |  |  |" in text
    assert (
        "| fk_media_owner_id_users | owner_id | public.users | id | CASCADE | NO ACTION | no |"
        in text
    )
    assert "| ck_media_size_bytes_non_negative | CHECK |  | size_bytes >= 0 |" in text
    assert (
        "| public.media | owner_id | id | fk_media_owner_id_users | CASCADE |" in text
    )  # referenced by
    assert "| public.user_role | admin, editor, viewer |" in text
    assert "```sql\n SELECT id,\n    email\n   FROM users\n  WHERE is_active;\n```" in text
    assert '"users" ||--o{ "media" : "owner_id"' in text
    for stat in ("1200", "98304", "5400", "16.4"):
        assert stat not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.split("\n"))


def test_header_hash_reader() -> None:
    assert doc_header_hash("# no header\n") is None
    assert doc_header_hash("<!-- database-use: schema-hash=abc123 format=1 -->\n# x") == "abc123"
    assert (
        doc_header_hash("# t\n\n## Tables\n<!-- database-use: schema-hash=ab format=1 -->") is None
    )


# --------------------------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------------------------
_RAW_PIPE = re.compile(r"(?<!\\)\|")
_RAW_TAG = re.compile(r"(?<!\\)<(?!br>|a id=\"|/a>|!-- database-use)")


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "a|b",
        "`code`",
        "*x*",
        "_x_",
        "owner_id",
        "<script>",
        "a & b",
        "line\nbreak",
        " lead",
        "trail ",
        "\t",
        "back\\slash",
        "\\|",
        "&lt;",
        "<br>",
        "ünïcødé",
        "\u202eevil",
        "#hash",
        "[link](x)",
        "~~s~~",
        "$x$",
        "",
        "a,b",
        "> quote",
        "AT&T;",
        "&#32;",
        "a > b",
    ],
)
def test_escape_round_trip_and_is_markdown_safe(value: str) -> None:
    escaped = escape(value)
    assert unescape(escaped) == value
    assert "\n" not in escaped and not _RAW_PIPE.search(escaped)
    assert not _RAW_TAG.search(escaped)
    assert not escaped.startswith(" ") and not escaped.endswith(" ")
    assert unescape_list(escape_list([value, value])) == [value, value]


def test_owner_id_keeps_its_underscore_but_edges_are_escaped() -> None:
    assert escape("owner_id") == "owner_id"
    assert escape("_private_") == "\\_private\\_"


@pytest.mark.parametrize(
    "schema,name",
    [
        ("public", "users"),
        ("Sales", "Order Lines"),
        ("a.b", "c"),
        ("a", "b.c"),
        ("q", 'say "hi"'),
        ("", "x"),
        ("public", "User"),
    ],
)
def test_qualified_names_split_back(schema: str, name: str) -> None:
    assert split_qualified(qualified(schema, name)) == [schema, name]


def test_hostile_names_render_safely_and_round_trip() -> None:
    snap = hostile_snapshot()
    text = render_doc(snap)
    assert not _RAW_TAG.search(text) and "\\<script>alert(1)\\</script>" in text
    assert '### "Weird Schema"."Order ""Lines"".v2"' in text
    # every table row of every Markdown table has the header's number of cells
    lines = text.split("\n")
    for no, line in enumerate(lines):
        if line.startswith("| ") and lines[no - 1].startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)
            header = re.split(r"(?<!\\)\|", lines[no - 1])
            assert len(cells) == len(header), line
    parsed = parse_doc(text)
    assert parsed.structure() == snap.structure()
    assert parsed.schema_hash() == doc_header_hash(text) == snap.schema_hash()
    assert parsed.source == "doc"


def test_example_round_trip() -> None:
    snap = example_snapshot()
    parsed = parse_doc(render_doc(snap))
    assert parsed.structure() == snap.structure()
    assert [c.position for c in parsed.tables["public.users"].columns] == list(range(1, 9))
    assert parsed.schemas == ["public"]
    assert render_doc(parsed) == render_doc(snap)


def test_empty_snapshot_round_trip() -> None:
    snap = Snapshot(source="db", schemas=["public"])
    text = render_doc(snap)
    assert "No foreign keys." in text
    assert parse_doc(text).structure() == snap.structure()


# --------------------------------------------------------------------------------------------
# property-based round trip
# --------------------------------------------------------------------------------------------
_AWKWARD = st.sampled_from(
    [
        "|",
        "`",
        "*",
        "_",
        "<",
        ">",
        "&",
        "\n",
        " ",
        "\t",
        '"',
        ".",
        ",",
        "\\",
        "#",
        "[",
        "]",
        "~",
        "$",
        "<br>",
        "&amp;",
        "*(empty)*",
        " *and* ",
        "é",
        "表",
        "\u202e",
        "\r",
        "\x00",
        "```",
        "## ",
        "- Kind: ",
        "| --- |",
    ]
)
_TEXT = st.lists(
    st.one_of(
        _AWKWARD,
        st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
        st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
    ),
    max_size=4,
).map("".join)
_NAME = _TEXT.filter(bool)
_ACTIONS = st.sampled_from(["NO ACTION", "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"])


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    snap = Snapshot(source="db")
    for _ in range(draw(st.integers(0, 4))):
        cols = [
            Column(
                name=draw(_NAME),
                type=draw(_NAME),
                nullable=draw(st.booleans()),
                default=draw(st.none() | _TEXT),
                identity=draw(st.sampled_from([None, "always", "by default"])),
                generated=draw(st.none() | _TEXT),
                comment=draw(st.none() | _TEXT),
                position=i + 1,
            )
            for i in range(draw(st.integers(0, 4)))
        ]
        names = [c.name for c in cols] or ["x"]
        some = st.lists(st.sampled_from(names), min_size=1, max_size=3)
        snap.add_table(
            Table(
                schema=draw(_NAME),
                name=draw(_NAME),
                kind=draw(
                    st.sampled_from(
                        ["table", "partitioned table", "view", "materialized view", "foreign table"]
                    )
                ),
                columns=cols,
                primary_key=draw(st.none() | st.builds(PrimaryKey, some, st.none() | _NAME)),
                indexes=draw(
                    st.lists(
                        st.builds(
                            Index,
                            st.lists(_NAME, max_size=3),
                            st.none() | _NAME,
                            st.booleans(),
                            _NAME,
                            st.none() | _TEXT,
                            st.lists(_NAME, max_size=2),
                        ),
                        max_size=2,
                    )
                ),
                unique_constraints=draw(
                    st.lists(st.builds(UniqueConstraint, some, st.none() | _NAME), max_size=2)
                ),
                check_constraints=draw(
                    st.lists(st.builds(CheckConstraint, _TEXT, st.none() | _NAME), max_size=2)
                ),
                comment=draw(st.none() | _TEXT),
                definition=draw(st.none() | _TEXT),
            )
        )
    keys = list(snap.tables)
    for table in list(snap.tables.values()):
        if keys and draw(st.booleans()):
            table.foreign_keys.append(
                ForeignKey(
                    columns=draw(st.lists(_NAME, min_size=1, max_size=2)),
                    ref_table=draw(st.sampled_from(keys)),
                    ref_columns=draw(st.lists(_NAME, min_size=1, max_size=2)),
                    name=draw(st.none() | _NAME),
                    on_delete=draw(_ACTIONS),
                    on_update=draw(_ACTIONS),
                    deferrable=draw(st.booleans()),
                    initially_deferred=draw(st.booleans()),
                )
            )
    for _ in range(draw(st.integers(0, 2))):
        snap.add_enum(EnumType(draw(_NAME), draw(_NAME), draw(st.lists(_TEXT, max_size=4))))
    return snap


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_round_trip_property(snap: Snapshot) -> None:
    text = render_doc(snap)
    parsed = parse_doc(text)
    assert parsed.structure() == snap.structure()
    assert doc_header_hash(text) == parsed.schema_hash()
    assert render_doc(parsed) == text


# --------------------------------------------------------------------------------------------
# hand edits: tolerated or a one-line error naming the line
# --------------------------------------------------------------------------------------------
def test_harmless_hand_edits_are_tolerated() -> None:
    snap = example_snapshot()
    text = render_doc(snap)
    edited = "\n".join(line + "  " if line else "" for line in text.split("\n"))
    edited = edited.replace("\n## Enums", "\n\n\n## Enums").replace(
        "\n### public.media", "\n\n### public.media"
    )
    # trailing whitespace inside a view definition would be content; keep that block as-is
    edited = edited.replace("WHERE is_active;  ", "WHERE is_active;")
    for line in ("   FROM users", "    email", " SELECT id,"):
        edited = edited.replace(line + "  ", line)
    assert parse_doc(edited).structure() == snap.structure()
    assert parse_doc(text.replace("\n", "\r\n")).structure() == snap.structure()


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def _expect_error(text: str, line_no: int, *fragments: str) -> str:
    with pytest.raises(DocParseError) as info:
        parse_doc(text)
    message = str(info.value)
    assert f"line {line_no}:" in message, message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_row_with_missing_cell_names_its_line() -> None:
    text = render_doc(example_snapshot())
    broken = text.replace(
        "| username | character varying(64) | no |  |  |  |",
        "| username | character varying(64) | no |  |  |",
    )
    _expect_error(broken, _line_of(text, "| username |"), "6 cells", "got 5")


def test_garbled_header_names_its_line() -> None:
    text = render_doc(example_snapshot())
    _expect_error(text.replace("format=1 -->", "format=one -->"), 1, "header")
    _expect_error(text.replace("format=1 -->", "format=9 -->"), 1, "format 1")
    _expect_error("\n".join(text.split("\n")[1:]), 1, "header")


def test_unknown_section_names_its_line() -> None:
    text = render_doc(example_snapshot())
    broken = text.replace("## Enums", "## Notes")
    _expect_error(broken, _line_of(text, "## Enums"), "known section", "Notes")


def test_other_broken_docs() -> None:
    text = render_doc(example_snapshot())
    _expect_error(
        text.replace(
            "| email | character varying(255) | no |", "| email | character varying(255) | maybe |"
        ),
        _line_of(text, "| email | character varying(255) | no |"),
        "'yes' or 'no'",
    )
    _expect_error(
        text.replace(
            "| ck_media_size_bytes_non_negative | CHECK |",
            "| ck_media_size_bytes_non_negative | TRIGGER |",
        ),
        _line_of(text, "| ck_media_size_bytes_non_negative |"),
        "PRIMARY KEY, UNIQUE",
    )
    _expect_error(
        text.replace("#### Indexes", "#### Triggers"),
        _line_of(text, "#### Indexes"),
        "known subsection",
    )
    cut = text[: text.index("  WHERE is_active;") + len("  WHERE is_active;")]
    _expect_error(cut, len(cut.split("\n")) + 1, "closing ```")
    _expect_error(
        text.replace("- Kind: table", "- Kind: spreadsheet", 1),
        _line_of(text, "- Kind: table"),
        "a kind",
    )
    _expect_error(
        text.replace(
            "| Name | Type | Columns | Expression |", "| Name | Kind | Columns | Expression |", 1
        ),
        _line_of(text, "| Name | Type | Columns | Expression |"),
        "table header",
    )


def test_load_doc(tmp_path: Path) -> None:
    missing = tmp_path / "database_schema.md"
    with pytest.raises(NotFound, match="generate-docs"):
        load_doc(missing)
    missing.write_text(render_doc(example_snapshot()), encoding="utf-8")
    assert load_doc(missing).structure() == example_snapshot().structure()
    missing.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(DocParseError, match=r"database_schema\.md: schema doc line 1"):
        load_doc(missing)
    missing.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(DocParseError, match="UTF-8"):
        load_doc(missing)


# --------------------------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------------------------
_MERMAID_LINE = re.compile(
    r'^    "[^"%\\\r\n]+" (\|\||\|o)--(o\{|o\|) "[^"%\\\r\n]+" : "[^"%\\\r\n]+"$'
)


def _mermaid_blocks(text: str) -> list[list[str]]:
    blocks = re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.S)
    return [block.split("\n") for block in blocks]


def test_mermaid_is_valid_for_hostile_names() -> None:
    snap = hostile_snapshot()
    child = snap.tables["public.child"]
    child.columns.append(Column('50% "off"', "integer", False, position=2))
    child.foreign_keys.append(ForeignKey(['50% "off"'], "public.child", ["parent_id"], "self"))
    blocks = _mermaid_blocks(render_doc(snap))
    assert len(blocks) == 1 and blocks[0][0] == "erDiagram"
    for line in blocks[0][1:]:
        assert _MERMAID_LINE.match(line), line
    assert '    "Weird Schema.Order _Lines_.v2" |o--o{ "child" : "parent_id"' in blocks[0]
    assert '    "child" ||--o{ "child" : "50_ _off_"' in blocks[0]


def test_mermaid_is_split_per_schema_and_capped() -> None:
    snap = Snapshot(source="db")
    for schema in ("app", "audit"):
        snap.add_table(
            Table(
                schema,
                "hub",
                columns=[Column("id", "integer", False)],
                primary_key=PrimaryKey(["id"]),
            )
        )
    for i in range(300):
        snap.add_table(
            Table(
                "app",
                f"t{i:03d}",
                columns=[Column("id", "integer", False), Column("hub_id", "integer", False)],
                foreign_keys=[ForeignKey(["hub_id"], "app.hub", ["id"], f"fk_{i:03d}")],
            )
        )
    snap.add_table(
        Table(
            "audit",
            "log",
            columns=[Column("hub_id", "integer", True)],
            foreign_keys=[ForeignKey(["hub_id"], "audit.hub", ["id"])],
        )
    )
    text = render_doc(snap)
    blocks = _mermaid_blocks(text)
    assert len(blocks) == 2  # one diagram per schema
    app = blocks[0]
    entities = {
        name
        for line in app[1:]
        for name in re.findall(r'"([^"]+)" [|}]|[|{] "([^"]+)"', line)
        for name in name
        if name
    }
    assert len(entities) <= MERMAID_MAX_ENTITIES
    assert "hub" in entities
    assert all(_MERMAID_LINE.match(line) for line in app[1:])
    assert len(app) - 1 == MERMAID_MAX_ENTITIES - 1
    assert "Left out of this diagram: 201 of 301 tables" in text
    assert "and 161 more." in text
    assert blocks[1] == ["erDiagram", '    "hub" |o--o{ "log" : "hub_id"']
    assert parse_doc(text).structure() == snap.structure()


def test_mermaid_cardinality_one_to_one() -> None:
    snap = copy.deepcopy(example_snapshot())
    media = snap.tables["public.media"]
    media.unique_constraints.append(UniqueConstraint(["owner_id"], "uq_media_owner_id"))
    assert '"users" ||--o| "media" : "owner_id"' in render_doc(snap)


def test_imports_stay_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, database_use.render.doc, database_use.render.report, database_use.sources.doc; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'pydantic', 'psycopg', 'mcp')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert out.stdout.strip() == "[]"


def test_objects_sort_by_name_and_twins_by_structure() -> None:
    """by_name: unnamed first, then by name; only items sharing a name fall back to their
    structure, so every source gives one order (the fast path must agree with the full key)."""
    from database_use.render.doc_text import by_name

    a = Index(name="b_idx", columns=["x"])
    b = Index(name="a_idx", columns=["y"])
    unnamed = [Index(name=None, columns=["z"]), Index(name=None, columns=["w"])]
    twins = [Index(name="t", columns=["q"]), Index(name="t", columns=["p"])]
    full = lambda items: sorted(items, key=lambda x: (x.name is not None, x.name or "", repr(x)))  # noqa: E731
    for items in ([a, b], [b, a, *unnamed], [*twins, a], [*reversed(twins), *unnamed, b]):
        assert by_name(items) == full(items)
    assert [i.name for i in by_name([a, b, unnamed[0]])] == [None, "a_idx", "b_idx"]
    assert [i.columns for i in by_name(twins)] == [["p"], ["q"]]
