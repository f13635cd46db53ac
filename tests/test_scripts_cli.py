"""The script commands of schema_inspector.py, run as a person or CI would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests import person
from tests.conftest import REPO_ROOT

INSERT = (
    '"""Insert one user."""\nimport os, psycopg\n'
    'with psycopg.connect(os.environ["DATABASE_URL"]) as conn:\n'
    "    conn.execute(\"INSERT INTO users (email, username, pw_hashed) VALUES ('cli@example.com', 'cli', 'x')\")\n"
)


@pytest.fixture
def env(private_home: Path, example_db_url: str) -> dict[str, str]:
    home = private_home
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DATABASE_URL": example_db_url,
        "PYTHONPATH": str(REPO_ROOT),
    }


def cli(project: Path, env: dict[str, str], *args: str, stdin: str = ""):
    return subprocess.run(
        # --project-root goes first: whatever follows run-script's `--` belongs to the script.
        [
            sys.executable,
            str(REPO_ROOT / "utils_db" / "schema_inspector.py"),
            "--project-root",
            str(project),
            *args,
        ],
        env=env,
        input=stdin,
        start_new_session=True,  # like an agent's shell tool: no controlling terminal
        capture_output=True,
        text=True,
        timeout=120,
    )


def inserted(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM users WHERE email = 'cli@example.com'"
        ).fetchone()[0]


def test_draft_list_run_promote(project, env, example_db_url, tmp_path):
    src = tmp_path / "count.py"
    src.write_text('"""Count users."""\nimport sys\nprint("args", sys.argv[1:])\n')
    drafted = cli(project, env, "draft-script", "count_users", "--from-file", str(src))
    assert drafted.returncode == 0, drafted.stderr
    assert (project / "temp" / "count_users.py").read_text() == src.read_text()
    listed = cli(project, env, "list-scripts", "--format", "json")
    assert [d["name"] for d in json.loads(listed.stdout)["drafts"]] == ["count_users"]
    ran = cli(project, env, "run-script", "count_users", "--", "--flag", "two words")
    assert ran.returncode == 0, ran.stderr
    assert "args ['--flag', 'two words']" in ran.stdout and "read-only" in ran.stdout
    promoted = cli(project, env, "promote-script", "count_users")
    assert promoted.returncode == 0 and (project / "utils_db" / "count_users.py").exists()
    again = cli(project, env, "draft-script", "count_users", stdin="print(1)\n")
    assert again.returncode == 0
    refused = cli(project, env, "promote-script", "count_users")
    assert refused.returncode == 2 and "already exists" in refused.stderr


def test_failing_script_exits_1_and_write_is_refused_in_read_only_mode(
    project, env, example_db_url
):
    assert cli(project, env, "draft-script", "add_user", stdin=INSERT).returncode == 0
    ran = cli(project, env, "run-script", "add_user", "--format", "json")
    assert ran.returncode == 1
    data = json.loads(ran.stdout)
    assert data["mode"] == "read-only" and "read-only transaction" in data["stderr"]
    assert inserted(example_db_url) == 0


def test_syntax_error_and_bad_name_are_one_line_errors(project, env):
    bad = cli(project, env, "draft-script", "broken", stdin="def f(:\n")
    assert bad.returncode == 2 and "line 1" in bad.stderr and "Traceback" not in bad.stderr
    escape = cli(project, env, "draft-script", "../evil", stdin="print(1)\n")
    assert escape.returncode == 2 and "invalid script name" in escape.stderr
    assert not (project.parent / "evil.py").exists()


def test_write_needs_approval_and_approve_script_needs_a_terminal(project, env, example_db_url):
    assert cli(project, env, "draft-script", "add_user", stdin=INSERT).returncode == 0
    refused = cli(project, env, "run-script", "add_user", "--write")
    assert refused.returncode == 2
    match = re.search(r"approve-script (script-add_user-[0-9a-f]{16})", refused.stderr)
    assert match, refused.stderr
    piped = cli(project, env, "approve-script", match.group(1), stdin="ANYTHING\n")
    assert piped.returncode == 2 and "no controlling terminal" in piped.stderr
    assert inserted(example_db_url) == 0


@pytest.mark.parametrize("command", ["approve-script", "approve"])
def test_person_approves_on_a_terminal_then_write_runs_once(project, env, example_db_url, command):
    """Both human commands work: approve-script, and approve (one command for every request)."""
    assert cli(project, env, "draft-script", "add_user", stdin=INSERT).returncode == 0
    refused = cli(project, env, "run-script", "add_user", "--write")
    request_id = re.search(r"approve-script (script-add_user-[0-9a-f]{16})", refused.stderr).group(
        1
    )

    screen = person.approves(project, request_id, env["DATABASE_URL"], command=command)
    assert "temp/add_user.py" in screen and "INSERT INTO users" in screen and "WRITE" in screen
    assert "approved one write-mode run" in screen

    ran = cli(project, env, "run-script", "add_user", "--write")
    assert ran.returncode == 0, ran.stderr
    assert inserted(example_db_url) == 1
    second = cli(project, env, "run-script", "add_user", "--write")
    assert second.returncode == 2 and "approve-script" in second.stderr
    assert inserted(example_db_url) == 1
