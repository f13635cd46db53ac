"""The agent's view through a real MCP client: every error is one line with the next step,
no dead ends (a failed dry-run, a decline, a person-only action), every default answer fits
the size budget.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from mcp import Client

from mcp_server.server import build_server
from tests.conftest import REPO_ROOT
from tests.mcp_helpers import Person
from tests.test_changes import add_user, sql
from tests.test_mcp_server import PASSWORD, _free_port, call_ok, text_of

pytestmark = pytest.mark.anyio

DOCS_URL = "errors.pydantic.dev"


def cli(proj, *args: str) -> subprocess.CompletedProcess[str]:
    """The person's (or the agent's shell's) command line, on the same project."""
    return subprocess.run(
        [sys.executable, "-m", "database_use", *args, "--project-root", str(proj.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": proj.database_url},
        timeout=120,
    )


def one_line_error(result) -> str:
    assert result.is_error, text_of(result)
    text = text_of(result)
    assert "\n" not in text, text
    assert DOCS_URL not in text and "validation error for" not in text, text
    assert "Traceback" not in text and PASSWORD not in text
    return text


# -- 1. argument errors: one line, naming what to do ---------------------------------------
BAD_CALLS = [
    ("introspect", {"limit": 5000}, ["'limit' must be less than or equal to", "(got 5000)"]),
    ("introspect", {"offset": -1}, ["'offset' must be greater than or equal to 0"]),
    (
        "compare",
        {"left": "database"},
        ["'left' must be 'db', 'models' or 'doc'", "'right' is required"],
    ),
    ("list_changes", {"status": "pending"}, ["'status' must be", "(got 'pending')"]),
    ("run_script", {"name": 3}, ["'name' must be a valid string"]),
    ("run_script", {"name": "x", "timeout": 0}, ["'timeout' must be greater than 0"]),
    (
        "propose_column_change",
        {"table": "users", "action": "remove", "column": "x"},
        ["'action' must be"],
    ),
    ("log_change", {"summary": ""}, ["'summary' must be"]),
    ("draft_script", {"name": "x"}, ["'content' is required"]),
    # A value echoed back is masked and cut: a URL pasted into the wrong argument shows no password.
    (
        "introspect",
        {"limit": f"postgresql://app:{PASSWORD}@db/x"},
        ["'limit' must be a valid integer"],
    ),
    ("compare", {"left": "db", "right": ["x" * 500]}, ["'right' must be", "...)"]),
]


@pytest.mark.parametrize(("tool", "args", "needles"), BAD_CALLS)
async def test_bad_arguments_answer_one_line_with_the_next_step(tool, args, needles, proj) -> None:
    async with Client(build_server(proj.root, proj.database_url)) as client:
        result = await client.call_tool(tool, args)
    text = one_line_error(result)
    for needle in needles:
        assert needle in text, text
    assert f"Call {tool} again with corrected arguments (it takes: " in text


async def test_an_unknown_argument_is_named_not_ignored(proj) -> None:
    # Ignored silently, a misspelt 'tabel' would answer the whole overview as if asked for it.
    async with Client(build_server(proj.root, proj.database_url)) as client:
        text = one_line_error(await client.call_tool("introspect", {"tabel": "users"}))
        assert "unknown argument 'tabel'" in text and "table" in text
        # A resolver's parameter is not an argument either: nobody passes 'prep' in.
        text = one_line_error(
            await client.call_tool("apply_change", {"change_id": "x", "prep": {}})
        )
        assert "unknown argument 'prep'" in text
        # ...and the next step works: the corrected call answers.
        data = await call_ok(client, "introspect", {"table": "users"})
        assert data["table"]["name"] == "users"


async def test_an_unknown_tool_names_the_tools(proj) -> None:
    async with Client(build_server(proj.root, proj.database_url)) as client:
        text = one_line_error(await client.call_tool("list_tables", {}))
    assert "unknown tool 'list_tables'" in text and "introspect" in text


async def test_a_database_error_is_one_line_too() -> None:
    down_url = f"postgresql://app:{PASSWORD}@127.0.0.1:{_free_port()}/appdb"
    async with Client(build_server("/nonexistent-root", down_url)) as client:
        text = one_line_error(await client.call_tool("introspect", {}))
    assert "PostgreSQL" in text
    assert json.dumps(text)  # plain text


# -- 2. a failed dry-run is a failure; hidden scripts are named; usage in the right order ---
async def test_a_failed_dry_run_is_a_failure_and_apply_says_why(proj, example_db_url) -> None:
    add_user(example_db_url)  # last_login_at is NULL: SET NOT NULL cannot work
    server = build_server(proj.root, example_db_url)
    args = {"table": "users", "action": "set_not_null", "column": "last_login_at"}
    async with Client(server) as client:
        proposal = await call_ok(client, "propose_column_change", args)
        assert proposal["ok"] is False and proposal["status"] == "failed"
        assert (
            "its dry-run failed" in proposal["next_step"] and "null values" in proposal["next_step"]
        )
        assert "apply_change" not in proposal["next_step"]  # nothing to approve
        text = one_line_error(await client.call_tool("apply_change", {"change_id": proposal["id"]}))
        assert "its dry-run failed" in text and "not approved" not in text
        listed = await call_ok(client, "list_changes", {"status": "failed"})
        assert [row["id"] for row in listed["changes"]] == [proposal["id"]]
        # The next step works: fix the rows that break it, propose again.
        sql(example_db_url, "UPDATE users SET last_login_at = now()")
        again = await call_ok(client, "propose_column_change", args)
    assert again["ok"] is True and again["status"] == "proposed"


def test_cli_propose_exits_1_on_a_failed_dry_run(proj, example_db_url) -> None:
    add_user(example_db_url)
    done = cli(proj, "propose", "users", "set_not_null", "last_login_at", "--format", "json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is False and data["status"] == "failed"
    applied = cli(proj, "apply", data["id"])
    assert applied.returncode != 0 and "its dry-run failed" in applied.stdout + applied.stderr


async def test_list_scripts_names_what_it_hides_and_usage_works(proj, example_db_url) -> None:
    for name in ("user_management_utils.py",):
        shutil.copy(REPO_ROOT / "utils_db" / name, proj.root / "utils_db" / name)
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        await call_ok(
            client,
            "draft_script",
            {"name": "count_users", "content": '"""Count users."""\nprint(42)\n'},
        )
        promoted = await call_ok(client, "promote_script", {"name": "count_users"})
        assert promoted["warnings"]  # no main guard
        listing = await call_ok(client, "list_scripts")
        assert "count_users" not in {s["name"] for s in listing["scripts"]}
        assert any(
            s.startswith("utils_db/count_users.py: no `if __name__") for s in listing["skipped"]
        ), listing["skipped"]
        utility = next(s for s in listing["scripts"] if s["name"] == "user_management_utils")
        assert all("--json" not in a["flags"] for a in utility["arguments"])  # not at the top
        usage = next(c["usage"] for c in utility["commands"] if c["name"] == "list")
        assert usage.startswith("list ") and usage.endswith("[--json]")
        # Following the usage works: the sub-command first, then --json.
        ran = await call_ok(
            client, "run_script", {"name": "user_management_utils", "args": ["list", "--json"]}
        )
    assert ran["ok"] is True, ran
    assert json.loads(ran["stdout"]) == []


# -- 3. declines recorded, never re-asked; cancel is not a decline; the agent withdraws ----
@pytest.fixture
def dialogs_allowed() -> None:
    from database_use import policy

    policy.write_config(allow_elicitation=True)


async def _propose_nickname(client) -> dict:
    args = {"table": "users", "action": "add", "column": "nickname", "type": "text"}
    return await call_ok(client, "propose_column_change", args)


async def test_a_form_decline_is_recorded_and_not_asked_again(proj, dialogs_allowed) -> None:
    server = build_server(proj.root, proj.database_url)
    person = Person("accept", approve=False)  # saw the form, left "approve" unticked
    async with Client(server, elicitation_callback=person) as client:
        proposal = await _propose_nickname(client)
        first = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
        assert first["outcome"] == "declined" and first["declined"]["seen"] is True
        assert first["declined"]["channel"] == "elicitation" and first["declined"]["at"]
        assert "approve_command" not in first  # nothing for anyone to approve: it is closed
        again = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
        listed = await call_ok(client, "list_changes", {"status": "declined"})
    assert len(person.messages) == 1  # the second call did not ask again
    assert again["outcome"] == "declined" and "declined by the person" in again["message"]
    assert "Do not retry it" in again["message"]
    assert [row["id"] for row in listed["changes"]] == [proposal["id"]]
    stored = json.loads((proj.root / proposal["path"]).read_text())
    assert stored["status"] == "declined" and stored["declines"][0]["seen"] is True


async def test_a_bare_client_decline_is_not_called_the_persons(proj, dialogs_allowed) -> None:
    # Some clients declare elicitation and answer "decline" without showing anything.
    from tests import person as terminal_person

    server = build_server(proj.root, proj.database_url)
    auto = Person("decline")
    async with Client(server, elicitation_callback=auto) as client:
        proposal = await _propose_nickname(client)
        first = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
        assert first["outcome"] == "declined" and first["declined"]["seen"] is False
        assert "the person declined, or the client declines without showing" in first["message"]
        command = first["approve_command"]
        assert command in first["message"]
        again = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
        assert len(auto.messages) == 1 and again["outcome"] == "declined"
        # The working next step: the person approves in their own terminal; apply goes through.
        terminal_person.approves(proj.root, proposal["id"], proj.database_url)
        applied = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
    assert applied["outcome"] == "applied", applied
    assert applied["approval"]["approval_channel"] == "terminal"


async def test_a_cancel_is_not_recorded_as_a_decline(proj, dialogs_allowed) -> None:
    server = build_server(proj.root, proj.database_url)
    async with Client(server, elicitation_callback=Person("cancel")) as client:
        proposal = await _propose_nickname(client)
        first = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
    assert first["outcome"] == "cancelled" and "declined" not in first
    assert "could not show it" in first["message"] and first["approve_command"] in first["message"]
    # Asking again is allowed: this time the person accepts.
    async with Client(server, elicitation_callback=Person()) as client:
        applied = await call_ok(client, "apply_change", {"change_id": proposal["id"]})
    assert applied["outcome"] == "applied"


async def test_the_agent_withdraws_its_own_proposal_never_an_applied_one(
    proj, dialogs_allowed
) -> None:
    server = build_server(proj.root, proj.database_url)
    async with Client(server, elicitation_callback=Person()) as client:
        proposal = await _propose_nickname(client)
        withdrawn = await call_ok(
            client, "withdraw_change", {"change_id": proposal["id"], "reason": "wrong column"}
        )
        assert withdrawn["status"] == "withdrawn" and "wrong column" in withdrawn["status_reason"]
        text = one_line_error(await client.call_tool("apply_change", {"change_id": proposal["id"]}))
        assert "withdrawn" in text and "propose again" in text
        # Applied changes stay applied.
        other = await call_ok(
            client,
            "propose_column_change",
            {"table": "users", "action": "add", "column": "nick2", "type": "text"},
        )
        assert (await call_ok(client, "apply_change", {"change_id": other["id"]}))["applied"]
        text = one_line_error(await client.call_tool("withdraw_change", {"change_id": other["id"]}))
    assert "already applied" in text and "reverse change" in text


# -- 4. person-only: a password prompt is the person's, in their own terminal ---------------
PIPES = ("|", "printf", "echo", "<<", "--password-stdin", "--password ")


@pytest.mark.parametrize(
    ("args", "write"),
    [
        (["set", "a@example.com"], True),
        (["set", "a@example.com", "--password-stdin"], True),
        (["verify", "a@example.com"], False),
    ],
)
async def test_a_password_run_is_person_only_and_spends_no_approval(
    proj, example_db_url, dialogs_allowed, args, write
) -> None:
    from tests import person as terminal_person

    shutil.copy(REPO_ROOT / "utils_db" / "user_password_utils.py", proj.root / "utils_db")
    add_user(example_db_url)
    before = sql(example_db_url, "SELECT pw_hashed FROM users")[0][0]
    asked = Person()  # would approve at once if it were asked
    server = build_server(proj.root, example_db_url)
    async with Client(server, elicitation_callback=asked) as client:
        data = await call_ok(
            client,
            "run_script",
            {"name": "user_password_utils", "args": args, "write": write},
        )
    assert data["outcome"] == "person_only" and asked.messages == []  # nobody was asked
    assert data["message"].startswith("person-only: utils_db/user_password_utils.py")
    command = data["person_command"]
    assert command in data["message"] and "own terminal" in data["message"]
    assert "utils_db/user_password_utils.py " + " ".join(args[:2]) in command
    assert not any(p in command for p in PIPES), command  # no password through a pipe or argv
    assert not (proj.root / ".roo" / "script_requests").exists()  # no approval request made
    if args[0] != "set":
        return
    # The working next step: the person runs that command in their own terminal, typing it.
    code, screen = terminal_person.on_tty(
        ["/bin/sh", "-c", command],
        terminal_person.child_env(example_db_url),
        [("New password: ", "a-new-long-password"), ("Repeat: ", "a-new-long-password")],
    )
    assert code == 0, screen
    assert sql(example_db_url, "SELECT pw_hashed FROM users")[0][0] != before


def test_the_utility_itself_never_suggests_a_pipe(proj, example_db_url) -> None:
    shutil.copy(REPO_ROOT / "utils_db" / "user_password_utils.py", proj.root / "utils_db")
    add_user(example_db_url)
    for extra in ([], ["--password-stdin"]):
        done = subprocess.run(
            [sys.executable, "utils_db/user_password_utils.py", "set", "a@example.com", *extra],
            cwd=proj.root,
            env={**os.environ, "DATABASE_URL": example_db_url, "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert "person-only" in done.stderr and "own terminal" in done.stderr
        assert "pipe" not in done.stderr.lower()


# -- 6. a lean tools/list -------------------------------------------------------------------
# Measured at 26.3 KB for 14 tools (51 KB before compact schemas); the margin leaves room for
# a tool or two more, not for schemas growing back.
TOOLS_LIST_MAX_BYTES = 31_000


async def test_tools_list_is_lean_and_every_description_one_clean_paragraph(tmp_path) -> None:
    from mcp_server.common import tools_list_sizes

    async with Client(build_server(tmp_path, "postgresql://u@127.0.0.1:1/x")) as client:
        tools = (await client.list_tools()).tools
    sizes = tools_list_sizes(tools)
    assert sizes["total"] < TOOLS_LIST_MAX_BYTES, sizes
    assert sizes["output_schemas"] < 17_000, sizes  # measured 14.3 KB (38 KB before)
    for tool in tools:
        text = tool.description or ""
        assert text == " ".join(text.split()), (tool.name, text)  # no breaks, no indentation
        assert 80 <= len(text) <= 600, (tool.name, len(text))
        for name, prop in tool.input_schema.get("properties", {}).items():
            described = prop.get("description", "")
            assert described and described == " ".join(described.split()), (tool.name, name)
        assert "$defs" not in (tool.output_schema or {}), tool.name
        assert '"title"' not in json.dumps(tool.output_schema or {}), tool.name
    # Each says when to use it, up front (a new module's tools are held to the same once they
    # are listed here).
    from mcp_server import tools_changes, tools_schema, tools_scripts

    ours = {fn.__name__ for m in (tools_schema, tools_changes, tools_scripts) for fn, *_ in m.TOOLS}
    ours.add("doctor")  # mcp_server/tools_doctor.py registers its one tool itself
    assert ours <= {t.name for t in tools}
    assert [t.name for t in tools if t.name in ours and not t.description.startswith("Use ")] == []


# -- 7. rename advice checked against the project's own code --------------------------------
async def test_rename_advice_names_the_code_that_uses_the_old_name(proj) -> None:
    shutil.copy(REPO_ROOT / "utils_db" / "user_management_utils.py", proj.root / "utils_db")
    venv_copy = proj.root / ".venv" / "lib" / "site.py"  # a venv is never the project's code
    venv_copy.parent.mkdir(parents=True)
    venv_copy.write_text("user.username = 1\n")
    args = {"table": "users", "action": "rename", "column": "username", "new_name": "login"}
    async with Client(build_server(proj.root, proj.database_url)) as client:
        proposal = await call_ok(client, "propose_column_change", args)
    finding = next(f for f in proposal["risk"] if f["code"] == "rename_column_breaks_code")
    assert finding["safe_alternative"].startswith("NOT safe to rename only the model attribute")
    assert "utils_db/user_management_utils.py:" in finding["message"]
    assert ".venv" not in finding["message"]
    for place in finding["message"].split(" at ", 1)[1].split(", ")[:3]:
        path, line = place.split(" and ")[0].rsplit(":", 1)
        assert "username" in (proj.root / path).read_text().splitlines()[int(line) - 1]


async def test_rename_advice_is_safe_only_when_nothing_uses_the_name(proj) -> None:
    args = {"table": "users", "action": "rename", "column": "username", "new_name": "login"}
    async with Client(build_server(proj.root, proj.database_url)) as client:
        proposal = await call_ok(client, "propose_column_change", args)
    finding = next(f for f in proposal["risk"] if f["code"] == "rename_column_breaks_code")
    assert "no Python code in the project uses 'username'" in finding["safe_alternative"]
    assert 'login = mapped_column("username", ...)' in finding["safe_alternative"]


# -- 8. the write-script dialog shows what matters, and where the whole is ------------------
LONG_SCRIPT = (
    '"""Tidy up old sessions."""\n'
    "from sqlalchemy import text\n\n"
    "from utils_db.database import db\n\n"
    + "".join(f"HELP_{i} = 'line {i} of harmless text'\n" for i in range(200))
    + "\n\nif __name__ == '__main__':\n"
    "    with db.session() as s:\n"
    '        s.execute(text("DELETE FROM media WHERE id < 0"))\n'
    "        s.commit()\n"
)


async def test_the_write_dialog_shows_the_database_lines_not_the_whole_source(
    proj, dialogs_allowed
) -> None:
    asked = Person(action="decline")
    server = build_server(proj.root, proj.database_url)
    async with Client(server, elicitation_callback=asked) as client:
        await call_ok(client, "draft_script", {"name": "tidy", "content": LONG_SCRIPT})
        ran = await call_ok(client, "run_script", {"name": "temp/tidy", "write": True})
    assert ran["outcome"] == "declined"
    message = asked.messages[0]
    total = LONG_SCRIPT.count("\n")
    assert "in WRITE mode" in message and f"Size: {total} lines" in message
    assert "that touch the database (" in message and f" of {total}) ---" in message
    delete_line = (
        LONG_SCRIPT.split("\n").index('        s.execute(text("DELETE FROM media WHERE id < 0"))')
        + 1
    )
    assert f'{delete_line:4d}          s.execute(text("DELETE FROM media' in message
    assert "HELP_100" not in message  # the filler is not shown...
    assert "read all of it in temp/tidy.py" in message  # ...and the whole is one path away
    assert (proj.root / "temp" / "tidy.py").read_text() == LONG_SCRIPT
    assert len(message) < 2_000, len(message)


async def test_a_bare_client_decline_of_a_write_run_names_the_terminal_way(
    proj, dialogs_allowed
) -> None:
    auto = Person("decline")
    server = build_server(proj.root, proj.database_url)
    async with Client(server, elicitation_callback=auto) as client:
        await call_ok(client, "draft_script", {"name": "noop", "content": "print(1)\n"})
        first = await call_ok(client, "run_script", {"name": "temp/noop", "write": True})
        again = await call_ok(client, "run_script", {"name": "temp/noop", "write": True})
    assert first["outcome"] == again["outcome"] == "declined" and len(auto.messages) == 1
    assert "the person declined, or the client declines without showing" in again["message"]
    assert again["approve_command"] in again["message"]


async def test_doc_resources_by_part_and_their_errors_lead_somewhere(proj) -> None:
    from mcp.shared.exceptions import MCPError

    async with Client(build_server(proj.root, proj.database_url)) as client:
        with pytest.raises(MCPError, match="call the generate_docs tool") as missing:
            await client.read_resource("schema://doc/tables/users")
        assert "\n" not in str(missing.value)
        await call_ok(client, "generate_docs")
        listed = {
            str(r.uri_template) for r in (await client.list_resource_templates()).resource_templates
        }
        assert {"schema://doc/tables/{name}", "schema://doc/sections/{section}"} <= listed
        described = {str(r.uri): r.description for r in (await client.list_resources()).resources}
        assert "not generated yet" in described["schema://doc/full"]
    async with Client(build_server(proj.root, proj.database_url)) as client:
        described = {str(r.uri): r.description for r in (await client.list_resources()).resources}
        size = (proj.root / ".roo/docs/database_schema.md").stat().st_size
        assert f"{size:,} bytes when the server started" in described["schema://doc"]
        users = (await client.read_resource("schema://doc/tables/users")).contents[0].text
        assert "### public.users" in users and "### public.media" not in users
        assert "#### Columns" in users
        enums = (await client.read_resource("schema://doc/sections/Relationships")).contents[0].text
        assert enums.startswith("## Relationships")
        whole = (await client.read_resource("schema://doc")).contents[0].text
        assert whole == (proj.root / ".roo/docs/database_schema.md").read_text()  # small: whole
        with pytest.raises(MCPError, match="not found .closest: public.users") as wrong:
            await client.read_resource("schema://doc/tables/user")
        assert "\n" not in str(wrong.value)
