"""Strict mode's roles: the person's ``roles setup`` (admin password typed on a pseudo-terminal)
makes the agent's role, and PostgreSQL itself then refuses its schema changes.

Real roles on the harness server: an owner role (no superuser) owns the app database; the
harness superuser is the admin the person types in. Each test drops the roles it made.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from dotenv import dotenv_values
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from database_use import doctor, policy, strict
from database_use.config import load_config
from database_use.project import Project
from mcp_server.server import build_server
from tests import person
from tests.mcp_helpers import call
from tests.owned_db import owned_database

ADMIN_PROMPT = "Admin role that may create roles [postgres]: "
PASSWORD_PROMPT = "(empty: PGPASSWORD or ~/.pgpass): "
YES_PROMPT = "Type yes to go on: "
READONLY_PROMPT = "Create the read-only role for scripts too? [Y/n] "


def _drop_role(admin_url: str, dbname: str, role: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            return
    params = conninfo_to_dict(admin_url)
    in_db = f"postgresql://{params['user']}:{params['password']}@{params['host']}:{params['port']}/{dbname}"
    with psycopg.connect(in_db, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def app(project, pg_server, make_database, monkeypatch):
    """An app database owned by a role that is no superuser, its URL in .env (standard mode)."""
    # .env loads into os.environ: nothing a test loads outlives it (delenv of an absent name
    # would restore nothing).
    for key in ("DATABASE_URL", "DATABASE_READONLY_URL"):
        monkeypatch.setenv(key, "x")
        monkeypatch.delenv(key)
    tag = uuid.uuid4().hex[:8]
    agent, ro = f"agent_{tag}", f"ro_{tag}"
    made = owned_database(pg_server, make_database)
    owner, password, owner_url, dbname = made.owner, made.password, made.owner_url, made.dbname
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, "
            "pw_hashed text NOT NULL)"
        )
        conn.execute("INSERT INTO users (email, pw_hashed) VALUES ('a@example.com', 'HASH-1')")
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
    (project / ".env").write_text(f"DATABASE_URL={owner_url}\nSECRET_KEY='keep me'\n")
    yield {
        "root": project,
        "owner": owner,
        "owner_url": owner_url,
        "password": password,
        "agent": agent,
        "ro": ro,
        "dbname": dbname,
    }
    for role in (agent, ro):
        _drop_role(pg_server.admin_url, dbname, role)
    pg_server.drop_database(dbname)
    pg_server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))


def admin_login(pg_server) -> tuple[str, str]:
    params = conninfo_to_dict(pg_server.admin_url)
    return params["user"], params["password"]


def setup_on_tty(app, pg_server, *extra: str, password: str | None = None, readonly="n"):
    user, admin_password = admin_login(pg_server)
    argv = person.cli(
        "roles", "setup", "--role", app["agent"], "--project-root", str(app["root"]), *extra
    )
    answers = [
        (ADMIN_PROMPT, user),
        (PASSWORD_PROMPT, admin_password if password is None else password),
        (YES_PROMPT, "yes"),
        (READONLY_PROMPT, readonly),
    ]
    return person.on_tty(argv, person.child_env(), answers)


def agent_url_of(app) -> str:
    return dotenv_values(app["root"] / ".env")["DATABASE_URL"]


def attempt(url: str, statement: str) -> str:
    """What PostgreSQL answers ``statement`` run as ``url``'s role: 'ok' or the error class."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc).__name__
    return "ok"


DDL = {
    "alter": "ALTER TABLE users ADD COLUMN pwned int",
    "alter_drop_column": "ALTER TABLE users DROP COLUMN email",
    "drop": "DROP TABLE notes",
    "create": "CREATE TABLE pwned (x int)",
    "create_index": "CREATE INDEX pwned_idx ON users (email)",
    "truncate": "TRUNCATE notes",
    "create_schema": "CREATE SCHEMA pwned",
    "create_function": "CREATE FUNCTION public.pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "grant_self": "GRANT ALL ON users TO CURRENT_USER",
    "copy_program": "COPY (SELECT 1) TO PROGRAM 'true'",
}


