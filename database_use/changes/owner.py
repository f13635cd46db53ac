"""The person's apply (strict mode): ``database-use apply <id> --as-owner`` on their terminal.

In strict mode the agent's role cannot change the schema, so no approval file or dialog can make
a change happen: the person applies it, connected as the owner role with its password, typed on
their controlling terminal without echo (:mod:`database_use.cli.terminal`). The password is the
approval: a secret in the person's head that the agent does not have. It is used for one
connection and never stored, logged or shown (masked in every message, see
:func:`database_use.redact.remember_url`). Never an MCP tool.

The apply itself is the pipeline's (:func:`pipeline.apply_in_transaction`): the SQL hash, the
database identity the person was shown, the planned schema hash and a fresh plan are checked in
the transaction, the SQL runs under ``lock_timeout``/``statement_timeout`` and is verified, and
the ledger row (:mod:`database_use.changes.ledger`) is written in that same transaction before
COMMIT. Then, best-effort as in the pipeline: the proposal's status, the doc, the log entry
(rendered from the ledger row). A row in the ledger is the proof that the change committed, so
running the command again after a crash finishes what is left instead of applying twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from database_use import redact
from database_use.changes import journal, ledger, pipeline, strict_gate
from database_use.errors import ChangeRefused, ConnectionFailed, InvalidRequest
from database_use.project import Project

APPROVAL_NOTE = (
    "approved by the owner role's password typed on your terminal: in strict mode that "
    "password is the approval (a secret the agent does not have); it was not stored"
)


def owner_role(project: Project, given: str | None) -> str:
    """The owner role to apply as: ``given`` (``--owner-role``), else ``owner-role`` of the
    project's config; InvalidRequest naming both when neither is set."""
    role = (given or project.config.owner_role or "").strip()
    if not role:
        raise InvalidRequest(
            'no owner role: set owner-role = "<role>" in [tool.database-use] of '
            "pyproject.toml, or pass --owner-role NAME"
        )
    if len(role) > 63 or not role.isprintable():
        raise InvalidRequest("the owner role name is not a PostgreSQL role name")
    return role


def prepare(project: Project, change_id: str) -> dict[str, Any]:
    """What the person reads before typing the password (``text``, escaped), freshly checked.

    A change the ledger already holds (applied, then interrupted before the doc or the log)
    is finished instead: the answer then has ``already_applied`` and nothing is asked."""
    proposal = pipeline.load_change(project, change_id)
    with project.connect(readonly=True) as conn:
        row = ledger.find(conn, change_id)
        conn.rollback()
    if row is not None:
        return _finish(project, proposal, row, already=True)
    return pipeline.prepare_approval(project, change_id, for_owner=True)


@dataclass
class _OwnerSteps(pipeline.ApplySteps):
    """The person's apply: the database they were shown, and the ledger row before COMMIT."""

    proposal: dict[str, Any]
    database: str
    before_hash: str = ""
    row: ledger.Row | None = None
    committing: bool = False

    def authorize(self, identity: str) -> None:
        if identity != self.database:
            raise ChangeRefused(
                "the owner's connection reached another database than the one shown; "
                "nothing was applied"
            )

    def begin(self, conn: Any, identity: str, xid: str, before_hash: str) -> None:
        self.before_hash = before_hash

    def complete(self, conn: Any, after_hash: str) -> None:
        summary = pipeline.log_summary(self.proposal)
        self.row = ledger.record(conn, self.proposal, summary, self.before_hash, after_hash)
        self.committing = True


def apply_as_owner(
    project: Project, prepared: dict[str, Any], role: str, password: str
) -> dict[str, Any]:
    """Apply ``prepared`` (from :func:`prepare`) connected as ``role`` with ``password``.

    A wrong password: ChangeRefused in one line, nothing applied, nothing written. Any failure
    before COMMIT rolls back and is recorded on the proposal, as in the pipeline."""
    import psycopg

    from database_use.connection import db
    from database_use.roles import readonly_url

    change_id = prepared["id"]
    proposal = pipeline.load_change(project, change_id)
    pipeline.check_open(proposal)
    if pipeline.check_sql_hash(proposal) != prepared["sql_sha256"]:
        raise ChangeRefused(
            f"change {change_id} changed while the person was reading it; nothing was applied"
        )
    lock_ms, statement_ms = pipeline.apply_timeouts()
    url = readonly_url(project.database_url, role, password)  # the role and password swapped in
    redact.remember_url(url)  # the password is masked in every message from here on
    steps = _OwnerSteps(proposal, prepared["database"])
    try:
        with (
            db.connect(url=url, readonly=False, statement_timeout_ms=statement_ms) as conn,
            conn.transaction(),
        ):
            pipeline.apply_in_transaction(conn, project, proposal, steps, lock_ms, statement_ms)
    except ConnectionFailed as exc:
        if "authentication failed" in exc.message:
            raise ChangeRefused(
                f"wrong password for role {role!r} (or it may not log in); nothing was applied"
            ) from None
        raise ChangeRefused(f"could not connect as role {role!r}: {exc.message}") from None
    except pipeline.Stale as exc:
        pipeline.set_status(project, proposal, "stale", str(exc))
        raise ChangeRefused(
            f"change {change_id} is stale: {exc}; nothing was applied, propose again"
        ) from None
    except (pipeline.Failed, psycopg.Error) as exc:
        info = exc.info if isinstance(exc, pipeline.Failed) else redact.pg_error(exc)
        if steps.committing:  # COMMIT did not answer: the ledger says whether it committed
            return _after_uncertain_commit(project, proposal, info)
        return pipeline.failed(project, proposal, info)
    assert steps.row is not None
    return _finish(project, proposal, steps.row)


def _after_uncertain_commit(
    project: Project, proposal: dict[str, Any], info: dict[str, Any]
) -> dict[str, Any]:
    try:
        with project.connect(readonly=True) as conn:
            row = ledger.find(conn, proposal["id"])
            conn.rollback()
    except Exception:  # the database cannot be asked: say so, change nothing
        raise ChangeRefused(
            f"change {proposal['id']}: COMMIT did not answer ({info.get('error')}); whether it "
            "committed is not known yet: run the same command again, it checks the ledger"
        ) from None
    if row is None:
        return pipeline.failed(project, proposal, info)
    return _finish(project, proposal, row)


def _finish(
    project: Project, proposal: dict[str, Any], row: ledger.Row, *, already: bool = False
) -> dict[str, Any]:
    """After COMMIT (the ledger row exists): status, doc and the log entry of the row."""
    args = ledger.entry_args(row)
    applied = {
        "at": row.applied_at.isoformat(),
        "approved_by": row.applied_by,
        "approval_channel": row.approved_via,
        "schema_hash_before": row.schema_hash_before,
        "schema_hash_after": row.schema_hash_after,
        "ledger_row": row.id,
    }
    record = {
        "applied": applied,
        "log": {k: args[k] for k in ("summary", "details", "tables", "sql", "extra")},
    }
    again = strict_gate.owner_command(project, proposal["id"])
    warnings, docs, logged = pipeline.finish_steps(project, proposal, record, again=again)
    result = pipeline.applied_result(
        project, proposal, journal.Pending(), warnings, docs=docs, logged=logged, already=already
    )
    result["ledger_row"] = row.to_dict()
    result["approval_note"] = (
        f"already in the ledger (row {row.id}): nothing ran again; the status, doc and log "
        "are finished"
        if already
        else APPROVAL_NOTE
    )
    return result
