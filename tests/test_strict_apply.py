"""Strict mode: the agent's role cannot change the schema, the person applies as the owner.

Real roles on the harness server: an owner role that owns the database and the example tables,
and an agent role with CONNECT, USAGE and SELECT only (``DATABASE_URL``). The agent's
``apply_change`` (a real MCP client) runs nothing and names the person's command; the person
types the owner's password on a pseudo-terminal; the ledger row is written in the apply's
transaction, where the agent's role cannot write; ``validate`` holds the log to the ledger.
"""

from __future__ import annotations

import secrets
import subprocess
import uuid
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from database_use import service
from database_use.changes import (
    get_change,
    ledger,
    owner,
    prepare_approval,
    propose_column_change,
)
from database_use.errors import ChangeRefused
from database_use.project import Project
from database_use.roles import readonly_url
from database_use.sources.live import from_database
from mcp_server.server import build_server
from tests import person
from tests.mcp_helpers import Person, call
from tests.test_changes_mcp import user_columns


@dataclass
class Strict:
    admin_url: str  # the harness superuser, for the test's own checks only
    agent_url: str
    owner: str
    owner_password: str
    agent: str
    project: Project


@pytest.fixture
def strict(project, example_db_url):
    tag = uuid.uuid4().hex[:8]
    owner_role, agent_role = f"own_{tag}", f"agt_{tag}"
    owner_pw, agent_pw = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    ident = sql.Identifier
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        dbname = conn.info.dbname
        admin = conn.execute("SELECT current_user").fetchone()[0]
        for role, pw in ((owner_role, owner_pw), (agent_role, agent_pw)):
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident(role), sql.Literal(pw))
            )
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(dbname), ident(owner_role))
        )
        for kind, name in conn.execute(
            "SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END,"
            " c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S')"
            " ORDER BY c.relkind DESC"
        ).fetchall():
            conn.execute(
                sql.SQL("ALTER {} public.{} OWNER TO {}").format(
                    sql.SQL(kind), ident(name), ident(owner_role)
                )
            )
        for (name,) in conn.execute(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typtype = 'e'"
        ).fetchall():
            conn.execute(
                sql.SQL("ALTER TYPE public.{} OWNER TO {}").format(ident(name), ident(owner_role))
            )
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident(dbname), ident(agent_role))
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident(agent_role)))
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident(agent_role))
        )
    agent_url = readonly_url(example_db_url, agent_role, agent_pw)
    (project / "pyproject.toml").write_text(f'[tool.database-use]\nowner-role = "{owner_role}"\n')
    yield Strict(
        example_db_url,
        agent_url,
        owner_role,
        owner_pw,
        agent_role,
        Project(root=project, url_override=agent_url),
    )
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(dbname), ident(admin)))
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(ident(owner_role), ident(admin)))
        for role in (owner_role, agent_role):
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident(role)))


def ledger_rows(url: str) -> list[tuple] | None:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (ledger.TABLE,)).fetchone()[0] is None:
            return None
        return conn.execute(
            "SELECT applied_by, proposal_id, sql_sha256, schema_hash_before, schema_hash_after,"
            " approved_via FROM database_use_ledger.applied_changes ORDER BY id"
        ).fetchall()


def propose(strict: Strict, column: str = "nickname") -> dict:
    return propose_column_change(strict.project, "users", "add", column, type="varchar(40)")


def owner_applies(strict: Strict, change_id: str) -> dict:
    """The person's apply, in-process (the terminal is tested on its own below)."""
    prepared = owner.prepare(strict.project, change_id)
    return owner.apply_as_owner(strict.project, prepared, strict.owner, strict.owner_password)


def apply_argv(strict: Strict, change_id: str) -> list[str]:
    return person.cli("apply", change_id, "--as-owner", "--project-root", str(strict.project.root))


# -- the agent's side -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_agent_apply_answers_approval_required_with_the_person_command(strict):
    server = build_server(strict.project.root, strict.agent_url)
    proposed = await call(
        server,
        "propose_column_change",
        {"table": "users", "action": "add", "column": "nickname", "type": "varchar(40)"},
    )
    assert not proposed.is_error, proposed.content
    proposal = proposed.structured_content
    assert proposal["ok"] is True and proposal["status"] == "proposed"
    assert "strict mode" in proposal["dry_run"]["skipped"] and "--as-owner" in proposal["next_step"]
    asked = Person()
    result = await call(
        server, "apply_change", {"change_id": proposal["id"]}, elicitation_callback=asked
    )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["outcome"] == "approval_required" and data["applied"] is False
    assert f"apply {proposal['id']} --as-owner" in data["approve_command"]
    assert strict.agent in data["message"] and "password" in data["message"]
    assert asked.messages == []  # no dialog: a click is no approval in strict mode
    assert "nickname" not in user_columns(strict.admin_url)
    assert ledger_rows(strict.admin_url) is None
    # The CLI face answers the same, exit 1, nothing run.
    done = subprocess.run(
        person.cli("apply", proposal["id"], "--project-root", str(strict.project.root)),
        capture_output=True,
        text=True,
        env=person.child_env(strict.agent_url),
        timeout=60,
    )
    assert done.returncode == 1 and "NOT APPLIED: strict mode" in done.stdout
    assert f"apply {proposal['id']} --as-owner" in done.stdout
    assert "nickname" not in user_columns(strict.admin_url)


