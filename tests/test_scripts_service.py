"""Vetted scripts service: list, draft, promote, run (read-only by default), write approvals."""

from __future__ import annotations

import os
import shutil
import textwrap

import psycopg
import pytest

from database_use import approvals
from database_use.errors import ChangeRefused, InvalidRequest, NotFound, ScriptError
from database_use.project import Project
from database_use.scripts import service as svc
from tests import person
from tests.conftest import REPO_ROOT

INSERT_PSYCOPG = textwrap.dedent(
    """\
    \"\"\"Insert one user (a write).\"\"\"
    import os
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute(
            "INSERT INTO users (email, username, pw_hashed) VALUES ('draft@example.com', 'draft', 'x')"
        )
    print("inserted")
    """
)

INSERT_SQLALCHEMY = textwrap.dedent(
    """\
    \"\"\"Insert one user through the shared db object (SQLAlchemy session).\"\"\"
    from sqlalchemy import text
    from utils_db.database import db

    with db.session() as s:
        s.execute(text("INSERT INTO users (email, username, pw_hashed) VALUES ('orm@example.com', 'orm', 'x')"))
    print("inserted")
    """
)

INSERT_DB_CONNECT = textwrap.dedent(
    """\
    \"\"\"Insert one user through db.connect (plain psycopg, options given explicitly).\"\"\"
    from utils_db.database import db

    with db.connect() as conn:
        conn.execute("INSERT INTO users (email, username, pw_hashed) VALUES ('conn@example.com', 'conn', 'x')")
        conn.commit()
    print("inserted")
    """
)