def test_the_person_sets_it_up_and_the_agent_role_cannot_change_the_schema(app, pg_server):
    code, screen = setup_on_tty(app, pg_server, "--dml", "notes")
    assert code == 0, screen
    user, admin_password = admin_login(pg_server)
    # Shown before it ran; no password on the screen (typed without echo, none generated shown).
    assert f"CREATE ROLE {app['agent']} LOGIN" in screen
    assert (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {app['owner']} IN SCHEMA public GRANT SELECT" in screen
    )
    assert f"GRANT SELECT (id, email) ON public.users TO {app['agent']}" in screen
    assert f"GRANT INSERT, UPDATE, DELETE ON public.notes TO {app['agent']}" in screen
    assert admin_password not in screen and app["password"] not in screen
    agent_url = agent_url_of(app)
    agent_password = unquote(urlsplit(agent_url).password)
    assert len(agent_password) >= 30 and agent_password not in screen
    assert "owner role" in screen and "lives only with you" in screen
    assert 'owner-role = "' + app["owner"] + '"' in screen

    # .env: the agent's URL, the owner's password gone, other lines kept.
    env_text = (app["root"] / ".env").read_text()
    assert urlsplit(agent_url).username == app["agent"]
    assert app["password"] not in env_text and "SECRET_KEY='keep me'" in env_text
    # The project keeps the owner role's name only.
    assert load_config(app["root"]).owner_role == app["owner"]
    assert app["password"] not in (app["root"] / "pyproject.toml").read_text()

    # The attack: a shell with the agent's URL, psql-equivalent.
    for name, statement in DDL.items():
        assert attempt(agent_url, statement) != "ok", name
    with psycopg.connect(app["owner_url"]) as conn:
        assert conn.execute("SELECT to_regclass('public.pwned')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    # Writes only where granted: notes (with its sequence), never users.
    assert attempt(agent_url, "INSERT INTO notes (body) VALUES ('hi')") == "ok"
    assert attempt(agent_url, "UPDATE notes SET body = 'ho'") == "ok"
    assert attempt(agent_url, "DELETE FROM notes") == "ok"
    for statement in (
        "INSERT INTO users (email, pw_hashed) VALUES ('x', 'y')",
        "UPDATE users SET email = 'x'",
        "DELETE FROM users",
    ):
        assert attempt(agent_url, statement) == "InsufficientPrivilege", statement
    # The excluded column: not readable, the others are.
    assert attempt(agent_url, "SELECT pw_hashed FROM users") == "InsufficientPrivilege"
    assert attempt(agent_url, "SELECT * FROM users") == "InsufficientPrivilege"
    with psycopg.connect(agent_url) as conn:
        assert conn.execute("SELECT id, email FROM users").fetchall() == [(1, "a@example.com")]
    # A table the owner creates later is readable through the default privileges.
    with psycopg.connect(app["owner_url"], autocommit=True) as conn:
        conn.execute("CREATE TABLE later_table (x int)")
        conn.execute("INSERT INTO later_table VALUES (7)")
    with psycopg.connect(agent_url) as conn:
        assert conn.execute("SELECT x FROM later_table").fetchone() == (7,)
    assert attempt(agent_url, "INSERT INTO later_table VALUES (8)") == "InsufficientPrivilege"

    # The contract the person's apply command uses.
    found = strict.abilities(agent_url, ("pw_hashed",))
    assert not strict.can_change_schema(found.report) and found.sensitive_readable == []
    assert found.dml_tables == ["public.notes"]
    owner_found = strict.abilities(app["owner_url"], ("pw_hashed",))
    assert strict.can_change_schema(owner_found.report)
    assert "public.users.pw_hashed" in owner_found.sensitive_readable

    # doctor: T3 with the agent role and the sandbox on.
    proj = Project(root=app["root"])
    result = doctor.diagnose(proj)
    checks = {c["key"]: c for c in result["checks"]}
    assert result["tier"] == "T3", result["summary"]
    assert (
        checks["strict_mode"]["status"] == "ok" and app["agent"] in checks["strict_mode"]["detail"]
    )
    assert checks["sensitive_columns"]["status"] == "ok"
    assert "DML on 1 table(s): public.notes" in checks["agent_role"]["detail"]
    assert "no DDL" in checks["agent_role"]["detail"]
    # The same doctor with the sandbox turned off by the person: not T3, and it says why.
    policy.ensure_private_dir()
    policy.config_path().write_text('sandbox = "off"\n')
    off = doctor.diagnose(proj)
    assert off["tier"] == "T1" and "the sandbox is off" in off["summary"]


def test_without_dml_the_agent_role_writes_nothing(app, pg_server):
    code, screen = setup_on_tty(app, pg_server)
    assert code == 0, screen
    agent_url = agent_url_of(app)
    for statement in (
        "INSERT INTO notes (body) VALUES ('hi')",
        "UPDATE notes SET body = 'x'",
        "DELETE FROM notes",
        "TRUNCATE notes",
        "SELECT nextval('notes_id_seq')",
    ):
        assert attempt(agent_url, statement) == "InsufficientPrivilege", statement
    with psycopg.connect(agent_url) as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_the_readonly_role_is_offered_and_made_too(app, pg_server):
    code, screen = _setup_with_readonly(app, pg_server)
    assert code == 0, screen
    values = dotenv_values(app["root"] / ".env")
    ro_url = values["DATABASE_READONLY_URL"]
    assert urlsplit(ro_url).username != urlsplit(values["DATABASE_URL"]).username
    assert attempt(ro_url, "INSERT INTO notes (body) VALUES ('x')") == "InsufficientPrivilege"
    with psycopg.connect(app["owner_url"], autocommit=True) as conn:
        conn.execute("CREATE TABLE later_table (x int)")
    # Its default privileges follow the owner too, not the admin who ran the setup.
    with psycopg.connect(ro_url) as conn:
        assert conn.execute("SELECT count(*) FROM later_table").fetchone() == (0,)
    _drop_role(pg_server.admin_url, app["dbname"], urlsplit(ro_url).username)


def _setup_with_readonly(app, pg_server):
    user, admin_password = admin_login(pg_server)
    argv = person.cli("roles", "setup", "--role", app["agent"], "--project-root", str(app["root"]))
    answers = [
        (ADMIN_PROMPT, user),
        (PASSWORD_PROMPT, admin_password),
        (YES_PROMPT, "yes"),
        (READONLY_PROMPT, "y"),
        (YES_PROMPT, "yes"),
    ]
    return person.on_tty(argv, person.child_env(), answers)


def test_a_wrong_admin_password_creates_nothing(app, pg_server):
    before = (app["root"] / ".env").read_bytes()
    code, screen = setup_on_tty(app, pg_server, password="not-the-password")
    assert code == 2, screen
    assert "password authentication failed" in screen or "authentication" in screen, screen
    assert "not-the-password" not in screen
    assert (app["root"] / ".env").read_bytes() == before
    assert not (app["root"] / "pyproject.toml").exists()
    with psycopg.connect(pg_server.admin_url) as conn:
        assert not conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (app["agent"],)
        ).fetchone()


