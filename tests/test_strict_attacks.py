"""Strict mode against an agent with a shell as the same OS user (tier T3).

Such an agent can read ``.env`` (the agent role's URL and password), edit the tool's own code and
the project's config, replace the approver key and drive the person's commands in a
pseudo-terminal of its own. None of it may change the schema or the ledger: PostgreSQL refuses
the agent role, whatever the files say. Each attempt goes through what the agent really has.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from database_use.changes import owner, pipeline
from database_use.errors import ChangeRefused
from database_use.sources.live import from_database
from tests import test_strict_apply
from tests.test_strict_apply import ledger_rows, propose

strict = test_strict_apply.strict  # the fixture: an owner role, an agent role with SELECT only


def _users_columns(url: str) -> list[str]:
    return [c.name for c in from_database(url).table("users").columns]


def test_code_edited_to_skip_every_check_still_changes_nothing(strict) -> None:
    """The agent edits the tool so that apply skips strict mode and every approval check: the
    pipeline's own apply transaction runs with steps that authorize anything, on the agent
    role's connection. PostgreSQL refuses the DDL; the schema and the ledger stay as they were."""
    proposal = propose(strict)
    before = _users_columns(strict.admin_url)

    class _Anything(pipeline.ApplySteps):  # every hook accepts: no approval, no journal
        pass

    lock_ms, statement_ms = pipeline.apply_timeouts()
    loaded = pipeline.load_change(strict.project, proposal["id"])
    with (
        pytest.raises((psycopg.Error, pipeline.Failed)),
        strict.project.connect(readonly=False, statement_timeout_ms=statement_ms) as conn,
        conn.transaction(),
    ):
        pipeline.apply_in_transaction(
            conn, strict.project, loaded, _Anything(), lock_ms, statement_ms
        )
    assert _users_columns(strict.admin_url) == before
    assert ledger_rows(strict.admin_url) is None


def test_owner_role_swapped_for_the_agents_own_changes_nothing(strict) -> None:
    """The agent sets ``owner-role`` to its own role (it knows that password from ``.env``) and
    runs the person's apply with it: the connection works, the DDL and the ledger do not."""
    proposal = propose(strict)
    before = _users_columns(strict.admin_url)
    agent_password = unquote(urlsplit(strict.agent_url).password or "")
    (strict.project.root / "pyproject.toml").write_text(
        f'[tool.database-use]\nowner-role = "{strict.agent}"\n'
    )
    prepared = owner.prepare(strict.project, proposal["id"])
    try:
        result = owner.apply_as_owner(strict.project, prepared, strict.agent, agent_password)
    except ChangeRefused:
        result = {"ok": False}
    assert not result.get("applied"), result
    assert _users_columns(strict.admin_url) == before
    assert ledger_rows(strict.admin_url) is None


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE users ADD COLUMN pwned text",
        "DROP TABLE media",
        "CREATE TABLE agent_table (id int)",
        "TRUNCATE media",
        "CREATE SCHEMA database_use_ledger",
        "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ],
)
def test_psql_with_the_agents_url_is_refused(strict, statement: str) -> None:
    before = from_database(strict.admin_url).schema_hash()
    with (
        psycopg.connect(strict.agent_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)
    assert from_database(strict.admin_url).schema_hash() == before


def test_ledger_forged_by_the_agent_is_refused(strict) -> None:
    """After a real apply by the person, the agent tries to add, rewrite and drop ledger rows."""
    proposal = propose(strict)
    prepared = owner.prepare(strict.project, proposal["id"])
    assert owner.apply_as_owner(strict.project, prepared, strict.owner, strict.owner_password)[
        "applied"
    ]
    rows = ledger_rows(strict.admin_url)
    assert rows and len(rows) == 1
    for statement in (
        "INSERT INTO database_use_ledger.applied_changes (proposal_id) VALUES ('forged')",
        "UPDATE database_use_ledger.applied_changes SET summary = 'nothing happened'",
        "DELETE FROM database_use_ledger.applied_changes",
        "DROP TABLE database_use_ledger.applied_changes",
        "ALTER TABLE database_use_ledger.applied_changes DISABLE TRIGGER ALL",
    ):
        with (
            psycopg.connect(strict.agent_url, autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)
    assert ledger_rows(strict.admin_url) == rows