@pytest.fixture(autouse=True)
def _private_approval_key(tmp_path, monkeypatch):
    """Approvals sign with a key outside the project: keep the test's key in its own tmp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def count_users(url: str, email: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone()[0]


# -- read-only by default -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "email"),
    [
        (INSERT_PSYCOPG, "draft@example.com"),
        (INSERT_SQLALCHEMY, "orm@example.com"),
        (INSERT_DB_CONNECT, "conn@example.com"),
    ],
    ids=["psycopg", "sqlalchemy-session", "db.connect"],
)
def test_draft_insert_fails_in_default_mode_and_row_is_absent(proj, example_db_url, source, email):
    svc.draft_script(proj, "add_user", source)
    result = svc.run_script(proj, "add_user")
    assert result["mode"] == "read-only"
    assert result["exit_code"] != 0 and not result["ok"]
    assert "read-only transaction" in result["stderr"]
    assert "inserted" not in result["stdout"]
    assert count_users(example_db_url, email) == 0


def test_reading_works_in_default_mode(proj):
    svc.draft_script(
        proj,
        "count_users",
        "from sqlalchemy import text\nfrom utils_db.database import db\n"
        "with db.session() as s:\n    print('users:', s.execute(text('SELECT count(*) FROM users')).scalar())\n",
    )
    result = svc.run_script(proj, "count_users")
    assert result["ok"], result["stderr"]
    assert result["stdout"].strip() == "users: 0"


@pytest.mark.parametrize(
    "line",
    [
        "conn.execute('SET default_transaction_read_only = off')",
        "conn.execute('BEGIN READ WRITE')",
        "psycopg.connect(url, options='-c statement_timeout=0')",
        "os.environ.pop('PGOPTIONS')",
    ],
)
def test_scripts_that_visibly_leave_read_only_are_refused_before_running(proj, tmp_path, line):
    marker = tmp_path / "ran"
    svc.draft_script(
        proj, "sneaky", f"import os, psycopg\nopen({str(marker)!r}, 'w')\nif False:\n    {line}\n"
    )
    with pytest.raises(ScriptError, match="read-only"):
        svc.run_script(proj, "sneaky")
    assert not marker.exists()


# -- write mode needs a person's approval -----------------------------------------------------
def test_write_mode_without_approval_is_refused_and_names_the_human_command(proj, example_db_url):
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG)
    with pytest.raises(ChangeRefused) as info:
        svc.run_script(proj, "add_user", write=True)
    assert "approve-script script-add_user-" in str(info.value)
    assert count_users(example_db_url, "draft@example.com") == 0


def test_write_mode_with_approval_runs_once_and_is_bound_to_content_and_args(proj, example_db_url):
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG)
    request = svc.request_write(proj, "add_user")
    assert request["status"]["state"] == "none"
    # A person said yes (what the terminal command and the MCP elicitation do after asking).
    person.approves(proj.root, request["id"], proj.database_url, command="approve-script")
    # Other arguments are another request: the approval does not cover them.
    with pytest.raises(ChangeRefused):
        svc.run_script(proj, "add_user", args=["--other"], write=True)
    result = svc.run_script(proj, "add_user", write=True)
    assert result["ok"], result["stderr"]
    assert result["mode"] == "write" and result["approval"]["channel"] == "terminal"
    assert count_users(example_db_url, "draft@example.com") == 1
    # Used once.
    with pytest.raises(ChangeRefused):
        svc.run_script(proj, "add_user", write=True)


def test_approval_does_not_survive_an_edit_of_the_script(proj, example_db_url):
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG)
    request = svc.request_write(proj, "add_user")
    person.approves(proj.root, request["id"], proj.database_url, command="approve-script")
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG + "print('edited')\n", overwrite=True)
    with pytest.raises(ChangeRefused):
        svc.run_script(proj, "add_user", write=True)
    with pytest.raises(ChangeRefused, match="changed since"):
        svc.load_request(proj, request["id"])
    assert count_users(example_db_url, "draft@example.com") == 0


def test_forged_approval_record_is_refused(proj, example_db_url):
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG)
    request = svc.request_write(proj, "add_user")
    person.approves(proj.root, request["id"], proj.database_url, command="approve-script")
    record = approvals.record_path(proj, "script", request["id"])
    record.write_text(record.read_text().replace('"terminal"', '"elicitation"'))
    with pytest.raises(ChangeRefused):
        svc.run_script(proj, "add_user", write=True)
    assert count_users(example_db_url, "draft@example.com") == 0


def test_approval_text_shows_script_args_hash_and_target(proj):
    svc.draft_script(proj, "add_user", INSERT_PSYCOPG)
    request = svc.request_write(proj, "add_user", ["--limit", "5"])
    text = svc.approval_text(svc.load_request(proj, request["id"]))
    assert "temp/add_user.py" in text and "--limit 5" in text and request["sha256"] in text
    assert "INSERT INTO users" in text and "WRITE" in text
    assert (
        "@" not in text.split("\n")[0] or "***" not in text
    )  # target is host:port/db, no credentials


# -- paths can't escape --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["../x", "/etc/passwd", "temp/../x", "a/b", "X", "1abc", "", "a" * 65, "..", "x.py/.."]
)
def test_bad_names_are_refused_everywhere(proj, name):
    with pytest.raises(InvalidRequest):
        svc.draft_script(proj, name, "print(1)\n")
    with pytest.raises(InvalidRequest):
        svc.run_script(proj, name)
    with pytest.raises(InvalidRequest):
        svc.promote_script(proj, name)
    assert not (proj.root.parent / "x.py").exists()


def test_symlink_in_temp_pointing_out_is_refused(proj, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("print('outside ran')\n")
    (proj.temp_dir / "evil.py").symlink_to(outside)
    with pytest.raises(InvalidRequest, match="outside"):
        svc.run_script(proj, "evil")
    with pytest.raises(InvalidRequest):
        svc.promote_script(proj, "evil")
    with pytest.raises(InvalidRequest):
        svc.draft_script(proj, "evil", "print(2)\n", overwrite=True)
    assert outside.read_text() == "print('outside ran')\n"
    listing = svc.list_scripts(proj)
    assert all(d["name"] != "evil" for d in listing["drafts"])
    assert any("evil.py" in s for s in listing["skipped"])


def test_symlinked_temp_dir_outside_project_is_refused(proj, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(proj.temp_dir)
    proj.temp_dir.symlink_to(elsewhere)
    with pytest.raises(InvalidRequest):
        svc.draft_script(proj, "x", "print(1)\n")
    assert list(elsewhere.iterdir()) == []


def test_engine_modules_are_not_runnable(proj):
    shutil.copy(
        REPO_ROOT / "utils_db" / "schema_inspector.py", proj.scripts_dir / "schema_inspector.py"
    )
    with pytest.raises(InvalidRequest, match="hands over to the database-use command line"):
        svc.run_script(proj, "utils_db/schema_inspector")
    with pytest.raises(NotFound):
        svc.run_script(proj, "schema_inspector")
    assert all(s["name"] != "schema_inspector" for s in svc.list_scripts(proj)["scripts"])


# -- draft, promote, list ----------------------------------------------------------------------
def test_draft_promote_list_and_no_overwrite(proj):
    content = '"""Count users per role."""\nimport argparse\n\nif __name__ == "__main__":\n    argparse.ArgumentParser().parse_args()\n'
    drafted = svc.draft_script(proj, "role_counts", content)
    assert drafted["kind"] == "draft" and (proj.temp_dir / "role_counts.py").read_text() == content
    assert [d["name"] for d in svc.list_scripts(proj)["drafts"]] == ["role_counts"]
    with pytest.raises(ScriptError, match="already exists"):
        svc.draft_script(proj, "role_counts", "print(1)\n")
    assert (proj.temp_dir / "role_counts.py").read_text() == content

    promoted = svc.promote_script(proj, "role_counts")
    assert promoted["kind"] == "canonical" and promoted["path"] == "utils_db/role_counts.py"
    assert not (proj.temp_dir / "role_counts.py").exists()
    listing = svc.list_scripts(proj)
    assert listing["drafts"] == []
    assert [(s["name"], s["kind"], s["purpose"]) for s in listing["scripts"]] == [
        ("role_counts", "canonical", "Count users per role.")
    ]
    # A second draft of the same name cannot silently replace the canonical script.
    svc.draft_script(proj, "role_counts", content + "# v2\n")
    with pytest.raises(ScriptError, match="already exists"):
        svc.promote_script(proj, "role_counts")
    assert (proj.scripts_dir / "role_counts.py").read_text() == content
    # With both present, a bare name is ambiguous; prefixes pick one.
    with pytest.raises(InvalidRequest, match="both"):
        svc.run_script(proj, "role_counts")
    assert svc.run_script(proj, "temp/role_counts")["ok"]
    # Replacing a vetted script is for a person (the CLI at a terminal), never for a tool.
    with pytest.raises(ChangeRefused, match="only a person"):
        svc.promote_script(proj, "role_counts", overwrite=True)
    assert (proj.scripts_dir / "role_counts.py").read_text() == content
    svc.promote_script(proj, "role_counts", overwrite=True, by_person=True)
    assert (proj.scripts_dir / "role_counts.py").read_text().endswith("# v2\n")


def test_syntax_error_names_the_line_and_writes_nothing(proj):
    with pytest.raises(ScriptError, match="line 3"):
        svc.draft_script(proj, "broken", "x = 1\ny = 2\nif x\n    pass\n")
    assert not (proj.temp_dir / "broken.py").exists()


def test_content_size_is_bounded(proj):
    with pytest.raises(ScriptError, match="limited"):
        svc.draft_script(proj, "huge", "#" * (svc.MAX_SCRIPT_BYTES + 1))


def test_list_describes_utilities_statically_and_skips_libraries(proj, tmp_path):
    for name in ("user_password_utils.py", "user_management_utils.py", "media_utils.py"):
        shutil.copy(REPO_ROOT / "utils_db" / name, proj.scripts_dir / name)
    marker = tmp_path / "imported"
    (proj.scripts_dir / "helpers.py").write_text(f'"""A library."""\nopen({str(marker)!r}, "w")\n')
    listing = svc.list_scripts(proj)
    by_name = {s["name"]: s for s in listing["scripts"]}
    assert set(by_name) == {"user_password_utils", "user_management_utils", "media_utils"}
    assert not marker.exists()  # nothing was imported or executed
    media = by_name["media_utils"]
    assert media["purpose"].startswith("Media records")
    commands = {c["name"]: c for c in media["commands"]}
    assert set(commands) == {"list", "sizes", "missing", "delete"}
    delete_flags = [a["flags"] for a in commands["delete"]["arguments"]]
    assert ["media_id"] in delete_flags and ["--dry-run"] in delete_flags
    assert any(
        a["flags"] == ["--media-root"] and a["required"] for a in commands["missing"]["arguments"]
    )
    users = {c["name"] for c in by_name["user_management_utils"]["commands"]}
    assert {"activate", "deactivate", "create", "set-role"} <= users


# -- output bounds and timeouts ------------------------------------------------------------------
def test_output_is_bounded_and_flagged(proj):
    svc.draft_script(
        proj, "loud", "import sys\nsys.stdout.write('x' * 300_000)\nsys.stderr.write('e' * 10)\n"
    )
    result = svc.run_script(proj, "loud", output_limit=64 * 1024)
    assert result["ok"]
    assert result["stdout_truncated"] and len(result["stdout"]) == 64 * 1024
    assert result["stdout_bytes"] == 300_000
    assert not result["stderr_truncated"] and result["stderr"] == "e" * 10


def test_timeout_kills_the_script_and_its_children(proj, tmp_path):
    marker = tmp_path / "child-survived"
    child = f"import time; time.sleep(3); open({str(marker)!r}, 'w')"
    svc.draft_script(
        proj,
        "slow",
        f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {child!r}])\ntime.sleep(60)\n",
    )
    result = svc.run_script(proj, "slow", timeout=1)
    assert result["timed_out"] and not result["ok"]
    assert "timeout" in result["stderr"]
    import time

    time.sleep(4)  # give a surviving child the chance to write its marker
    assert not marker.exists()


def test_arguments_are_passed_as_a_list_without_a_shell(proj, tmp_path):
    svc.draft_script(proj, "echo_args", "import sys, json\nprint(json.dumps(sys.argv[1:]))\n")
    args = ["a b", "$(touch pwned)", "; rm -rf /", "--flag=1"]
    result = svc.run_script(proj, "echo_args", args=args)
    import json

    assert json.loads(result["stdout"]) == args
    assert not (proj.root / "pwned").exists()
    with pytest.raises(InvalidRequest):
        svc.run_script(proj, "echo_args", args="a b")


def test_output_masks_urls_and_password_hashes(proj):
    svc.draft_script(
        proj,
        "leaky",
        "import os\nprint(os.environ['DATABASE_URL'])\nprint('$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA')\n",
    )
    result = svc.run_script(proj, "leaky")
    assert "$argon2id$***" in result["stdout"]
    assert "aGFzaA" not in result["stdout"]


def test_child_environment(proj):
    svc.draft_script(
        proj,
        "env_dump",
        # (The name is split because a script that names PGOPTIONS is refused in read-only mode.)
        "import os\nfor k in ('PG' + 'OPTIONS', 'DATABASE_USE_SCRIPT_MODE'):\n    print(k, os.environ.get(k))\n"
        "print('cwd', os.getcwd())\n",
    )
    os.environ["TEST_DATABASE_URL"] = "postgresql://u:p@elsewhere:5433/x"
    try:
        out = svc.run_script(proj, "env_dump")["stdout"]
    finally:
        del os.environ["TEST_DATABASE_URL"]
    assert "default_transaction_read_only=on" in out and "statement_timeout=" in out
    assert "DATABASE_USE_SCRIPT_MODE read-only" in out
    assert f"cwd {proj.root}" in out


def test_the_repos_canonical_scripts_are_exactly_the_runnable_ones():
    """Engine modules are never offered as scripts; every real script in utils_db/ is."""
    listed = svc.list_scripts(Project(root=REPO_ROOT))
    canonical = {entry["name"] for entry in listed["scripts"] if entry["kind"] != "draft"}
    assert canonical == {
        "media_utils",
        "user_management_utils",
        "user_password_utils",
    }