def test_no_terminal_no_setup_and_env_admin_url_must_not_come_from_dotenv(app, pg_server):
    before = (app["root"] / ".env").read_bytes()
    piped = subprocess.run(
        person.cli("roles", "setup", "--project-root", str(app["root"])),
        input="postgres\nsecret\nyes\n",
        capture_output=True,
        text=True,
        env=person.child_env(),
        start_new_session=True,
        timeout=60,
    )
    assert piped.returncode == 2 and "no controlling terminal" in piped.stderr
    # --admin-url-env may not name a variable .env supplies.
    code, screen = person.on_tty(
        person.cli(
            "roles", "setup", "--admin-url-env", "DATABASE_URL", "--project-root", str(app["root"])
        ),
        person.child_env(),
    )
    assert code == 2 and "read from .env too" in screen, screen
    assert (app["root"] / ".env").read_bytes() == before


def test_admin_url_from_the_persons_shell_and_a_dry_run_changes_nothing(app, pg_server):
    before = (app["root"] / ".env").read_bytes()
    params = conninfo_to_dict(pg_server.admin_url)
    owner = conninfo_to_dict(app["owner_url"])
    admin_url = (
        f"postgresql://{params['user']}:{params['password']}@{owner['host']}:{owner['port']}"
        f"/{app['dbname']}"
    )
    code, screen = person.on_tty(
        person.cli(
            "roles",
            "setup",
            "--admin-url-env",
            "MY_ADMIN_URL",
            "--role",
            app["agent"],
            "--dml",
            "all",
            "--dry-run",
            "--project-root",
            str(app["root"]),
        ),
        person.child_env(MY_ADMIN_URL=admin_url),
    )
    assert code == 0, screen
    assert "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public" in screen
    assert params["password"] not in screen
    assert (app["root"] / ".env").read_bytes() == before
    with psycopg.connect(pg_server.admin_url) as conn:
        assert not conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (app["agent"],)
        ).fetchone()