# -- the person's side ------------------------------------------------------------------------
def test_person_applies_with_the_owner_password_on_a_terminal(strict):
    proposal = propose(strict)
    code, screen = person.on_tty(
        apply_argv(strict, proposal["id"]),
        person.child_env(strict.agent_url),
        [(f"Password of role {strict.owner}", strict.owner_password)],
    )
    assert code == 0, screen
    assert strict.owner_password not in screen  # no echo, never printed
    assert proposal["sql"][0] in screen and f"as the database role {strict.owner}" in screen
    assert "password is the approval" in screen
    assert "nickname" in user_columns(strict.admin_url)
    rows = ledger_rows(strict.admin_url)
    assert rows is not None and len(rows) == 1
    applied_by, proposal_id, sha, before, after, via = rows[0]
    assert (applied_by, proposal_id, sha, via) == (
        strict.owner,
        proposal["id"],
        proposal["sql_sha256"],
        ledger.APPROVED_VIA,
    )
    assert before == proposal["schema_hash"] and after != before
    project = strict.project
    assert "nickname" in project.doc_path.read_text()
    log = project.changes_log_path.read_text()
    assert proposal["id"] in log and ledger.APPROVED_VIA in log
    # The ledger is no part of the app's schema: not introspected, not in the hash.
    live = from_database(project)
    assert not [t for t in live.tables if t.startswith(ledger.SCHEMA)]
    assert live.schema_hash() == after
    checked = service.validate(project)
    assert checked["ok"], checked["message"]
    assert checked["ledger"]["ok"] and checked["ledger"]["rows"] == 1
    assert not [w for w in checked["warnings"] if "ledger" in w]
    assert get_change(project, proposal["id"])["status"] == "applied"


def test_wrong_password_applies_nothing_and_writes_nothing(strict):
    proposal = propose(strict)
    project = strict.project
    proposal_file = project.changes_dir / f"{proposal['id']}.json"
    before = proposal_file.read_bytes()
    code, screen = person.on_tty(
        apply_argv(strict, proposal["id"]),
        person.child_env(strict.agent_url),
        [(f"Password of role {strict.owner}", "not-the-password")],
    )
    assert code == 2, screen
    assert "wrong password" in screen and "nothing was applied" in screen
    assert "Traceback" not in screen and "not-the-password" not in screen
    assert "nickname" not in user_columns(strict.admin_url)
    assert ledger_rows(strict.admin_url) is None
    assert proposal_file.read_bytes() == before
    assert not project.doc_path.exists() and not project.changes_log_path.exists()
    # The person can still apply it afterwards.
    owner_applies(strict, proposal["id"])
    assert "nickname" in user_columns(strict.admin_url)


def test_the_person_command_needs_a_terminal(strict):
    proposal = propose(strict)
    piped = subprocess.run(
        apply_argv(strict, proposal["id"]),
        input=strict.owner_password + "\n",
        capture_output=True,
        text=True,
        env=person.child_env(strict.agent_url),
        start_new_session=True,  # no controlling terminal: an agent's pipe
        timeout=60,
    )
    assert piped.returncode == 2 and "no controlling terminal" in piped.stderr
    assert "Traceback" not in piped.stderr and strict.owner_password not in piped.stderr
    assert "nickname" not in user_columns(strict.admin_url)
    assert ledger_rows(strict.admin_url) is None


# -- the ledger ---------------------------------------------------------------------------------
WRITES = {
    "insert": "INSERT INTO database_use_ledger.applied_changes (proposal_id, summary, table_name,"
    " sql_text, sql_sha256, schema_hash_before, schema_hash_after, approved_via)"
    " VALUES ('chg-forged', 's', 'public.users', 'x', 'x', 'x', 'x', 'owner-password')",
    "update": "UPDATE database_use_ledger.applied_changes SET summary = 'forged'",
    "delete": "DELETE FROM database_use_ledger.applied_changes",
    "truncate": "TRUNCATE database_use_ledger.applied_changes",
    "alter": "ALTER TABLE database_use_ledger.applied_changes ADD COLUMN x int",
    "drop_table": "DROP TABLE database_use_ledger.applied_changes",
    "drop_schema": "DROP SCHEMA database_use_ledger CASCADE",
    "create_in_it": "CREATE TABLE database_use_ledger.fake (x int)",
    # and the app's schema itself, which is why the person applies (psql with the agent's URL)
    "alter_users": "ALTER TABLE users ADD COLUMN pwned int",
    "create_table": "CREATE TABLE public.pwned (x int)",
}


