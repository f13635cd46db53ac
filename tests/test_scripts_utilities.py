"""The preferred utilities (users, passwords, media) on a real PostgreSQL, as scripts and as functions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO_ROOT

UTILITIES = ("user_password_utils.py", "user_management_utils.py", "media_utils.py")
SECRET = "correct horse battery staple"


def install_utilities(project: Path) -> None:
    for name in UTILITIES:
        shutil.copy(REPO_ROOT / "utils_db" / name, project / "utils_db" / name)


def run(project: Path, url: str, script: str, *args: str, stdin: str | None = None, extra_env=None):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": url,
        "PYTHONPATH": str(REPO_ROOT),
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, str(project / "utils_db" / script), *args],
        cwd=project,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def query(url: str, sql: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def seeded(example_db_url: str) -> str:
    """Two users (admin alice with a known password, viewer bob) and three media rows."""
    from argon2 import PasswordHasher

    hashed = PasswordHasher().hash(SECRET)
    with psycopg.connect(example_db_url) as conn:
        conn.execute(
            "INSERT INTO users (email, username, pw_hashed, role) VALUES "
            "('alice@example.com', 'alice', %s, 'admin'), ('bob@example.com', 'bob', %s, 'viewer')",
            (hashed, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
        )
        conn.execute(
            "INSERT INTO media (owner_id, kind, path, size_bytes) VALUES "
            "(1, 'image', 'a/one.png', 1000), (1, 'video', 'a/two.mp4', 5000), (2, 'audio', 'b/x.mp3', 10)"
        )
    return example_db_url


def pw_hash_of(url: str, email: str) -> str:
    return query(url, "SELECT pw_hashed FROM users WHERE email = %s", (email,))[0][0]


# -- --help and errors ------------------------------------------------------------------------
@pytest.mark.parametrize("script", UTILITIES)
def test_every_utility_has_help(project, script):
    install_utilities(project)
    result = run(project, "postgresql://u:p@127.0.0.1:1/x", script, "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout


def test_connection_error_is_one_line_exit_2_with_masked_password(project):
    install_utilities(project)
    result = run(project, "postgresql://u:hunter2@127.0.0.1:1/x", "media_utils.py", "sizes")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")


# -- passwords ---------------------------------------------------------------------------------
def test_set_password_from_stdin_stores_argon2id_and_prints_no_hash(project, seeded):
    install_utilities(project)
    before = pw_hash_of(seeded, "bob@example.com")
    result = run(
        project,
        seeded,
        "user_password_utils.py",
        "set",
        "bob@example.com",
        "--password-stdin",
        stdin="a-new-password-123\n",
    )
    assert result.returncode == 0, result.stderr
    after = pw_hash_of(seeded, "bob@example.com")
    assert after != before and after.startswith("$argon2id$")
    assert "$argon2" not in result.stdout + result.stderr
    assert "a-new-password-123" not in result.stdout + result.stderr
    ok = run(
        project,
        seeded,
        "user_password_utils.py",
        "verify",
        "2",
        "--password-stdin",
        stdin="a-new-password-123\n",
    )
    assert ok.returncode == 0 and "matches" in ok.stdout
    bad = run(
        project,
        seeded,
        "user_password_utils.py",
        "verify",
        "2",
        "--password-stdin",
        stdin="wrong-password\n",
    )
    assert bad.returncode == 1 and "NOT" in bad.stdout


def test_set_password_dry_run_writes_nothing(project, seeded):
    install_utilities(project)
    before = pw_hash_of(seeded, "alice@example.com")
    result = run(project, seeded, "user_password_utils.py", "set", "alice@example.com", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    assert pw_hash_of(seeded, "alice@example.com") == before


def test_password_is_never_taken_from_argv(project, seeded):
    install_utilities(project)
    result = run(
        project, seeded, "user_password_utils.py", "set", "1", "--password", "hunter2hunter2"
    )
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


def test_set_password_without_terminal_or_stdin_flag_is_refused(project, seeded):
    install_utilities(project)
    before = pw_hash_of(seeded, "alice@example.com")
    result = run(project, seeded, "user_password_utils.py", "set", "1")
    assert result.returncode == 2
    # Person-only, said so; never a nudge to pipe a password in.
    assert "person-only" in result.stderr and "own terminal" in result.stderr
    assert "pipe" not in result.stderr and "--password-stdin" not in result.stderr
    assert "Traceback" not in result.stderr
    assert pw_hash_of(seeded, "alice@example.com") == before


def test_short_password_is_refused(project, seeded):
    install_utilities(project)
    result = run(
        project, seeded, "user_password_utils.py", "set", "1", "--password-stdin", stdin="short\n"
    )
    assert result.returncode == 2 and "at least" in result.stderr


def test_needs_rehash_and_rehash(project, seeded):
    install_utilities(project)
    listed = run(project, seeded, "user_password_utils.py", "needs-rehash", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["email"] for r in json.loads(listed.stdout)] == ["bob@example.com"]
    assert "$argon2" not in listed.stdout
    # bob's stored hash has weak parameters; rehashing needs his password, which that fake hash
    # does not match, so a wrong password changes nothing.
    before = pw_hash_of(seeded, "bob@example.com")
    wrong = run(
        project, seeded, "user_password_utils.py", "rehash", "2", "--password-stdin", stdin="nope\n"
    )
    assert wrong.returncode == 1 and pw_hash_of(seeded, "bob@example.com") == before
    # alice's hash is current: nothing to do.
    same = run(
        project,
        seeded,
        "user_password_utils.py",
        "rehash",
        "1",
        "--password-stdin",
        stdin=SECRET + "\n",
    )
    assert same.returncode == 0 and "nothing to do" in same.stdout


def test_rehash_functions_upgrade_weak_hash(seeded):
    from argon2 import PasswordHasher

    from database_use.connection import db
    from utils_db.user_password_utils import rehash_password

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("weak-params-pw")
    with psycopg.connect(seeded) as conn:
        conn.execute("UPDATE users SET pw_hashed = %s WHERE id = 2", (weak,))
    db.configure(url=seeded)
    with db.session() as s:
        dry = rehash_password(s, "2", "weak-params-pw", dry_run=True)
    assert dry["needed"] and not dry["rehashed"] and pw_hash_of(seeded, "bob@example.com") == weak
    with db.session() as s:
        done = rehash_password(s, "bob@example.com", "weak-params-pw")
    assert done["rehashed"]
    new = pw_hash_of(seeded, "bob@example.com")
    assert new != weak and PasswordHasher().verify(new, "weak-params-pw")


# -- user management ------------------------------------------------------------------------------
def test_list_and_find_never_show_pw_hashed(project, seeded):
    install_utilities(project)
    for args in (
        ("list",),
        ("list", "--json"),
        ("find", "ali"),
        ("show", "1", "--json"),
        ("list", "--role", "admin"),
    ):
        result = run(project, seeded, "user_management_utils.py", *args)
        assert result.returncode == 0, result.stderr
        assert "$argon2" not in result.stdout and "pw_hashed" not in result.stdout
    rows = json.loads(run(project, seeded, "user_management_utils.py", "list", "--json").stdout)
    assert [r["email"] for r in rows] == ["alice@example.com", "bob@example.com"]
    found = json.loads(
        run(project, seeded, "user_management_utils.py", "find", "BOB", "--json").stdout
    )
    assert [r["username"] for r in found] == ["bob"]
    admins = json.loads(
        run(project, seeded, "user_management_utils.py", "list", "--role", "admin", "--json").stdout
    )
    assert [r["email"] for r in admins] == ["alice@example.com"]


def test_create_user_dry_run_then_real(project, seeded):
    install_utilities(project)
    args = ("create", "--email", "carol@example.com", "--username", "carol", "--role", "editor")
    dry = run(project, seeded, "user_management_utils.py", *args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert query(seeded, "SELECT count(*) FROM users WHERE email = 'carol@example.com'")[0][0] == 0
    real = run(
        project,
        seeded,
        "user_management_utils.py",
        *args,
        "--password-stdin",
        stdin="carols-password\n",
    )
    assert real.returncode == 0, real.stderr
    assert "carols-password" not in real.stdout + real.stderr and "$argon2" not in real.stdout
    row = query(
        seeded,
        "SELECT role::text, is_active, pw_hashed FROM users WHERE email = 'carol@example.com'",
    )
    assert row[0][0] == "editor" and row[0][1] is True and row[0][2].startswith("$argon2id$")
    dup = run(
        project,
        seeded,
        "user_management_utils.py",
        *args,
        "--password-stdin",
        stdin="carols-password\n",
    )
    assert dup.returncode == 2 and "already exists" in dup.stderr


def test_activate_deactivate_and_set_role_with_dry_run(project, seeded):
    install_utilities(project)
    dry = run(
        project, seeded, "user_management_utils.py", "deactivate", "bob@example.com", "--dry-run"
    )
    assert dry.returncode == 0 and "dry run" in dry.stdout
    assert query(seeded, "SELECT is_active FROM users WHERE id = 2")[0][0] is True
    assert run(project, seeded, "user_management_utils.py", "deactivate", "2").returncode == 0
    assert query(seeded, "SELECT is_active FROM users WHERE id = 2")[0][0] is False
    inactive = json.loads(
        run(project, seeded, "user_management_utils.py", "list", "--inactive", "--json").stdout
    )
    assert [r["id"] for r in inactive] == [2]
    assert run(project, seeded, "user_management_utils.py", "activate", "2").returncode == 0
    assert query(seeded, "SELECT is_active FROM users WHERE id = 2")[0][0] is True

    dry = run(project, seeded, "user_management_utils.py", "set-role", "2", "editor", "--dry-run")
    assert (
        dry.returncode == 0
        and query(seeded, "SELECT role::text FROM users WHERE id = 2")[0][0] == "viewer"
    )
    assert (
        run(project, seeded, "user_management_utils.py", "set-role", "2", "editor").returncode == 0
    )
    assert query(seeded, "SELECT role::text FROM users WHERE id = 2")[0][0] == "editor"
    bad = run(project, seeded, "user_management_utils.py", "set-role", "2", "superuser")
    assert bad.returncode == 2


def test_unknown_user_is_one_line_error(project, seeded):
    install_utilities(project)
    result = run(project, seeded, "user_management_utils.py", "deactivate", "nobody@example.com")
    assert result.returncode == 2
    assert "no user" in result.stderr and "Traceback" not in result.stderr


# -- media --------------------------------------------------------------------------------------
def test_media_list_and_sizes(project, seeded):
    install_utilities(project)
    listed = json.loads(
        run(project, seeded, "media_utils.py", "list", "alice@example.com", "--json").stdout
    )
    assert sorted(r["path"] for r in listed) == ["a/one.png", "a/two.mp4"]
    videos = json.loads(
        run(project, seeded, "media_utils.py", "list", "1", "--kind", "video", "--json").stdout
    )
    assert [r["path"] for r in videos] == ["a/two.mp4"]
    sizes = json.loads(run(project, seeded, "media_utils.py", "sizes", "--json").stdout)
    assert [(r["email"], r["files"], r["total_bytes"]) for r in sizes] == [
        ("alice@example.com", 2, 6000),
        ("bob@example.com", 1, 10),
    ]


def test_media_missing_files(project, seeded, tmp_path):
    install_utilities(project)
    root = tmp_path / "media"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.png").write_bytes(b"x")
    with psycopg.connect(seeded) as conn:
        conn.execute(
            "INSERT INTO media (owner_id, kind, path) VALUES (2, 'document', '../../etc/passwd')"
        )
    result = run(project, seeded, "media_utils.py", "missing", "--media-root", str(root), "--json")
    assert result.returncode == 1, result.stderr
    rows = {r["path"]: r["reason"] for r in json.loads(result.stdout)}
    assert rows == {
        "a/two.mp4": "no such file",
        "b/x.mp3": "no such file",
        "../../etc/passwd": "path leads outside the media root",
    }
    only_alice = json.loads(
        run(
            project,
            seeded,
            "media_utils.py",
            "missing",
            "--media-root",
            str(root),
            "--owner",
            "1",
            "--json",
        ).stdout
    )
    assert [r["path"] for r in only_alice] == ["a/two.mp4"]


def test_media_delete_dry_run_then_real(project, seeded):
    install_utilities(project)
    dry = run(project, seeded, "media_utils.py", "delete", "3", "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout
    assert query(seeded, "SELECT count(*) FROM media WHERE id = 3")[0][0] == 1
    real = run(project, seeded, "media_utils.py", "delete", "3")
    assert real.returncode == 0, real.stderr
    assert query(seeded, "SELECT count(*) FROM media WHERE id = 3")[0][0] == 0
    again = run(project, seeded, "media_utils.py", "delete", "3")
    assert again.returncode == 2 and "no media record" in again.stderr


def test_writes_fail_under_read_only_session_default(project, seeded):
    """What run_script relies on: PGOPTIONS makes a utility's write fail; dry-run still works."""
    install_utilities(project)
    ro = {"PGOPTIONS": "-c default_transaction_read_only=on"}
    result = run(project, seeded, "media_utils.py", "delete", "3", extra_env=ro)
    assert (
        result.returncode == 2 and "read-only" in result.stderr and "Traceback" not in result.stderr
    )
    assert query(seeded, "SELECT count(*) FROM media WHERE id = 3")[0][0] == 1
    dry = run(project, seeded, "media_utils.py", "delete", "3", "--dry-run", extra_env=ro)
    assert dry.returncode == 0, dry.stderr