def test_doctor_in_standard_mode_names_the_gap(app):
    proj = Project(root=app["root"])
    result = doctor.diagnose(proj)
    checks = {c["key"]: c for c in result["checks"]}
    assert result["tier"] in ("T1", "T2")
    assert "Not T3" in result["summary"] and "can change the schema" in result["summary"]
    assert checks["strict_mode"]["status"] == "info"
    assert "roles setup" in checks["strict_mode"]["fix"]
    assert "not one with a shell" in checks["strict_mode"]["detail"]
    assert checks["sensitive_columns"]["status"] == "info"
    assert "public.users.pw_hashed" in checks["sensitive_columns"]["detail"]
    # Required in the person's config: now it is a gap.
    policy.ensure_private_dir()
    policy.config_path().write_text("[strict]\nrequired = true\n")
    required = {c["key"]: c for c in doctor.diagnose(proj)["checks"]}
    assert required["strict_mode"]["status"] == "gap"


@pytest.mark.anyio
async def test_strict_required_the_server_refuses_the_owner_role_and_serves_the_agent(
    app, pg_server, monkeypatch
):
    policy.ensure_private_dir()
    policy.config_path().write_text("[strict]\nrequired = true\n")
    server = build_server(app["root"], database_url=app["owner_url"])
    refused = await call(server, "introspect", {})
    assert refused.is_error
    text = refused.content[0].text
    assert "strict mode" in text and "can change the schema" in text and "roles setup" in text
    assert app["password"] not in text and len(text.splitlines()) == 1
    # doctor still answers, and says why.
    explained = await call(server, "doctor", {})
    assert not explained.is_error and explained.structured_content["strict_required"] is True
    # The start-up line says it too.
    notes = doctor.startup_notes(Project(root=app["root"], url_override=app["owner_url"]), "stdio")
    assert [level for level, line in notes if "refuses" in line] == ["error"]

    code, screen = setup_on_tty(app, pg_server)
    assert code == 0, screen
    # A server started after the setup (this process loaded the old .env into its environment).
    monkeypatch.delenv("DATABASE_URL", raising=False)
    served = await call(build_server(app["root"]), "introspect", {})
    assert not served.is_error, served.content[0].text
    data = served.structured_content
    assert data["tier"].startswith("tier T3") and {t["name"] for t in data["tables"]} >= {
        "public.users",
        "public.notes",
    }


