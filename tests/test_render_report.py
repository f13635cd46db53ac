"""Text and Markdown renderers for the CLI and the reports (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from database_use.render.report import (
    clean,
    grid,
    render_differences_text,
    render_overview_text,
    render_report_markdown,
    render_table_text,
    width,
)
from tests.test_render_doc import example_snapshot, hostile_snapshot

RECORDS: list[dict[str, Any]] = [
    {
        "object": "column",
        "table": "public.users",
        "name": "email",
        "status": "different",
        "attribute": "type",
        "values": {"db": "character varying(255)", "models": "text"},
        "authority": "db",
        "fix": "models/models_user.py: email = mapped_column(String(255), ...)",
        "hint": None,
    },
    {
        "object": "index",
        "table": "public.media",
        "name": "ix_media_owner_id_kind",
        "status": "missing_in_models",
        "attribute": None,
        "values": None,
        "authority": "db",
        "fix": "add Index('ix_media_owner_id_kind', 'owner_id', 'kind') to Media.__table_args__",
        "hint": None,
    },
    {
        "object": "column",
        "table": "public.users",
        "name": "nick",
        "status": "missing_in_db",
        "attribute": None,
        "values": {"models": "text"},
        "authority": "db",
        "fix": "remove users.nick from the models",
        "hint": "possible rename of username → nick",
    },
    {
        "object": "enum",
        "table": None,
        "name": "public.user_role",
        "status": "different",
        "attribute": "values",
        "values": {"db": ["admin", "editor"], "models": ["admin"]},
        "authority": "db",
        "fix": "add 'editor' to UserRole",
        "hint": None,
    },
]


def test_overview_lists_every_table_compactly() -> None:
    text = render_overview_text(example_snapshot())
    lines = text.split("\n")
    media = next(line for line in lines if line.startswith("public.media "))
    assert (
        "table" in media and "7 cols" in media and "PK(id)" in media and "→ public.users" in media
    )
    view = next(line for line in lines if line.startswith("public.active_users "))
    assert "view" in view and "2 cols" in view and "→" not in view
    assert "  public.user_role: admin | editor | viewer" in lines
    assert example_snapshot().schema_hash() in lines[0]
    # aligned: the kind column starts at the same offset on every table line
    table_lines = [line for line in lines if line.startswith("public.") and "col" in line]
    assert (
        len(
            {
                line.index(" table") if " table" in line else line.index(" view")
                for line in table_lines
            }
        )
        == 1
    )


def test_overview_limit() -> None:
    text = render_overview_text(example_snapshot(), limit=1)
    assert "public.active_users" in text and "public.users " not in text
    assert "… and 2 more" in text


def test_table_text_shows_all_detail() -> None:
    snap = example_snapshot()
    text = render_table_text(snap.tables["public.media"])
    assert text.startswith("public.media (table) — Files uploaded by users\n")
    assert "identity by default" in text and "FK → public.users.id" in text
    assert "'{}'" in text
    assert "PRIMARY KEY (id)" in text and "UNIQUE (owner_id, path)" in text
    assert "CHECK (size_bytes >= 0)" in text
    assert "→ public.users(id)" in text and "ON DELETE CASCADE" in text
    assert "ix_media_owner_id_kind" in text and "btree" in text and "(owner_id, kind)" in text
    header = next(line for line in text.split("\n") if line.startswith("column"))
    row = next(line for line in text.split("\n") if line.startswith("owner_id"))
    assert header.index("type") == row.index("bigint")
    view = render_table_text(snap.tables["public.active_users"])
    assert "definition:\n   SELECT id," in view
    assert all(line == line.rstrip() for line in text.split("\n"))


def test_terminal_text_neutralises_hostile_names() -> None:
    snap = hostile_snapshot()
    table = next(iter(t for t in snap.tables.values() if t.schema == "Weird Schema"))
    table.comment = "evil \x1b[31mred\x1b[0m and\nnewline \u202e"
    text = render_table_text(table)
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[31mred" in text and "\\u202e" in text
    assert "line\\nbreak" in text  # the column name with a newline stays on one line
    overview = render_overview_text(snap)
    assert "\x1b" not in overview and '"Weird Schema"."Order ""Lines"".v2"' in overview


def test_grid_aligns_wide_characters() -> None:
    lines = grid(["a", "b"], [["表表", "x"], ["ab", "y"]])
    assert width("表表") == 4
    assert width(lines[2][: lines[2].index("x")]) == width(lines[3][: lines[3].index("y")])
    assert lines[2].index("x") == lines[3].index("y") - 2
    assert clean("a\tb\x00") == "a\\tb\\x00"


def test_differences_text_grouped_by_table() -> None:
    text = render_differences_text(RECORDS)
    lines = text.split("\n")
    groups = [line for line in lines if line and not line.startswith(" ")][:-1]
    assert groups == ["(enums and other schema-wide objects)", "public.media", "public.users"]
    assert "  column email: different type" in lines
    assert "    values:    db: character varying(255) | models: text" in lines
    assert "    authority: db" in lines
    assert "    hint:      possible rename of username → nick" in lines
    assert "    values:    db: (admin, editor) | models: (admin)" in lines
    assert lines[-2] == "4 differences in 3 groups"


def test_differences_text_empty_and_objects() -> None:
    assert render_differences_text([]) == "no differences\n"

    @dataclass
    class Diff:
        record: dict[str, Any]

        def to_dict(self) -> dict[str, Any]:
            return self.record

    assert render_differences_text([Diff(RECORDS[0])]) == render_differences_text(RECORDS[:1])


def test_report_markdown() -> None:
    report = {
        "generated_at": "2026-11-21T10:00:00Z",
        "schema_hash": "0123456789abcdef",
        "sources": {
            "db": {"ok": True, "error": None},
            "doc": {"ok": False, "error": "schema doc line 3: expected x"},
        },
        "comparisons": [
            {"left": "db", "right": "models", "differences": RECORDS},
            {"left": "models", "right": "doc", "differences": [], "error": None, "count": 0},
            {
                "left": "db",
                "right": "doc",
                "differences": [],
                "error": "doc: does not parse",
                "count": None,
            },
        ],
    }
    md = render_report_markdown(report)
    assert md.startswith("# Schema report\n")
    assert "- Generated: 2026-11-21T10:00:00Z" in md and "`0123456789abcdef`" in md
    assert "| db vs models | 4 |" in md and "| models vs doc | 0 |" in md
    assert "| db vs doc | error: doc: does not parse |" in md
    assert "## models vs doc\n\nNo differences." in md
    assert "Not compared: doc: does not parse" in md
    assert (
        "| public.users | column | email | different (type) | "
        "db: character varying(255) \\| models: text | db |"
    ) in md
    assert "possible rename of username → nick" in md
    # every table row has as many cells as its header
    lines = md.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("| ---"):
            n = lines[i - 1].count(" | ")
            for row in lines[i + 1 :]:
                if not row.startswith("|"):
                    break
                assert row.replace("\\|", "").count(" | ") == n, row
    assert render_report_markdown(report) == md
