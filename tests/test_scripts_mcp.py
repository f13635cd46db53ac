"""The script tools over a real in-process MCP client: read-only default, elicited write mode."""

from __future__ import annotations

import psycopg
import pytest
from mcp import Client

from database_use import hints
from mcp_server.server import build_server
from tests import person
from tests.mcp_helpers import Person, call

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _dialogs_allowed() -> None:
    """The person chose, in their own config, that the client's dialog may approve."""
    from database_use import policy

    policy.write_config(allow_elicitation=True)


INSERT = (
    '"""Insert one user."""\nimport os\nimport psycopg\n\n'
    'with psycopg.connect(os.environ["DATABASE_URL"]) as conn:\n'
    "    conn.execute(\"INSERT INTO users (email, username, pw_hashed) VALUES ('mcp@example.com', 'mcp', 'x')\")\n"
    "if __name__ == '__main__':\n    print('inserted')\n"
)


def inserted(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM users WHERE email = 'mcp@example.com'"
        ).fetchone()[0]


async def test_tools_are_listed_with_honest_annotations(proj, example_db_url):
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"list_scripts", "draft_script", "promote_script", "run_script"} <= set(tools)
    assert tools["list_scripts"].annotations.read_only_hint is True
    assert tools["draft_script"].annotations.read_only_hint is False
    assert tools["draft_script"].annotations.destructive_hint is False
    assert tools["run_script"].annotations.read_only_hint is False
    assert tools["run_script"].annotations.destructive_hint is True
    assert all(
        tools[n].annotations.open_world_hint is False for n in ("list_scripts", "run_script")
    )
    assert tools["run_script"].output_schema is not None
    # No tool accepts SQL text, and no argument can approve anything.
    for name in ("list_scripts", "draft_script", "promote_script", "run_script"):
        props = set((tools[name].input_schema or {}).get("properties", {}))
        assert not props & {"sql", "query", "approve", "approved", "approval"}


async def test_draft_run_read_only_then_promote(proj, example_db_url):
    server = build_server(proj.root, example_db_url)
    drafted = await call(server, "draft_script", {"name": "add_user", "content": INSERT})
    assert not drafted.is_error, drafted.content
    assert drafted.structured_content["path"] == "temp/add_user.py"
    ran = await call(server, "run_script", {"name": "add_user"})
    assert not ran.is_error, ran.content
    data = ran.structured_content
    assert data["outcome"] == "ran" and data["mode"] == "read-only" and data["ok"] is False
    assert "read-only transaction" in data["stderr"]
    assert inserted(example_db_url) == 0
    promoted = await call(server, "promote_script", {"name": "add_user"})
    assert not promoted.is_error and promoted.structured_content["path"] == "utils_db/add_user.py"
    listed = (await call(server, "list_scripts", {})).structured_content
    assert [(s["name"], s["kind"]) for s in listed["scripts"]] == [("add_user", "canonical")]
    assert listed["drafts"] == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_write_mode_with_elicited_approval_writes(proj, example_db_url, mode):
    server = build_server(proj.root, example_db_url)
    await call(server, "draft_script", {"name": "add_user", "content": INSERT})
    person = Person()
    result = await call(
        server,
        "run_script",
        {"name": "add_user", "write": True},
        elicitation_callback=person,
        mode=mode,
    )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] == "ran" and data["ok"] is True, data
    assert data["mode"] == "write" and data["approval"]["channel"] == "elicitation"
    assert inserted(example_db_url) == 1
    assert person.messages and "temp/add_user.py" in person.messages[0]
    assert "INSERT INTO users" in person.messages[0]


@pytest.mark.parametrize(
    ("action", "approve"), [("decline", True), ("cancel", True), ("accept", False)]
)
async def test_declined_or_unapproved_elicitation_writes_nothing(
    proj, example_db_url, action, approve
):
    server = build_server(proj.root, example_db_url)
    await call(server, "draft_script", {"name": "add_user", "content": INSERT})
    result = await call(
        server,
        "run_script",
        {"name": "add_user", "write": True},
        elicitation_callback=Person(action, approve),
    )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] in ("declined", "cancelled") and data["ok"] is False
    assert inserted(example_db_url) == 0


async def test_client_without_elicitation_gets_the_human_command(proj, example_db_url):
    server = build_server(proj.root, example_db_url)
    await call(server, "draft_script", {"name": "add_user", "content": INSERT})
    result = await call(server, "run_script", {"name": "add_user", "write": True})
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] == "approval_required"
    assert data["approve_command"] == hints.command(proj, "approve-script", data["approval_id"])
    assert data["approve_command"].split()[-2:] == ["--project-root", str(proj.root)]
    assert inserted(example_db_url) == 0
    # The person approves in a terminal (here: the same service call the command makes).
    person.approves(proj.root, data["approval_id"], proj.database_url, command="approve-script")
    again = await call(server, "run_script", {"name": "add_user", "write": True})
    assert again.structured_content["outcome"] == "ran" and again.structured_content["ok"] is True
    assert again.structured_content["approval"]["channel"] == "terminal"
    assert inserted(example_db_url) == 1


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "temp/../../x"])
async def test_path_escapes_are_tool_errors(proj, example_db_url, name):
    server = build_server(proj.root, example_db_url)
    for tool, args in (
        ("draft_script", {"name": name, "content": "print(1)\n"}),
        ("run_script", {"name": name}),
        ("promote_script", {"name": name}),
    ):
        result = await call(server, tool, args)
        assert result.is_error
        assert "invalid script name" in result.content[0].text


async def test_syntax_error_is_a_tool_error_naming_the_line(proj, example_db_url):
    server = build_server(proj.root, example_db_url)
    result = await call(server, "draft_script", {"name": "broken", "content": "x = (\n"})
    assert result.is_error and "line 1" in result.content[0].text
    assert not (proj.temp_dir / "broken.py").exists()
