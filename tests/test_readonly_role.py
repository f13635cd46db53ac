"""The read-only role: created by the person's own command (shown, confirmed on the terminal),
checked by logging in as it, written to .env; then a read-only run really cannot write.

Real roles on the harness server (its superuser may create them); each test drops its own.
"""

from __future__ import annotations

import base64
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from database_use import doctor, roles
from database_use.errors import ChangeRefused, InvalidRequest, ScriptError
from database_use.scripts import service as svc
from tests import person

ENV_BEFORE = "# the app's settings\nDATABASE_URL={url}\nSECRET_KEY='keep me'\nexport FLAG=1"


@pytest.fixture
def role_name(pg_server, example_db_url, monkeypatch):
    """A fresh role name; the role (if made) is dropped afterwards, in this database too."""
    name = f"ro_{uuid.uuid4().hex[:10]}"
    # .env loads into os.environ: make sure nothing this test loads outlives it.
    monkeypatch.setenv(roles.ENV_KEY, "x")
    monkeypatch.delenv(roles.ENV_KEY)
    yield name
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        if exists:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def role_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone())


def setup_on_tty(proj, url: str, name: str, answer: str = "yes") -> tuple[int, str]:
    argv = person.cli("roles", "readonly-setup", "--role", name, "--project-root", str(proj.root))
    return person.on_tty(argv, person.child_env(url), [("Type yes to go on: ", answer)])


def run(proj, name: str, code: str) -> dict:
    svc.draft_script(proj, name, code)
    return svc.run_script(proj, f"temp/{name}")


WRITES = {
    "insert": "INSERT INTO users (email, username, pw_hashed) VALUES ('w@example.com', 'w', 'x')",
    "update": "UPDATE users SET email = 'x'",
    "create_table": "CREATE TABLE pwned (x int)",
    "copy_to_program": "COPY (SELECT 1) TO PROGRAM 'touch /tmp/dbuse-ro-pwned'",
    "drop_column": "ALTER TABLE users DROP COLUMN email",
}
ATTACK = """import os, psycopg
c = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)
c.execute('SET default_transaction_read_only = off')  # the session default is no guard
for name, statement in {writes!r}.items():
    try:
        c.execute(statement)
        print('WROTE', name)
    except psycopg.Error as exc:
        print('REFUSED', name, type(exc).__name__, str(exc).splitlines()[0])
print('users', c.execute('SELECT count(*) FROM users').fetchone()[0])
"""


def test_person_sets_it_up_on_the_terminal_then_a_readonly_run_cannot_write(
    proj, example_db_url, role_name
):
    env_file = proj.root / ".env"
    env_file.write_text(ENV_BEFORE.format(url=example_db_url))
    env_file.chmod(0o640)
    code, screen = setup_on_tty(proj, example_db_url, role_name)
    assert code == 0, screen
    # Shown before it ran: the statements, the .env line (masked); never a password.
    assert f"CREATE ROLE {role_name} LOGIN" in screen and "GRANT SELECT ON ALL TABLES" in screen
    assert "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES" in screen
    assert f"DATABASE_READONLY_URL=postgresql://{role_name}:***@" in screen
    assert "created role" in screen and "checked: cannot write" in screen
    text = env_file.read_text()
    lines = text.splitlines()
    # Every other line kept as it was, the new one appended; the mode kept.
    assert lines[:4] == ENV_BEFORE.format(url=example_db_url).splitlines()
    assert lines[4].startswith(f"DATABASE_READONLY_URL='postgresql://{role_name}:")
    assert (env_file.stat().st_mode & 0o777) == 0o640
    password = conninfo_to_dict(lines[4].split("=", 1)[1].strip("'"))["password"]
    assert len(password) >= 30 and password not in screen
    assert roles.check_readonly_role(lines[4].split("=", 1)[1].strip("'")) == role_name

    # Hidden from the up-front text check (a hint, not a guard), as a determined script would.
    body = base64.b64encode(ATTACK.format(writes=WRITES).encode()).decode()
    result = run(proj, "ro_attack", f"import base64\nexec(base64.b64decode({body!r}))\n")
    assert result["readonly_enforced"] is True and f"role {role_name!r}" in result["guard"]
    out = result["stdout"]
    assert "WROTE" not in out, out
    for name in WRITES:
        assert f"REFUSED {name}" in out, out
    assert "permission denied" in out and "users 0" in out
    with psycopg.connect(example_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.pwned')").fetchone()[0] is None
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
            )
        }
    assert "email" in cols
    # A table made later by DATABASE_URL's role is readable through the default privileges.
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE later_table (x int)")
        conn.execute("INSERT INTO later_table VALUES (7)")
    later = run(
        proj,
        "ro_later",
        "import os, psycopg\nprint('later', psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT x FROM later_table').fetchone()[0])\n",
    )
    assert "later 7" in later["stdout"], later
    # doctor agrees: the read-only role is checked and holds.
    checks = {c["key"]: c for c in doctor.diagnose(proj)["checks"]}
    assert checks["readonly_role"]["status"] == "ok", checks["readonly_role"]
    assert role_name in checks["readonly_role"]["detail"]


def test_the_check_rejects_the_role_once_it_can_write(proj, example_db_url, role_name):
    (proj.root / ".env").write_text(f"DATABASE_URL={example_db_url}\n")
    assert setup_on_tty(proj, example_db_url, role_name)[0] == 0
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT INSERT ON users TO {}").format(sql.Identifier(role_name)))
    with pytest.raises(ScriptError, match="can write .*INSERT"):
        run(proj, "innocent", "print('ran')\n")
    checks = {c["key"]: c for c in doctor.diagnose(proj)["checks"]}
    assert checks["readonly_role"]["status"] == "gap" and checks["readonly_role"]["blocks_t2"]
    assert "INSERT" in checks["readonly_role"]["detail"]