def test_the_agent_role_cannot_write_alter_or_drop_the_ledger_or_the_schema(strict):
    proposal = propose(strict)
    owner_applies(strict, proposal["id"])
    refused = {}
    with psycopg.connect(strict.agent_url, autocommit=True) as conn:
        for name, statement in WRITES.items():
            try:
                conn.execute(statement)
                refused[name] = False
            except psycopg.errors.InsufficientPrivilege:
                refused[name] = True
        count = conn.execute("SELECT count(*) FROM database_use_ledger.applied_changes").fetchone()
    assert refused == dict.fromkeys(WRITES, True)
    assert count[0] == 1  # the agent may read it (validate does)
    assert ledger_rows(strict.admin_url)[0][1] == proposal["id"]


def test_validate_reports_a_log_that_disagrees_with_the_ledger(strict):
    project = strict.project
    first = propose(strict)
    owner_applies(strict, first["id"])
    second = propose(strict, "nickname2")
    owner_applies(strict, second["id"])
    assert service.validate(project)["ok"]
    log = project.changes_log_path
    good = log.read_text()

    # An entry altered: the SQL it shows is not what the ledger recorded.
    log.write_text(good.replace("varchar(40)", "varchar(50)", 1))
    found = service.validate(project)
    assert not found["ok"] and not found["ledger"]["ok"]
    assert any("differs from ledger row" in p for p in found["ledger"]["problems"])

    # The newest entry removed (the chain before it is intact): the ledger still has it.
    cut = good.index(f"`{second['id']}`")
    log.write_text(good[: good.rindex("\n## ", 0, cut) + 1])
    found = service.validate(project)
    assert not found["ok"]
    assert any("has no entry" in p and second["id"] in p for p in found["ledger"]["problems"])
    code, screen = person.on_tty(
        person.cli("log", "render", "--project-root", str(project.root)),
        person.child_env(strict.agent_url),
    )
    assert code == 0 and "appended 1 entries" in screen, screen
    assert service.validate(project)["ok"]

    # An applied change the ledger never saw, written into the log by hand.
    service.log_change(
        project,
        "Add column public.users.ghost (text)",
        tables=["public.users"],
        extra={"proposal_id": "chg-20990101-000000-abcdef", "approved_by": strict.owner},
    )
    found = service.validate(project)
    assert not found["ok"]
    assert any("ledger does not have" in p for p in found["ledger"]["problems"])


def test_validate_warns_when_the_live_schema_moved_past_the_ledger(strict):
    proposal = propose(strict)
    owner_applies(strict, proposal["id"])
    with psycopg.connect(strict.admin_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN sneaky int")
    found = service.validate(strict.project)
    assert any("differs from the last change in the ledger" in w for w in found["warnings"])


def test_no_ledger_no_ledger_check(proj):
    checked = service.validate(proj)
    assert "ledger" not in checked


def test_running_the_person_command_again_finishes_without_applying_twice(strict):
    proposal = propose(strict)
    owner_applies(strict, proposal["id"])
    project = strict.project
    project.doc_path.unlink()  # as if the process died after COMMIT, before the doc
    again = owner.prepare(project, proposal["id"])  # nothing asked: the ledger has the row
    assert again["already_applied"] is True and again["ledger_row"]["proposal_id"] == proposal["id"]
    assert "nothing ran again" in again["approval_note"]
    assert "nickname" in project.doc_path.read_text()
    assert len(ledger_rows(strict.admin_url)) == 1
    assert project.changes_log_path.read_text().count(f"`{proposal['id']}`") == 1


def test_an_owner_that_may_not_create_the_ledger_applies_nothing(strict):
    with psycopg.connect(strict.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(
                sql.Identifier(conn.info.dbname)
            )
        )
    proposal = propose(strict)
    with pytest.raises(ChangeRefused, match="may not create the ledger schema") as caught:
        owner_applies(strict, proposal["id"])
    assert "GRANT CREATE ON DATABASE" in caught.value.message
    assert "nickname" not in user_columns(strict.admin_url)
    assert ledger_rows(strict.admin_url) is None
    assert get_change(strict.project, proposal["id"])["status"] == "proposed"


def test_a_signed_approval_is_refused_in_strict_mode_with_the_person_command(strict):
    proposal = propose(strict)
    with pytest.raises(ChangeRefused, match="strict mode") as caught:
        prepare_approval(strict.project, proposal["id"])
    assert f"apply {proposal['id']} --as-owner" in caught.value.message
    assert "nickname" not in user_columns(strict.admin_url)
