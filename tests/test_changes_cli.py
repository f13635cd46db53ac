"""The change commands of schema_inspector.py, run as a person would: subprocesses, a real TTY."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from database_use import approvals
from database_use.project import Project
from tests import person
from tests.conftest import REPO_ROOT

SCRIPT = str(REPO_ROOT / "utils_db" / "schema_inspector.py")


@pytest.fixture
def env(private_home: Path, example_db_url: str) -> dict[str, str]:
    home = private_home
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DATABASE_URL": example_db_url,
        "PYTHONPATH": str(REPO_ROOT),
    }


def run(
    env: dict[str, str], project: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, SCRIPT, *args, "--project-root", str(project)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,  # like an agent's shell tool: no controlling terminal
    )


def propose(env: dict[str, str], project: Path, *args: str) -> dict:
    done = run(env, project, "propose", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def approve_on_tty(
    env: dict[str, str], project: Path, change_id: str, answer: str = person.PASSPHRASE
) -> tuple[int, str]:
    """Run ``approve`` on a pseudo-terminal and type the passphrase (set up first) or ``answer``."""
    answers = []
    if not approvals.approver_exists():
        answers = [
            ("New approver passphrase: ", person.PASSPHRASE),
            ("Repeat it: ", person.PASSPHRASE),
            ("[Y/n] ", "y"),
        ]
    answers += [("Approver passphrase to approve", answer)] * (
        1 if answer == person.PASSPHRASE else 3
    )
    return person.on_tty(
        person.cli("approve", change_id, "--project-root", str(project)), env, answers
    )


def test_propose_text_and_json(env, project: Path, example_db_url: str) -> None:
    done = run(env, project, "propose", "users", "add", "nickname", "--type", "varchar(40)")
    assert done.returncode == 0, done.stderr
    assert 'ADD COLUMN "nickname" character varying(40)' in done.stdout
    assert "dry-run: ok" in done.stdout and "database-use approve chg-" in done.stdout
    bad = run(env, project, "propose", "users", "add", "x", "--type", "text; DROP TABLE users")
    assert bad.returncode == 2 and "unknown or unsupported type" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_approve_through_a_pseudo_terminal_then_apply(
    env, project: Path, example_db_url: str
) -> None:
    proposal = propose(env, project, "users", "add", "nickname", "--type", "text")
    code, screen = approve_on_tty(env, project, proposal["id"])
    assert code == 0, screen
    for needle in (proposal["sql"][0], "Dry-run (rolled back): succeeded", "approved change"):
        assert needle in screen, needle
    proj = Project(root=project, url_override=example_db_url)
    status = approvals.approval_status(
        proj,
        "change",
        proposal["id"],
        proposal["sql_sha256"],
        schema_hash=proposal["schema_hash"],
    )
    assert status["state"] == "valid" and status["approval"]["channel"] == "terminal"
    listed = json.loads(run(env, project, "list-changes", "--format", "json").stdout)
    assert listed["changes"][0]["status"] == "approved"
    assert listed["changes"][0]["approved_by"] == approvals.current_user()
    applied = run(env, project, "apply", proposal["id"])
    assert applied.returncode == 0, applied.stderr
    assert "applied change" in applied.stdout and "via terminal" in applied.stdout
    with psycopg.connect(example_db_url) as conn:
        names = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
            ).fetchall()
        }
    assert "nickname" in names


def test_wrong_passphrase_on_the_terminal_approves_nothing(env, project: Path) -> None:
    proposal = propose(env, project, "users", "add", "nickname", "--type", "text")
    code, screen = approve_on_tty(env, project, proposal["id"], answer="yes")
    assert code != 0 and "not approved" in screen
    listed = json.loads(run(env, project, "list-changes", "--format", "json").stdout)
    assert listed["changes"][0]["status"] == "proposed"


def test_approve_through_a_pipe_is_refused(env, project: Path, example_db_url: str) -> None:
    proposal = propose(env, project, "users", "add", "nickname", "--type", "text")
    done = run(env, project, "approve", proposal["id"], stdin="y\n" * 20)
    assert done.returncode == 2 and "no controlling terminal" in done.stderr
    applied = run(env, project, "apply", proposal["id"])
    assert applied.returncode == 2 and "not approved" in applied.stderr
    assert f"approve {proposal['id']}" in applied.stderr


def test_reject_and_list(env, project: Path) -> None:
    proposal = propose(env, project, "users", "drop", "last_login_at")
    done = run(env, project, "reject", proposal["id"], "--reason", "keep it")
    assert done.returncode == 0 and "rejected" in done.stdout
    listed = run(env, project, "list-changes")
    assert proposal["id"] in listed.stdout and "rejected" in listed.stdout
    assert run(env, project, "apply", proposal["id"]).returncode == 2
