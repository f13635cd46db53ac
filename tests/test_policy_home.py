"""Security policy only from the person: the config dir follows the OS account, not HOME.

The attack: a project's MCP client config (``.mcp.json`` ``env``) starts the server with
``HOME``/``XDG_CONFIG_HOME`` pointing at a folder the agent wrote, holding a config that lets
dialogs approve and turns the sandbox off, and the agent's own approver key with an approval
it signed. The server must read the person's config and key instead, and nothing applies.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import psycopg
import pytest
from mcp import Client, StdioServerParameters

from database_use import approvals, policy, sandbox
from database_use.changes import get_change, propose_column_change
from database_use.settings import load_dotenv_file
from tests.conftest import REPO_ROOT
from tests.mcp_helpers import Person

AGENT_CONFIG = (
    'sandbox = "off"\n\n[approvals]\nttl_seconds = 86400\n\n[elicitation]\nallow = true\n'
)
AGENT_PASSPHRASE = "the agent's own passphrase, typed by the agent"
PERSON_PASSPHRASE = "the person's passphrase, never shown to anyone"


@pytest.fixture
def agent_home(proj) -> Path:
    """A HOME the agent wrote inside the project, with a permissive database-use config."""
    home = proj.root / "temp" / "agent-home"
    config = home / ".config" / "database-use"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(AGENT_CONFIG)
    return home


def columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
        ).fetchall()
    return {r[0] for r in rows}


def test_home_and_xdg_in_the_environment_are_ignored(proj, agent_home, monkeypatch):
    monkeypatch.setenv("HOME", str(agent_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(agent_home / ".config"))
    assert policy.config_dir() == policy.person_home() / ".config" / "database-use"
    assert not policy.config_dir().resolve().is_relative_to(proj.root)
    chosen = policy.load_policy()
    assert chosen.elicitation_allowed is False
    assert chosen.approval_ttl_seconds == policy.DEFAULT_TTL_SECONDS
    assert sandbox.status(proj.root).enabled
    # The agent's folder is hidden from sandboxed runs too (another copy may have used it).
    assert agent_home / ".config" / "database-use" in sandbox.user_config_dirs()


def test_dotenv_cannot_set_them_either(proj, agent_home, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(proj.root))  # .env values never override; start from one
    (proj.root / ".env").write_text(
        f"XDG_CONFIG_HOME={agent_home / '.config'}\nHOME={agent_home}\n"
        "DATABASE_USE_APPROVAL_TTL=604800\n"
    )
    load_dotenv_file(proj.root)
    assert os.environ["XDG_CONFIG_HOME"] == str(agent_home / ".config")  # .env did load it...
    try:
        assert policy.config_dir() == policy.person_home() / ".config" / "database-use"
        assert policy.load_policy().elicitation_allowed is False  # ...and it changed nothing
        assert sandbox.status(proj.root).enabled
    finally:
        os.environ.pop("DATABASE_USE_APPROVAL_TTL", None)


@pytest.mark.anyio
async def test_a_server_started_with_the_agents_home_uses_the_persons_config_and_key(
    proj, example_db_url, agent_home
):
    # The agent's own approver key, and an approval it signed with it for its own proposal.
    approvals.setup_approver(AGENT_PASSPHRASE)
    agent_key = approvals.unlock(AGENT_PASSPHRASE)
    shutil.move(
        approvals.approver_path(), agent_home / ".config" / "database-use" / "approver.json"
    )
    approvals.setup_approver(PERSON_PASSPHRASE)  # the person's own, in the person's config
    change_id = propose_column_change(proj, "users", "drop", "email")["id"]
    prepared = get_change(proj, change_id)
    with psycopg.connect(example_db_url) as conn:
        identity = approvals.database_identity(conn)
    approvals.grant(
        proj,
        "change",
        change_id,
        prepared["sql_sha256"],
        signer=agent_key,
        schema_hash=prepared["schema_hash"],
        target=identity,
    )
    # What .mcp.json's "env" would give the server.
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--project-root", str(proj.root)],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(REPO_ROOT),
            "DATABASE_URL": example_db_url,
            "HOME": str(agent_home),
            "XDG_CONFIG_HOME": str(agent_home / ".config"),
        },
        cwd=str(proj.root),
    )
    dialog = Person("accept", True)
    async with Client(params, elicitation_callback=dialog, mode="legacy") as client:
        forged = (
            await client.call_tool("apply_change", {"change_id": change_id})
        ).structured_content
        record = approvals.record_path(proj, "change", change_id)
        assert record.is_file()  # not honoured, not consumed
        record.unlink()
        asked = await client.call_tool("apply_change", {"change_id": change_id})
        checked = (await client.call_tool("doctor", {})).structured_content
    # The approval signed with the agent's key does not count: the person's key verifies.
    assert forged["outcome"] == "approval_required" and forged["applied"] is False, forged
    data = asked.structured_content
    assert data["outcome"] == "approval_required" and "config" in data["message"], data
    assert dialog.messages == []  # the agent's "allow = true" never opened a dialog
    assert "email" in columns(example_db_url)
    checks = {c["key"]: c for c in checked["checks"]}
    assert checks["elicitation"]["status"] == "ok"  # the person's config: dialogs cannot approve
    assert checks["sandbox"]["status"] == "ok"  # the agent's sandbox = "off" did not count
    assert checks["approver"]["status"] == "ok"
    assert (
        "ignored" in checks["environment"]["detail"]
        and str(agent_home) in checks["environment"]["detail"]
    )
    # Nothing of the person's landed in the agent's folder.
    assert sorted(p.name for p in (agent_home / ".config" / "database-use").iterdir()) == [
        "approver.json",
        "config.toml",
    ]
