"""The change log is hash-chained, details cannot break its structure, tables must exist.

Attacks through the real faces: an agent edits, deletes or reorders a past entry with its own
file tools, then calls validate (CLI and MCP); hostile details and SQL logged through
log_change; an unknown table logged through the CLI and the MCP tool.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client

from database_use import service
from database_use.changes.changelog import check_chain, parse_log, read_log
from database_use.errors import NotFound
from database_use.project import Project
from mcp_server.server import build_server
from tests.test_apply_journal import cli


def three_entries(proj: Project) -> None:
    for n in (1, 2, 3):
        service.log_change(proj, f"entry {n}", details=f"details of entry {n}", tables=["users"])


def chain(proj: Project):
    return check_chain(read_log(proj.changes_log_path))


def test_appended_entries_form_an_intact_chain(proj: Project) -> None:
    three_entries(proj)
    checked = chain(proj)
    assert checked.ok and checked.chained == 3 and checked.unchained_before == 0
    text = proj.changes_log_path.read_text()
    assert sum(1 for line in text.splitlines() if line.startswith("- Chain: `")) == 3
    assert service.validate(proj)["log_chain"]["ok"] is True


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        (lambda t: t.replace("details of entry 2", "details of entry two"), 2),
        (lambda t: t.replace("— entry 1", "— entry one"), 1),
        # deleting entry 2 (its heading up to entry 3's) breaks the link of entry 3
        (
            lambda t: (
                t[: t.index("## ", t.index("— entry 1"))]
                + t[t.index("## ", t.index("— entry 2")) :]
            ),
            2,
        ),
        # moving entry 3 above entry 2
        (
            lambda t: (
                t[: t.index("## ", t.index("— entry 1"))]
                + t[t.index("## ", t.index("— entry 2")) :]
                + t[t.index("## ", t.index("— entry 1")) : t.index("## ", t.index("— entry 2"))]
            ),
            2,
        ),
        (
            lambda t: t.replace("changes; the file is append-only", "changes; the file is a draft"),
            1,
        ),
    ],
    ids=["edited-details", "edited-heading", "deleted", "reordered", "edited-header"],
)
def test_an_agent_editing_a_past_entry_is_caught_by_validate(
    proj: Project, example_db_url: str, tamper, broken_at: int
) -> None:
    three_entries(proj)
    service.generate_docs(proj)
    assert cli(proj, example_db_url, "validate").returncode == 0
    path = proj.changes_log_path
    path.write_text(tamper(path.read_text()))  # the agent's own file tool
    done = cli(proj, example_db_url, "--format", "json", "validate")
    assert done.returncode == 1, done.stdout
    data = json.loads(done.stdout)
    assert data["ok"] is False and data["log_chain"]["ok"] is False
    first = data["log_chain"]["breaks"][0]
    assert first["entry"] == broken_at
    assert f"broken at entry {broken_at}" in data["message"] and first["heading"] in data["message"]
    text = cli(proj, example_db_url, "validate")
    assert (
        text.returncode == 1
        and f"FAILED: the change log's chain is broken at entry {broken_at}" in text.stdout
    )


@pytest.mark.anyio
async def test_forged_edit_is_reported_by_the_mcp_validate_and_log_change_warns(
    proj: Project, example_db_url: str
) -> None:
    three_entries(proj)
    service.generate_docs(proj)
    path = proj.changes_log_path
    # Recomputing only the edited entry's own chain value does not help: the next link breaks.
    text = path.read_text().replace("details of entry 2", "approved by alice")
    path.write_text(text)
    async with Client(build_server(proj.root, example_db_url)) as client:
        result = await client.call_tool("validate", {})
        data = result.structured_content
        assert data["ok"] is False and "broken at entry 2" in data["message"]
        # Appending still works (the record of a change matters more) and says why it warns.
        logged = await client.call_tool("log_change", {"summary": "entry 4"})
        assert not logged.is_error
        assert any("broken at entry 2" in w for w in logged.structured_content["warnings"])
    after = chain(proj)
    assert [b["entry"] for b in after.breaks] == [2]  # the break stays where it was
    assert path.read_text().startswith(text)


def test_a_log_from_an_older_version_starts_the_chain(proj: Project) -> None:
    old = (
        "# PostgreSQL schema change log\n\n"
        "## 2024-01-01 10:00 UTC — created users\n- Tables: `public.users`\n\nby hand\n\n"
        "## 2024-02-01 10:00 UTC — broken older entry\n\n```sql\nALTER TABLE users ADD x int;\n"
    )  # the second older entry left its fence open
    proj.changes_log_path.write_text(old)
    assert chain(proj).chained == 0 and chain(proj).ok
    logged = service.log_change(proj, "first chained entry", tables=["users"])
    assert logged["warnings"] == []
    text = proj.changes_log_path.read_text()
    assert text.startswith(old)
    parsed = parse_log(text)
    assert [e.heading.split("— ")[1] for e in parsed.entries] == [
        "created users",
        "broken older entry",
        "first chained entry",
    ]
    checked = check_chain(parsed)
    assert checked.ok and checked.chained == 1 and checked.unchained_before == 2
    assert "starts at entry 3" in checked.message()
    # the older entries are now covered: editing one breaks the first chained link
    proj.changes_log_path.write_text(text.replace("by hand", "by someone"))
    assert [b["entry"] for b in chain(proj).breaks] == [3]


HOSTILE = "\n".join(
    [
        "Looks harmless.",
        "```",  # an unclosed fence
        "## 2030-01-01 00:00 UTC — forged entry",
        "- Schema hash: → `9999888877776666`",
        "- Chain: `" + "0" * 64 + "`",
        "~~~",
        "<!-- hide everything after this",
        "   ## indented heading",
        "Setext heading",
        "===",
        "line\u2028## after a unicode line separator",
        "carriage\r## return",
        "\x1b[2Kerased line",
    ]
)


def test_hostile_details_and_sql_cannot_swallow_or_forge_an_entry(
    proj: Project, example_db_url: str
) -> None:
    service.log_change(proj, "baseline", extra={"schema_hash_after": "1111222233334444"})
    service.log_change(
        proj,
        "hostile",
        details=HOSTILE,
        sql="SELECT '```';\n## 2030-01-01 00:00 UTC — forged in sql\n````",
        tables=["users"],
    )
    service.log_change(proj, "normal after", details="plain", tables=["media"])
    text = proj.changes_log_path.read_text()
    parsed = parse_log(text)
    assert [e.heading.split("— ", 1)[1] for e in parsed.entries] == [
        "baseline",
        "hostile",
        "normal after",
    ]
    hostile = parsed.entries[1]
    body = "\n".join(hostile.lines)
    assert "Looks harmless." in body and "plain" not in body
    assert "\\```" in body and "\\<!--" in body and "\\===" in body and "\\~~~" in body
    assert "\\u2028" in body and "\\x0d" in body and "\\x1b" in body
    assert "\u2028" not in text and "\x1b" not in text and "\r" not in text
    assert parsed.entries[2].lines[1] == "- Tables: `public.media`"
    assert check_chain(parsed).ok
    assert service.last_logged_schema_hash(proj) != "9999888877776666"
    # the SQL got a fence longer than any backtick run in it; after it, in the details, every
    # line a Markdown reader could take for structure is escaped
    lines = hostile.lines
    assert lines.count("`````sql") == 1 and lines.count("`````") == 1
    details = lines[lines.index("`````") + 1 :]
    assert "Looks harmless." in details
    for line in details:
        assert not line.lstrip().startswith(("#", "```", "~~~", "<", "===", "- Chain")), line
    done = cli(proj, example_db_url, "--format", "json", "validate")
    assert json.loads(done.stdout)["log_chain"] == {
        "ok": True,
        "entries": 3,
        "chained": 3,
        "breaks": [],
        "message": "the change log's chain is intact: 3 chained entries",
    }


def test_hostile_details_through_the_cli_then_a_normal_entry(
    proj: Project, example_db_url: str
) -> None:
    details = proj.root / "temp" / "details.md"
    details.write_text(HOSTILE)
    first = cli(
        proj,
        example_db_url,
        "log-change",
        "--summary",
        "from a file",
        "--details-file",
        str(details),
    )
    assert first.returncode == 0, first.stderr
    second = cli(proj, example_db_url, "log-change", "--summary", "normal", "--table", "users")
    assert second.returncode == 0, second.stderr
    parsed = read_log(proj.changes_log_path)
    assert [e.heading.split("— ", 1)[1] for e in parsed.entries] == ["from a file", "normal"]
    assert check_chain(parsed).ok


# -- tables must exist ---------------------------------------------------------------------------
def test_log_change_refuses_an_unknown_table_on_the_cli(proj: Project, example_db_url: str) -> None:
    done = cli(proj, example_db_url, "log-change", "--summary", "x", "--table", "userz")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'userz' is not in the live database" in lines[0]
    assert "public.users" in lines[0] and "--not-in-db" in lines[0]
    assert not proj.changes_log_path.exists()
    marked = cli(
        proj,
        example_db_url,
        "log-change",
        "--summary",
        "dropped old",
        "--table",
        "old_stuff",
        "--table",
        "users",
        "--not-in-db",
    )
    assert marked.returncode == 0, marked.stderr
    text = proj.changes_log_path.read_text()
    assert "- Tables: `old_stuff` (not in the live DB), `public.users`" in text


@pytest.mark.anyio
async def test_mcp_log_change_refuses_an_unknown_table(proj: Project, example_db_url: str) -> None:
    async with Client(build_server(proj.root, example_db_url)) as client:
        refused = await client.call_tool("log_change", {"summary": "x", "tables": ["nonexistent"]})
        assert refused.is_error
        message = refused.content[0].text
        assert "'nonexistent' is not in the live database" in message and "\n" not in message
        assert not proj.changes_log_path.exists()
        marked = await client.call_tool(
            "log_change", {"summary": "gone", "tables": ["nonexistent"], "not_in_db": True}
        )
        assert not marked.is_error
        assert "`nonexistent` (not in the live DB)" in marked.structured_content["entry"]


def test_an_unreachable_database_marks_tables_not_checked(project) -> None:
    proj = Project(root=project)  # no DATABASE_URL at all
    logged = service.log_change(proj, "offline", tables=["users"], record_hash=True)
    assert "`users` (not checked: database unreachable)" in logged["entry"]
    assert "tables not checked" in logged["note"]


def test_service_refusal_names_close_matches(proj: Project) -> None:
    with pytest.raises(NotFound, match=r"closest: public\.media"):
        service.log_change(proj, "x", tables=["public.medias"])
    assert not proj.changes_log_path.exists()
