"""doctor: the tier a setup gives and each gap with its fix, through the CLI and MCP clients.

A good setup (sandbox on, approver set up, DATABASE_URL an owner role that is no superuser, a
checked read-only role, the tool outside the project) is T2 with no gap; a bad one (superuser
DATABASE_URL, no read-only role, the sandbox turned off in the person's config, the engine
copied into the project and started from there) is T1 with exactly those findings, and the
server started from that copy warns about it on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from mcp import Client
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from database_use import approvals, doctor, installer, roles
from database_use.project import Project
from mcp_server.server import build_server
from tests.conftest import REPO_ROOT
from tests.owned_db import owned_database

CLI = [str(Path(sys.executable).parent / "database-use")]


def child_env(url: str, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "DATABASE_URL": url}
    env.update(extra)
    return env


def by_key(result: dict) -> dict[str, dict]:
    return {c["key"]: c for c in result["checks"]}


@pytest.fixture
def good(project: Path, pg_server, make_database):
    """An app database owned by a role that is no superuser, with a checked read-only role."""
    made = owned_database(pg_server, make_database, createrole=True)
    owner, password, owner_url, dbname = made.owner, made.password, made.owner_url, made.dbname
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
    (project / ".env").write_text(f"DATABASE_URL={owner_url}\n")
    proj = Project(root=project, url_override=owner_url)
    plan = roles.plan_readonly_role(proj, f"ro_{uuid.uuid4().hex[:8]}")
    roles.create_readonly_role(proj, plan)
    os.environ.pop(roles.ENV_KEY, None)  # read from .env from here on
    approvals.setup_approver("the person's own approver passphrase")
    installer.register("claude-code", project_root=project)
    yield proj, owner_url, password, plan
    os.environ.pop(roles.ENV_KEY, None)
    pg_server.drop_database(dbname)
    for role in (plan.role, owner):
        pg_server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_good_setup_is_t2_without_gaps(good):
    proj, owner_url, password, plan = good
    result = doctor.diagnose(proj)
    checks = by_key(result)
    assert [c for c in result["checks"] if c["status"] == "gap"] == []
    assert result["tier"] == "T2" and result["ok"] and result["gaps"] == 0
    assert "Not T3" in result["summary"]
    assert checks["sandbox"]["status"] == "ok"
    assert (
        checks["readonly_role"]["status"] == "ok" and plan.role in checks["readonly_role"]["detail"]
    )
    assert checks["database_url"]["status"] == "ok"
    assert checks["engine_location"]["status"] == "ok"
    assert checks["registered:.mcp.json"]["status"] == "ok"
    assert checks["strict_mode"]["status"] == "info"
    assert checks["dotenv_url"]["status"] == "info" and "directly" in checks["dotenv_url"]["detail"]
    # The CLI: the same answer, exit 0, and no password anywhere.
    done = subprocess.run(
        [*CLI, "doctor", "--format", "json"],
        cwd=proj.root,
        env=child_env(owner_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["tier"] == "T2"
    text = subprocess.run(
        [*CLI, "doctor"], cwd=proj.root, env=child_env(owner_url), capture_output=True, text=True
    )
    assert text.returncode == 0 and text.stdout.startswith("tier T2:") and "no gaps" in text.stdout
    ro_password = conninfo_to_dict(plan.url)["password"]
    for out in (done.stdout, done.stderr, text.stdout, text.stderr):
        assert password not in out and ro_password not in out


@pytest.mark.anyio
async def test_the_mcp_tool_is_read_only_and_gives_the_same_answer(good):
    proj, owner_url, _, _ = good
    server = build_server(proj.root, database_url=owner_url)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        tool = next(t for t in tools if t.name == "doctor")
        # Creating the read-only role is the person's command, never a tool the agent can call.
        assert not [t.name for t in tools if "role" in t.name or "setup" in t.name]
        assert tool.annotations.read_only_hint and not tool.annotations.destructive_hint
        result = await client.call_tool("doctor", {})
    assert not result.is_error
    data = result.structured_content
    assert data["tier"] == "T2" and data["ok"] is True
    assert {c["key"] for c in data["checks"]} >= {"sandbox", "readonly_role", "approver"}
    assert json.loads(result.content[0].text)["tier"] == "T2"


@pytest.fixture
def bad(proj, example_db_url, private_home):
    """Superuser DATABASE_URL, no read-only role, sandbox off by the person, engine copied in."""
    config = private_home / ".config" / "database-use"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('sandbox = "off"\n')
    for package in ("database_use", "mcp_server"):
        shutil.copytree(
            REPO_ROOT / package,
            proj.root / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    (proj.root / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "database-use": {
                        "command": ".venv/bin/python",
                        "args": ["-m", "mcp_server", "--project-root", "."],
                        "env": {"HOME": "temp/agent-home"},
                    }
                }
            }
        )
    )
    return proj


def copied_cli(proj, url: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m database_use`` from the project folder: the copy in the project runs."""
    return subprocess.run(
        [sys.executable, "-m", "database_use", *args],
        cwd=proj.root,
        env=child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_setup_is_t1_and_names_each_gap(bad, example_db_url):
    done = copied_cli(bad, example_db_url, "doctor", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    checks = by_key(result)
    assert result["tier"] == "T1" and not result["ok"]
    assert checks["sandbox"]["status"] == "gap" and "turned off" in checks["sandbox"]["detail"]
    assert 'sandbox = "off"' in checks["sandbox"]["fix"]
    ro = checks["readonly_role"]
    assert ro["status"] == "gap" and ro["blocks_t2"]
    assert "DATABASE_READONLY_URL not set" in ro["detail"] and "is a superuser" in ro["detail"]
    assert "roles readonly-setup" in ro["fix"]
    admin = checks["database_url"]
    assert admin["status"] == "gap" and "TO PROGRAM" in admin["detail"]
    engine = checks["engine_location"]
    assert engine["status"] == "gap" and str(bad.root / "database_use") in engine["detail"]
    assert "pipx install" in engine["fix"]
    registered = checks["registered:.mcp.json"]
    assert registered["status"] == "gap" and "sys.path" in registered["detail"]
    assert "inside the project" in registered["detail"]
    assert checks["registered_env:.mcp.json"]["detail"].startswith("sets HOME: ignored")
    for check in ("sandbox", "readonly_role", "engine_location", "registered:.mcp.json"):
        assert checks[check]["blocks_t2"], check
    password = conninfo_to_dict(example_db_url)["password"]
    assert password not in done.stdout + done.stderr
    assert "***" in admin["detail"]
    # The table for people: every gap with its fix line.
    text = copied_cli(bad, example_db_url, "doctor")
    assert text.returncode == 1 and text.stdout.startswith("tier T1:")
    assert text.stdout.count("GAP") == result["gaps"] and "→ " in text.stdout
    assert password not in text.stdout + text.stderr


def test_claiming_to_be_the_tools_own_repo_does_not_raise_the_tier(bad, example_db_url):
    # The agent writes the tool's name into the project's pyproject.toml: the copied engine is
    # then "a development checkout", an info instead of a gap, but still keeps the tier at T1.
    (bad.root / "pyproject.toml").write_text('[project]\nname = "database-use"\n')
    result = json.loads(copied_cli(bad, example_db_url, "doctor", "--format", "json").stdout)
    engine = by_key(result)["engine_location"]
    assert result["development"] and engine["status"] == "info" and engine["blocks_t2"]
    assert result["tier"] == "T1"


def start_and_stop(argv: list[str], root: Path, url: str) -> subprocess.CompletedProcess:
    """Start the stdio server with no client (stdin at EOF): it logs its start-up lines, ends."""
    return subprocess.run(
        [*argv, "--project-root", str(root)],
        cwd=root,
        env=child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_the_server_started_from_the_copy_warns_at_start(bad, example_db_url):
    proc = start_and_stop([sys.executable, "-m", "mcp_server"], bad.root, example_db_url)
    lines = proc.stderr.splitlines()
    tier = [line for line in lines if "tier T1 (T2 needs:" in line]
    assert len(tier) == 1 and "doctor" in tier[0], proc.stderr
    warning = [line for line in lines if "WARNING" in line and "under the project root" in line]
    assert len(warning) == 1, proc.stderr
    assert conninfo_to_dict(example_db_url)["password"] not in proc.stderr
    assert proc.stdout == ""


def test_the_installed_server_says_its_tier_without_a_warning(good):
    proj, owner_url, _, _ = good
    proc = start_and_stop(
        [str(Path(sys.executable).parent / "database-use-mcp")], proj.root, owner_url
    )
    tier = [line for line in proc.stderr.splitlines() if " tier " in line]
    assert len(tier) == 1 and "tier T2" in tier[0], proc.stderr
    assert "WARNING" not in proc.stderr


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"command": ".venv/bin/python", "args": ["-m", "mcp_server"]}, "sys.path"),
        ({"command": "python3", "args": ["-m", "mcp_server"]}, "sys.path"),
        (
            {"command": "${workspaceFolder}/.venv/bin/database-use-mcp", "args": []},
            "inside the project",
        ),
        ({"command": "/usr/bin/env", "args": [], "env": {"PYTHONPATH": "."}}, "PYTHONPATH"),
        ({"command": "python3", "args": ["-I", "-m", "mcp_server"]}, None),
        ({"command": "/opt/tools/bin/database-use-mcp", "args": ["--project-root", "."]}, None),
    ],
)
def test_registered_entries_that_run_project_code_are_named(tmp_path, entry, problem):
    problems = doctor.entry_problems(entry, tmp_path)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