def test_a_definer_function_it_may_call_makes_the_role_writable(proj, example_db_url, role_name):
    """SELECT-only grants, but PUBLIC may EXECUTE an owner's SECURITY DEFINER function that
    writes: a read-only run could write through it, so the check refuses the role."""
    (proj.root / ".env").write_text(f"DATABASE_URL={example_db_url}\n")
    assert setup_on_tty(proj, example_db_url, role_name)[0] == 0
    run(proj, "before", "print('ran')\n")  # read-only runs work with no such function
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION wipe_media() RETURNS void LANGUAGE sql SECURITY DEFINER "
            "AS 'DELETE FROM media'"
        )
    with pytest.raises(ScriptError, match="SECURITY DEFINER"):
        run(proj, "innocent", "print('ran')\n")
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute("REVOKE EXECUTE ON FUNCTION wipe_media() FROM PUBLIC")
    run(proj, "after", "print('ran')\n")  # the fix the message names works


def test_the_new_grants_are_in_the_doc_so_validate_stays_clean(proj, example_db_url, role_name):
    """The role's grants are schema facts (the doc lists privileges): setup regenerates the doc."""
    from database_use import service

    (proj.root / ".env").write_text(f"DATABASE_URL={example_db_url}\n")
    service.generate_docs(proj)
    assert service.validate(proj)["ok"]
    code, screen = setup_on_tty(proj, example_db_url, role_name)
    assert code == 0, screen
    assert "the new grants are schema facts" in screen and "regenerated" in screen
    assert role_name in proj.doc_path.read_text(encoding="utf-8")
    assert service.validate(proj)["ok"]


def test_no_consent_no_role_and_env_unchanged(proj, example_db_url, role_name):
    env_file = proj.root / ".env"
    env_file.write_text(f"DATABASE_URL={example_db_url}\n")
    before = env_file.read_bytes()
    code, screen = setup_on_tty(proj, example_db_url, role_name, answer="y")
    assert code == 2 and "not created" in screen
    # A pipe instead of a terminal (an agent's shell): refused before anything is asked.
    piped = subprocess.run(
        person.cli(
            "roles", "readonly-setup", "--role", role_name, "--project-root", str(proj.root)
        ),
        input="yes\n",
        capture_output=True,
        text=True,
        env=person.child_env(example_db_url),
        start_new_session=True,
        timeout=60,
    )
    assert piped.returncode == 2 and "no controlling terminal" in piped.stderr
    assert env_file.read_bytes() == before and not role_exists(example_db_url, role_name)


def test_dry_run_shows_the_sql_and_runs_nothing(proj, example_db_url, role_name):
    done = subprocess.run(
        person.cli(
            "roles",
            "readonly-setup",
            "--role",
            role_name,
            "--dry-run",
            "--project-root",
            str(proj.root),
        ),
        capture_output=True,
        text=True,
        env=person.child_env(example_db_url),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"CREATE ROLE {role_name} LOGIN" in done.stdout
    assert "<SCRAM verifier of a generated password>" in done.stdout
    assert "SCRAM-SHA-256$" not in done.stdout
    assert not role_exists(example_db_url, role_name) and not (proj.root / ".env").exists()


def test_refusals_are_one_line_and_change_nothing(proj, example_db_url, role_name, pg_server):
    with pytest.raises(InvalidRequest, match="not a plain lower-case identifier"):
        roles.plan_readonly_role(proj, 'bad"; DROP ROLE postgres; --')
    # An existing name is not taken over.
    pg_server.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role_name)))
    with pytest.raises(InvalidRequest, match="exists already"):
        roles.plan_readonly_role(proj, role_name)
    # DATABASE_URL's role may not create roles: the plan says who must run it; create refuses.
    weak = f"weak_{uuid.uuid4().hex[:8]}"
    pg_server.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'weak-pass'").format(sql.Identifier(weak))
    )
    try:
        params = conninfo_to_dict(example_db_url)
        weak_url = (
            f"postgresql://{weak}:weak-pass@{params['host']}:{params['port']}/{params['dbname']}"
        )
        from database_use.project import Project

        weak_proj = Project(root=proj.root, url_override=weak_url)
        plan = roles.plan_readonly_role(weak_proj, "ro_never_made")
        assert not plan.admin.may_create_roles and "may not create roles" in plan.notes[-1]
        with pytest.raises(ChangeRefused, match="may not create roles"):
            roles.create_readonly_role(weak_proj, plan)
        assert not role_exists(example_db_url, "ro_never_made")
        assert not (proj.root / ".env").exists()
    finally:
        pg_server.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(weak)))


def test_a_value_in_the_environment_that_would_win_over_dotenv_is_named(
    proj, role_name, monkeypatch
):
    assert not any("wins over .env" in n for n in roles.plan_readonly_role(proj, role_name).notes)
    monkeypatch.setenv(roles.ENV_KEY, "postgresql://old:old@127.0.0.1:1/old")
    notes = roles.plan_readonly_role(proj, role_name).notes
    assert any("wins over .env" in n for n in notes), notes


def test_env_symlink_is_not_followed(proj, example_db_url, role_name, tmp_path):
    elsewhere = tmp_path / "bashrc"
    elsewhere.write_text("echo hi\n")
    (proj.root / ".env").symlink_to(elsewhere)
    plan = roles.plan_readonly_role(proj, role_name)
    with pytest.raises(InvalidRequest, match="symbolic link"):
        roles.create_readonly_role(proj, plan)
    assert elsewhere.read_text() == "echo hi\n" and not role_exists(example_db_url, role_name)
