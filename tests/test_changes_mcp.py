"""The change tools over a real MCP client: elicitation in both protocol eras, and no elicitation."""

from __future__ import annotations

import psycopg
import pytest
from mcp import Client

from database_use import approvals, hints, policy
from database_use.changes import propose_column_change
from database_use.project import Project
from mcp_server.server import build_server
from tests import person
from tests.mcp_helpers import Person, call

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _dialogs_allowed() -> None:
    """The person chose (in their own config) that the client's dialog may approve; with no
    config the dialog is off — see test_approval_attacks.py."""
    policy.write_config(allow_elicitation=True)


def user_columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'users'"
        ).fetchall()
    return {r[0] for r in rows}


async def propose(server, **args) -> dict:
    result = await call(server, "propose_column_change", args)
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_elicitation_accept_applies_verifies_documents_and_logs(
    proj: Project,
    example_db_url: str,
    mode: str,
) -> None:
    server = build_server(proj.root, example_db_url)
    proposal = await propose(
        server, table="users", action="add", column="nickname", type="varchar(40)"
    )
    assert proposal["status"] == "proposed" and "nickname" not in user_columns(example_db_url)
    person = Person()
    result = await call(
        server,
        "apply_change",
        {"change_id": proposal["id"]},
        elicitation_callback=person,
        mode=mode,
    )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] == "applied" and data["applied"] is True
    assert data["approval"]["approval_channel"] == "elicitation"
    assert "nickname" in user_columns(example_db_url)
    assert "nickname" in proj.doc_path.read_text()
    log = proj.changes_log_path.read_text()
    assert proposal["id"] in log and "elicitation" in log
    assert data["models_todo"]["table"] == "public.users"
    # The person saw the table, column, exact SQL, risk and dry-run; the text is deterministic.
    message = person.messages[-1]
    for needle in (
        "public.users.nickname",
        proposal["sql"][0],
        "Risk:",
        "Dry-run (rolled back): succeeded",
    ):
        assert needle in message
    assert len(set(person.messages)) == 1


async def test_elicitation_shows_risk_findings(proj: Project, example_db_url: str) -> None:
    server = build_server(proj.root, example_db_url)
    proposal = await propose(server, table="users", action="drop", column="last_login_at")
    person = Person(action="decline")
    await call(server, "apply_change", {"change_id": proposal["id"]}, elicitation_callback=person)
    assert "drop_column_data_loss" in person.messages[0] and "[danger]" in person.messages[0]


@pytest.mark.parametrize(
    ("mode", "action", "approve", "outcome"),
    [
        ("auto", "decline", True, "declined"),
        ("legacy", "decline", True, "declined"),
        ("auto", "cancel", True, "cancelled"),
        ("legacy", "cancel", True, "cancelled"),
        ("auto", "accept", False, "declined"),
    ],
)
async def test_decline_cancel_or_unticked_applies_nothing(
    proj: Project,
    example_db_url: str,
    mode: str,
    action: str,
    approve: bool,
    outcome: str,
) -> None:
    server = build_server(proj.root, example_db_url)
    proposal = await propose(server, table="users", action="add", column="nickname", type="text")
    result = await call(
        server,
        "apply_change",
        {"change_id": proposal["id"]},
        elicitation_callback=Person(action, approve),
        mode=mode,
    )
    data = result.structured_content
    assert data["outcome"] == outcome and data["applied"] is False
    assert "NOT APPLIED" in data["message"]
    assert "nickname" not in user_columns(example_db_url)
    assert not proj.changes_log_path.exists()
    assert (
        approvals.approval_status(proj, "change", proposal["id"], proposal["sql_sha256"])["state"]
        == "none"
    )


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_client_without_elicitation_gets_the_approve_command(
    proj: Project,
    example_db_url: str,
    mode: str,
) -> None:
    server = build_server(proj.root, example_db_url)
    proposal = await propose(server, table="users", action="add", column="nickname", type="text")
    result = await call(server, "apply_change", {"change_id": proposal["id"]}, mode=mode)
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] == "approval_required" and data["applied"] is False
    command = hints.command(proj, "approve", proposal["id"])
    assert command.endswith(f"approve {proposal['id']} --project-root {proj.root}")
    assert data["approve_command"] == command and command in data["message"]
    assert command in result.content[0].text  # clients that read only the text see it too
    assert "nickname" not in user_columns(example_db_url)
    assert not proj.changes_log_path.exists()


async def test_terminal_approval_applies_without_asking(proj: Project, example_db_url: str) -> None:
    server = build_server(proj.root, example_db_url)
    proposal = await propose(server, table="users", action="add", column="nickname", type="text")
    person.approves(proj.root, proposal["id"], example_db_url)
    result = await call(server, "apply_change", {"change_id": proposal["id"]})
    data = result.structured_content
    assert data["outcome"] == "applied" and data["approval"]["approval_channel"] == "terminal"
    assert "nickname" in user_columns(example_db_url)


async def test_no_tool_argument_can_approve(proj: Project, example_db_url: str) -> None:
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["apply_change"].input_schema
    assert set(schema["properties"]) == {"change_id"}
    proposal = propose_column_change(proj, "users", "add", "nickname", type="text")
    result = await call(
        server,
        "apply_change",
        {"change_id": proposal["id"], "approve": True, "prep": {"mode": "approved"}},
    )
    assert result.is_error or result.structured_content["applied"] is False
    assert "nickname" not in user_columns(example_db_url)


async def test_tool_annotations_and_listing(proj: Project, example_db_url: str) -> None:
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        apply_hints = tools["apply_change"].annotations
        assert apply_hints.destructive_hint is True and apply_hints.read_only_hint is False
        assert tools["list_changes"].annotations.read_only_hint is True
        propose_hints = tools["propose_column_change"].annotations
        assert propose_hints.read_only_hint is False and propose_hints.destructive_hint is False
        assert propose_hints.idempotent_hint is False and propose_hints.open_world_hint is False
        await client.call_tool(
            "propose_column_change", {"table": "users", "action": "drop", "column": "last_login_at"}
        )
        listed = (await client.call_tool("list_changes", {})).structured_content
    assert listed["count"] == 1 and listed["changes"][0]["status"] == "proposed"


async def test_errors_are_tool_errors(proj: Project, example_db_url: str) -> None:
    server = build_server(proj.root, example_db_url)
    bad = await call(
        server,
        "propose_column_change",
        {"table": "users", "action": "add", "column": "x", "type": "text; DROP TABLE users"},
    )
    assert bad.is_error and "unknown or unsupported type" in bad.content[0].text
    missing = await call(
        server, "apply_change", {"change_id": "chg-nope"}, elicitation_callback=Person()
    )
    assert missing.is_error and "not found" in missing.content[0].text