def test_the_server_says_the_refusal_at_start(app):
    policy.ensure_private_dir()
    policy.config_path().write_text("[strict]\nrequired = true\n")
    server = [str(Path(sys.executable).parent / "database-use-mcp")]
    proc = subprocess.run(
        [*server, "--project-root", str(app["root"])],
        cwd=app["root"],
        env=person.child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    refusals = [line for line in proc.stderr.splitlines() if "refuses" in line]
    assert len(refusals) == 1 and "ERROR" in refusals[0], proc.stderr
    assert app["owner"] in refusals[0] and "roles setup" in refusals[0]
    assert [line for line in proc.stderr.splitlines() if " tier T" in line], proc.stderr
    assert app["password"] not in proc.stderr


def test_a_security_definer_function_the_agent_may_call_is_a_schema_change(app, pg_server):
    code, screen = setup_on_tty(app, pg_server)
    assert code == 0, screen
    agent_url = agent_url_of(app)
    with psycopg.connect(app["owner_url"], autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION public.drop_notes() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
            "AS 'BEGIN DROP TABLE public.notes; END'"
        )
    # It really is a way around the grants (run inside a transaction that is rolled back).
    with psycopg.connect(agent_url) as conn:
        conn.execute("SELECT public.drop_notes()")
        assert conn.execute("SELECT to_regclass('public.notes')").fetchone() == (None,)
        conn.rollback()
    found = strict.abilities(agent_url, ("pw_hashed",))
    assert any("SECURITY DEFINER" in c for c in found.changers), found.changers
    assert doctor.diagnose(Project(root=app["root"]))["tier"] != "T3"
    with psycopg.connect(app["owner_url"], autocommit=True) as conn:
        conn.execute("REVOKE EXECUTE ON FUNCTION public.drop_notes() FROM PUBLIC")
    assert strict.abilities(agent_url, ("pw_hashed",)).changers == []


def test_owner_role_is_written_into_the_projects_table_keeping_every_other_line(tmp_path):
    from database_use.config import write_owner_role
    from database_use.errors import ConfigError

    before = (
        '[project]\nname = "app"\n\n[tool.database-use]\ndefault-port = 5432\n'
        'owner-role = "old"\n\n[tool.other]\nx = 1\n'
    )
    (tmp_path / "pyproject.toml").write_text(before)
    write_owner_role(tmp_path, "app_owner")
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.count("owner-role") == 1 and "[tool.other]\nx = 1\n" in text
    config = load_config(tmp_path)
    assert config.owner_role == "app_owner" and config.default_port == 5432
    # No table yet: one is added; a name that would need quoting is refused.
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "x"\n')
    write_owner_role(other, "own")
    assert load_config(other).owner_role == "own"
    with pytest.raises(ConfigError, match="cannot be written"):
        write_owner_role(other, 'own"\n[evil]')
    assert load_config(other).owner_role == "own"


def test_the_strict_setting_comes_from_the_persons_config_only(project, monkeypatch):
    from database_use.errors import ConfigError

    policy.ensure_private_dir()
    assert strict.required() is False
    policy.config_path().write_text("[strict]\nrequired = true\n")
    assert policy.load_policy().strict_required and strict.required()
    # The approver setup rewrites its own tables and keeps [strict].
    policy.write_config(allow_elicitation=False)
    assert policy.load_policy().strict_required
    policy.config_path().write_text('[strict]\nrequired = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[strict\] required must be true or false"):
        policy.load_policy()
    assert strict.required() is True  # unreadable: fail closed
    # Not from the project: .env and pyproject.toml cannot turn it off.
    policy.config_path().write_text("[strict]\nrequired = true\n")
    (project / ".env").write_text("STRICT=false\n")
    (project / "pyproject.toml").write_text("[tool.database-use]\n")
    assert strict.required() is True
