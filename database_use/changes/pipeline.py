"""The guarded column-change pipeline: propose → risk → dry-run → approval → apply → docs → log.

Service functions used by both faces (CLI ``propose/approve/reject/apply/list-changes`` and
the MCP tools ``propose_column_change/apply_change/list_changes``). They return plain dicts,
never print, and raise :mod:`database_use.errors` exceptions.

A proposal is a JSON file ``.roo/changes/<id>.json``. It is a record for people and agents,
NOT a trust anchor: the model can edit it. What protects the database:

- the approval (see :mod:`database_use.approvals`) is signed outside the project and bound to
  the SHA-256 of the exact SQL text and to the schema hash planned against;
- apply re-hashes the SQL in the file, re-checks the approval, re-reads the live schema
  inside its own transaction (stale → refused), plans the request again and demands the
  identical SQL, burns the approval, runs the SQL with ``lock_timeout``/``statement_timeout``,
  verifies the result in the same transaction and only then commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from database_use import approvals, hints, redact
from database_use.changes import STATUSES, journal, strict_gate
from database_use.changes.journal import Pending
from database_use.changes.plan import (
    Plan,
    normalize_request,
    plan_change,
    sql_text,
    verify_expected,
)
from database_use.changes.risk import LEVELS, assess, lock_of
from database_use.changes.sqlgen import qualified
from database_use.changes.strict_gate import dry_run_passed
from database_use.display import escape_for_display
from database_use.errors import ChangeRefused, DatabaseUseError, InvalidRequest, NotFound
from database_use.paging import page
from database_use.project import Project
from database_use.schema.snapshot import Snapshot
from database_use.settings import describe_target, mask_url

log = logging.getLogger("database_use.changes")

OPEN_STATUSES = ("proposed", "approved")
# Every apply is bounded: a blocked lock or a long rewrite fails instead of stalling the app.
LOCK_TIMEOUT_ENV = "DATABASE_USE_LOCK_TIMEOUT_MS"
STATEMENT_TIMEOUT_ENV = "DATABASE_USE_APPLY_TIMEOUT_MS"
DEFAULT_LOCK_TIMEOUT_MS = 5_000
DEFAULT_STATEMENT_TIMEOUT_MS = 120_000
DRY_RUN_LOCK_TIMEOUT_MS = 2_000
DRY_RUN_STATEMENT_TIMEOUT_MS = 30_000
# One apply at a time per database: a transaction-level advisory lock on this key.
APPLY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"database-use:apply-change").digest()[:8], "big", signed=True
)


# -- small helpers --------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _env_ms(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a number of milliseconds, got {raw!r}") from None
    if not 1 <= value <= 3_600_000:
        raise InvalidRequest(f"{name} must be between 1 and 3600000 ms")
    return value


def approve_command(project: Project, change_id: str) -> str:
    """The exact command a person runs to approve ``change_id``."""
    return hints.command(project, "approve", change_id)


def _path(project: Project, change_id: str) -> Path:
    if not change_id or not all(c.isalnum() or c in "-_" for c in change_id) or len(change_id) > 80:
        raise InvalidRequest(f"invalid change id {change_id!r}")
    return project.changes_dir / f"{change_id}.json"


def load_change(project: Project, change_id: str) -> dict[str, Any]:
    """The proposal ``change_id`` (NotFound naming the known ids otherwise)."""
    path = _path(project, change_id)
    if not path.is_file():
        known = sorted(p.stem for p in project.changes_dir.glob("*.json"))[-10:]
        raise NotFound(f"change {change_id!r} not found; recent: {', '.join(known) or '(none)'}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("id") != change_id:
            raise ValueError
    except ValueError:
        raise ChangeRefused(
            f"the proposal file of {change_id} is malformed; propose again"
        ) from None
    return data


def _save(project: Project, proposal: dict[str, Any]) -> None:
    path = _path(project, proposal["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(proposal, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def set_status(project: Project, proposal: dict[str, Any], status: str, reason: str | None) -> None:
    proposal["status"] = status
    proposal["status_reason"] = reason
    proposal.setdefault("history", []).append({"at": _now(), "status": status, "reason": reason})
    _save(project, proposal)


def _pg_error(exc: Exception) -> dict[str, Any]:
    # Row values (a pw_hashed the cast choked on, a duplicate e-mail) never reach the answer
    # or the proposal file; the class, SQLSTATE and names do.
    return redact.pg_error(exc)


def _set_local_timeouts(conn: Any, lock_ms: int, statement_ms: int) -> None:
    # Integers only (validated above); standard strings so our quoting rule holds.
    conn.execute(f"SET LOCAL lock_timeout = {int(lock_ms)}")
    conn.execute(f"SET LOCAL statement_timeout = {int(statement_ms)}")
    conn.execute("SET LOCAL standard_conforming_strings = on")


def _load_live(conn: Any) -> Snapshot:
    from database_use.sources.live import load_live

    return load_live(conn)


def _live_context(project: Project, table_name: str) -> tuple[Snapshot, int, bool | None, str]:
    """The live snapshot, the server version, whether the table has a row, the DB identity."""
    with project.connect(readonly=True) as conn:
        identity = approvals.database_identity(conn)
        snapshot = _load_live(conn)
        version = conn.info.server_version
        table = snapshot.table(table_name)
        has_rows = None
        if table is not None and table.kind in ("table", "partitioned table"):
            row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {qualified(table)})").fetchone()
            has_rows = bool(row[0]) if row else None
        conn.rollback()
    return snapshot, version, has_rows, identity


# -- dry run ---------------------------------------------------------------------------------
def dry_run(project: Project, statements: list[str], expected: dict[str, Any]) -> dict[str, Any]:
    """Run ``statements`` in a transaction that is always rolled back; report the outcome."""
    import psycopg

    result: dict[str, Any] = {"ok": False, "error": None, "sqlstate": None, "rolled_back": True}
    with project.connect(readonly=False, statement_timeout_ms=DRY_RUN_STATEMENT_TIMEOUT_MS) as conn:
        try:
            with conn.transaction(force_rollback=True):
                _set_local_timeouts(conn, DRY_RUN_LOCK_TIMEOUT_MS, DRY_RUN_STATEMENT_TIMEOUT_MS)
                for statement in statements:
                    conn.execute(statement)
                problems = verify_expected(_load_live(conn), expected)
        except psycopg.Error as exc:
            result.update(_pg_error(exc))
            return result
    if problems:
        result["error"] = "the change would not produce the expected column: " + "; ".join(problems)
    else:
        result["ok"] = True
    return result


# -- propose ---------------------------------------------------------------------------------
def _risk_summary(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "none"
    return max((f["level"] for f in findings), key=LEVELS.index)


def _build(plan: Plan, findings: list[Any], version: int) -> dict[str, Any]:
    text = sql_text(plan.statements)
    table = plan.table
    return {
        "table": table.qualified_name,
        "column": plan.column_name,
        "action": plan.request["action"],
        "sql": plan.statements,
        "sql_text": text,
        "sql_sha256": approvals.content_hash(text),
        "lock": lock_of(plan.request["action"]),
        "expected": plan.expected,
        "server_version_num": version,
        "table_stats": {
            "estimated_rows": table.estimated_rows,
            "size_bytes": table.size_bytes,
            "has_rows": plan.risk_context.has_rows,
        },
        "risk": [f.to_dict() for f in findings],
        "risk_level": _risk_summary([f.to_dict() for f in findings]),
    }


def propose_column_change(
    project: Project,
    table: str,
    action: str,
    column: str,
    new_name: str | None = None,
    type: str | None = None,
    nullable: bool | None = None,
    default: str | None = None,  # noqa: A002
    comment: str | None = None,
) -> dict[str, Any]:
    """Plan a column change against the live schema; write and return the proposal.

    Nothing in the database changes (the dry-run is rolled back). The proposal's status is
    ``proposed``; a person must approve it before :func:`apply_change` runs it.
    """
    finish_pending(project)
    request = normalize_request(
        table,
        action,
        column,
        new_name=new_name,
        type=type,
        nullable=nullable,
        default=default,
        comment=comment,
    )
    snapshot, version, has_rows, _identity = _live_context(project, request["table"])
    plan = plan_change(snapshot, request, version, has_rows)
    findings = _assess(project, plan)
    created = datetime.now(UTC).replace(microsecond=0)
    change_id = f"chg-{created:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    strict = strict_gate.strict_role(project) is not None
    checked = (
        strict_gate.skipped_dry_run()
        if strict
        else dry_run(project, plan.statements, plan.expected)
    )
    # A change whose dry-run fails is recorded (the agent and the person can read why) but
    # closed: there is nothing worth approving, and apply says so rather than "not approved".
    status, reason = (
        ("proposed", None) if dry_run_passed(checked) else ("failed", _dry_run_failed(checked))
    )
    proposal: dict[str, Any] = {
        "id": change_id,
        "created_at": created.isoformat(),
        "status": status,
        "status_reason": reason,
        "request": request,
        "schema_hash": snapshot.schema_hash(),
        **_build(plan, findings, version),
        "dry_run": checked,
        "history": [{"at": created.isoformat(), "status": status, "reason": reason}],
    }
    _save(project, proposal)
    return _public(project, proposal)


def _assess(project: Project, plan: Plan) -> list[Any]:
    """The risk findings, with the project's own code searched first where advice depends on
    it (a rename: who uses the old name)."""
    if plan.request["action"] == "rename":
        from database_use.changes.code_uses import find_uses

        uses, searched = find_uses(project.root, plan.column_name)
        plan.risk_context.extra.update(code_uses=uses, files_searched=searched)
    return assess(plan.risk_context)


def _dry_run_failed(checked: dict[str, Any]) -> str:
    sqlstate = f" [SQLSTATE {checked['sqlstate']}]" if checked.get("sqlstate") else ""
    return f"its dry-run failed: {checked.get('error')}{sqlstate}"


def _public(project: Project, proposal: dict[str, Any]) -> dict[str, Any]:
    """The proposal as answered to a face: with the approval state and the next step."""
    data = {k: v for k, v in proposal.items() if k not in ("expected", "history", "declines")}
    data["declined"] = last_decline(proposal)
    data["path"] = str(_path(project, proposal["id"]).relative_to(project.root))
    data["approval"] = _approval_state(project, proposal)
    data["status"] = _effective_status(proposal, data["approval"])
    # ok: the proposal can go on to approval (its dry-run succeeded and it is not closed).
    data["ok"] = dry_run_passed(proposal.get("dry_run")) and data["status"] in (
        *OPEN_STATUSES,
        "expired",
        "applied",
    )
    data["next_step"] = _next_step(project, data)
    return data


def _approval_state(project: Project, proposal: dict[str, Any]) -> dict[str, Any]:
    # For listings: the database identity is not read here (apply checks it, always).
    return approvals.approval_status(
        project,
        "change",
        proposal["id"],
        approvals.content_hash(sql_text(proposal.get("sql", []))),
        schema_hash=proposal.get("schema_hash"),
        target=None,
    )


def _effective_status(proposal: dict[str, Any], approval: dict[str, Any]) -> str:
    status = proposal.get("status", "proposed")
    if status == "approved" and approval["state"] != "valid":
        reason = approval.get("reason") or ""
        return "expired" if "expired" in reason or "already used" in reason else "proposed"
    return status


def _next_step(project: Project, data: dict[str, Any]) -> str:
    status, change_id = data["status"], data["id"]
    if not dry_run_passed(data.get("dry_run")) and status in ("proposed", "failed"):
        return (
            f"nothing to approve: {_dry_run_failed(data.get('dry_run') or {})}; fix the cause "
            "(e.g. the rows that break it, or change the request) and propose again"
        )
    if status == "proposed" and (data.get("dry_run") or {}).get("skipped"):
        return (
            "strict mode: only the person applies it, as the owner role with its password; "
            f"ask them to run in their own terminal: {strict_gate.owner_command(project, change_id)}"
        )
    if status == "proposed":
        return (
            f"a person must approve it: call apply_change('{change_id}') from a client that "
            f"can ask the person, or ask the person to run: {approve_command(project, change_id)}"
        )
    if status == "approved":
        return f"approved: apply it with apply_change('{change_id}') or {hints.command(project, 'apply', change_id)}"
    if status == "expired":
        return f"the approval expired or was used: the person approves again ({approve_command(project, change_id)})"
    if status == "applied":
        return "applied: update the models (see models_todo), then run compare db models"
    if status == "declined":
        return (
            "closed: the person declined it; do not retry it. Propose again only if the "
            "person asks for it"
        )
    return "closed: propose again if the change is still wanted"


# -- listing / rejecting -----------------------------------------------------------------------
def get_change(project: Project, change_id: str) -> dict[str, Any]:
    finish_pending(project)
    return _public(project, load_change(project, change_id))


def list_changes(
    project: Project,
    status: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    budget: int | None = None,
) -> dict[str, Any]:
    """The proposals, newest first, with their effective status (``count``: all that match).

    ``limit``/``offset``/``budget`` (bytes) page them; the answer then says what it cut and
    gives ``next_offset``."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    pending = finish_pending(project)
    rows: list[dict[str, Any]] = []
    directory = project.changes_dir
    for path in sorted(directory.glob("chg-*.json")) if directory.is_dir() else []:
        try:
            proposal = load_change(project, path.stem)
        except DatabaseUseError as exc:
            rows.append({"id": path.stem, "status": "unreadable", "reason": exc.message})
            continue
        approval = _approval_state(project, proposal)
        declined = last_decline(proposal)
        row = {
            "id": proposal["id"],
            "created_at": proposal.get("created_at"),
            "status": _effective_status(proposal, approval),
            "table": proposal.get("table"),
            "column": proposal.get("column"),
            "action": proposal.get("action"),
            "risk_level": proposal.get("risk_level"),
            "dry_run_ok": (proposal.get("dry_run") or {}).get("ok"),
            "approved_by": (approval.get("approval") or {}).get("approved_by"),
            "reason": proposal.get("status_reason"),
            "declined_by": f"{declined['by']} via {declined['channel']} at {declined['at']}"
            if declined
            else None,
        }
        if status is None or row["status"] == status:
            rows.append(row)
    rows.sort(key=lambda r: r.get("created_at") or "", reverse=True)
    if limit is None and not offset and budget is None:
        return {"changes": rows, "count": len(rows), **pending.as_dict()}
    paged = page(rows, offset, limit, budget, what="changes")
    return {"changes": paged.pop("page"), "count": len(rows), **paged, **pending.as_dict()}


def reject_change(project: Project, change_id: str, reason: str | None = None) -> dict[str, Any]:
    """Close a proposal without applying it; any approval of it is withdrawn."""
    finish_pending(project)  # a committed apply left half done is applied, not rejectable
    proposal = load_change(project, change_id)
    if proposal.get("status") == "applied":
        raise ChangeRefused(
            f"change {change_id} is already applied; propose a reverse change instead"
        )
    approvals.revoke(project, "change", change_id)
    set_status(project, proposal, "rejected", reason or "rejected by a person")
    return _public(project, proposal)


# -- approval --------------------------------------------------------------------------------
def _replan(
    project: Project,
    proposal: dict[str, Any],
    snapshot: Snapshot,
    version: int,
    has_rows: bool | None,
) -> Plan:
    """Plan the stored request again; refuse unless it yields exactly the stored SQL."""
    try:
        plan = plan_change(snapshot, proposal["request"], version, has_rows)
    except (DatabaseUseError, KeyError, TypeError) as exc:
        raise ChangeRefused(
            f"change {proposal['id']} no longer plans cleanly ({exc}); propose again"
        ) from None
    if plan.statements != proposal.get("sql"):
        raise ChangeRefused(
            f"the SQL stored in change {proposal['id']} is not what its request generates "
            "(the proposal file was edited); propose again"
        )
    return plan


def check_open(proposal: dict[str, Any]) -> None:
    status = proposal.get("status")
    if not dry_run_passed(proposal.get("dry_run")) and status in ("proposed", "failed"):
        raise ChangeRefused(
            f"change {proposal['id']} cannot be approved or applied: "
            f"{_dry_run_failed(proposal.get('dry_run') or {})}; fix the cause and propose again"
        )
    if status not in OPEN_STATUSES:
        why = proposal.get("status_reason")
        raise ChangeRefused(
            f"change {proposal['id']} is {status}"
            + (f" ({why})" if why else "")
            + ("" if status == "applied" else "; propose again")
        )


def prepare_approval(
    project: Project, change_id: str, *, for_owner: bool = False
) -> dict[str, Any]:
    """Everything a person must see before approving, freshly checked against the live DB.

    Re-plans the request (the file's SQL must be what the request generates), refuses a
    stale plan, re-assesses the risk and re-runs the dry-run; a failing dry-run is refused
    (there is nothing worth approving). The result's ``text`` is deterministic.

    In strict mode a signed approval cannot apply anything (the agent's role may not change
    the schema), so it is refused with the person's command, unless ``for_owner`` (that
    command itself): then the dry-run is skipped, the owner's apply being its own rollback.
    """
    strict = strict_gate.strict_role(project) is not None
    if strict and not for_owner:
        raise ChangeRefused(
            f"strict mode: DATABASE_URL's role cannot change the schema, so an approval "
            f"cannot apply change {change_id}; the person applies it as the owner instead: "
            f"{strict_gate.owner_command(project, change_id)}"
        )
    finish_pending(project)  # a committed apply left half done is finished, never "stale"
    proposal = load_change(project, change_id)
    check_open(proposal)
    snapshot, version, has_rows, identity = _live_context(project, proposal["request"]["table"])
    live_hash = snapshot.schema_hash()
    if live_hash != proposal.get("schema_hash"):
        set_status(
            project,
            proposal,
            "stale",
            f"schema changed since planning ({proposal.get('schema_hash')} → {live_hash})",
        )
        raise ChangeRefused(
            f"change {change_id} is stale: the live schema changed since it was "
            "planned; propose again"
        )
    plan = _replan(project, proposal, snapshot, version, has_rows)
    built = _build(plan, _assess(project, plan), version)
    checked = (
        strict_gate.skipped_dry_run()
        if strict
        else dry_run(project, plan.statements, plan.expected)
    )
    proposal.update({k: built[k] for k in ("risk", "risk_level", "table_stats")})
    proposal["dry_run"] = checked
    _save(project, proposal)
    if not dry_run_passed(checked):
        raise ChangeRefused(
            f"change {change_id} fails its dry-run, so it cannot be approved: {checked['error']}"
        )
    data = {
        "id": change_id,
        "table": built["table"],
        "column": built["column"],
        "action": built["action"],
        "sql": plan.statements,
        "sql_text": built["sql_text"],
        "sql_sha256": built["sql_sha256"],
        "schema_hash": live_hash,
        "risk": built["risk"],
        "risk_level": built["risk_level"],
        "dry_run": checked,
        "lock": built["lock"],
        "table_stats": built["table_stats"],
        "database": identity,
        "database_label": describe_target(project.database_url),
    }
    data["text"] = approval_text(data)
    return data


def approval_text(data: dict[str, Any]) -> str:
    """What the person reads before approving (deterministic: no times, no random values).

    Every control, escape, bidi or zero-width character is escaped (see
    :mod:`database_use.display`), so what the person reads is what runs."""
    stats = data.get("table_stats") or {}
    rows = stats.get("estimated_rows")
    size = stats.get("size_bytes")
    if stats.get("has_rows") is False:
        rows_text = "empty"
    elif rows is not None and rows >= 0:
        rows_text = f"~{rows:,} rows (estimate)"
    else:
        rows_text = (
            "has rows (count not yet estimated)" if stats.get("has_rows") else "rows unknown"
        )
    lines = [
        f"Change {data['id']}: {data['action']} on {data['table']}.{data['column']}",
        f"Database: {data.get('database_label')} (identity {data.get('database')})",
        f"Table: {rows_text}" + (f", {size:,} bytes" if size is not None else ""),
        f"Lock: {data['lock']}",
        "SQL (exactly what will run):",
        *("    " + line for line in data["sql_text"].rstrip("\n").splitlines()),
        f"SQL SHA-256: {data['sql_sha256']}",
        "Risk: " + ("none found" if not data["risk"] else data["risk_level"]),
    ]
    for finding in data["risk"]:
        lines.append(f"  - [{finding['level']}] {finding['code']}: {finding['message']}")
        lines.append(f"    safer: {finding['safe_alternative']}")
    dry = data["dry_run"]
    if dry.get("skipped"):
        lines.append(f"Dry-run: {dry['skipped']}")
    else:
        lines.append(
            "Dry-run (rolled back): " + ("succeeded" if dry["ok"] else f"FAILED: {dry['error']}")
        )
    return escape_for_display("\n".join(lines))


def record_approval(
    project: Project, prepared: dict[str, Any], signer: Any, approved_by: str | None = None
) -> dict[str, Any]:
    """A person approved ``prepared`` (from :func:`prepare_approval`) on their terminal.

    ``signer`` is the key :func:`approvals.unlock` gave for the passphrase the person just
    typed; only the terminal face has one.
    """
    proposal = load_change(project, prepared["id"])
    check_open(proposal)
    if approvals.content_hash(sql_text(proposal["sql"])) != prepared["sql_sha256"]:
        raise ChangeRefused(
            f"change {prepared['id']} changed while the person was reading it; approve again"
        )
    approval = approvals.grant(
        project,
        "change",
        prepared["id"],
        prepared["sql_sha256"],
        signer=signer,
        schema_hash=prepared["schema_hash"],
        target=prepared["database"],
        approved_by=approved_by,
    )
    set_status(project, proposal, "approved", f"approved by {approval.approved_by} via terminal")
    return {**_public(project, proposal), "approved": approval.to_dict()}


# -- apply -------------------------------------------------------------------------------------
class Stale(Exception):
    """The live schema is not the one the change was planned against."""


class Failed(Exception):
    """The SQL or its verification failed (``info``: the error, SQLSTATE); rolled back."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(info.get("error"))
        self.info = info


def elicited_approval(project: Project, prepared: dict[str, Any]) -> approvals.Approval:
    """The person accepted ``prepared`` in the MCP client's dialog: an in-memory approval for
    :func:`apply_change` in that same call (refused unless the person's config allows it)."""
    return approvals.elicited(
        project,
        "change",
        prepared["id"],
        prepared["sql_sha256"],
        schema_hash=prepared["schema_hash"],
        target=prepared["database"],
    )


def record_decline(
    project: Project, change_id: str, *, by: str, channel: str, seen: bool
) -> dict[str, Any]:
    """A "no" from the client's dialog, recorded on the proposal (who, when, which channel).

    ``seen``: the person answered the form (unticked "approve"): the change is closed
    (``declined``). Otherwise the client answered "decline" itself, which some clients do
    without showing anything: the dialog is not asked again, but the proposal stays open so
    the person can still review and approve it in their terminal. Returns the record.
    """
    proposal = load_change(project, change_id)
    record = {"at": _now(), "by": by, "channel": channel, "seen": seen}
    proposal.setdefault("declines", []).append(record)
    if seen and proposal.get("status") in OPEN_STATUSES:
        approvals.revoke(project, "change", change_id)
        set_status(
            project, proposal, "declined", f"declined by {by} via {channel} at {record['at']}"
        )
    else:
        _save(project, proposal)
    return record


def last_decline(proposal: dict[str, Any]) -> dict[str, Any] | None:
    """The newest recorded decline of ``proposal`` (None when nobody declined it)."""
    declines = proposal.get("declines") or []
    return declines[-1] if declines else None


def withdraw_change(project: Project, change_id: str, reason: str | None = None) -> dict[str, Any]:
    """The agent takes back its own proposal: closed as ``withdrawn``, any approval revoked.

    An applied change cannot be withdrawn (it is in the database: propose the reverse change).
    """
    proposal = load_change(project, change_id)
    if proposal.get("status") == "applied":
        raise ChangeRefused(
            f"change {change_id} is already applied, so it cannot be withdrawn; to undo it, "
            "propose the reverse change (propose_column_change)"
        )
    approvals.revoke(project, "change", change_id)
    why = " ".join((reason or "").split())[:200]
    set_status(
        project, proposal, "withdrawn", "withdrawn by the agent" + (f": {why}" if why else "")
    )
    return _public(project, proposal)


def apply_timeouts() -> tuple[int, int]:
    """(lock_timeout, statement_timeout) in ms for an apply, from the environment or defaults."""
    return (
        _env_ms(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT_MS),
        _env_ms(STATEMENT_TIMEOUT_ENV, DEFAULT_STATEMENT_TIMEOUT_MS),
    )


class ApplySteps:
    """What differs between the agent's apply and the person's (:mod:`.owner`) around the one
    shared transaction of :func:`apply_in_transaction`; each hook may raise to roll it back."""

    def authorize(self, identity: str) -> None:
        """The connection reached database ``identity``: may this apply go on?"""

    def begin(self, conn: Any, identity: str, xid: str, before_hash: str) -> None:
        """Checked and about to run the SQL (transaction ``xid``)."""

    def complete(self, conn: Any, after_hash: str) -> None:
        """The SQL ran and verified; last step before COMMIT."""


def apply_in_transaction(
    conn: Any,
    project: Project,
    proposal: dict[str, Any],
    steps: ApplySteps,
    lock_ms: int,
    statement_ms: int,
) -> str:
    """Inside the caller's open transaction on ``conn``: bound it by the timeouts, take the
    apply lock, check the database, the live schema against the planned hash and the SQL
    against a fresh plan, run the SQL, verify it. Returns the schema hash after; raises
    :class:`Stale`, :class:`Failed`, ChangeRefused or a psycopg error (the caller rolls back)."""
    _set_local_timeouts(conn, lock_ms, statement_ms)
    got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (APPLY_LOCK_KEY,)).fetchone()
    if not got or not got[0]:
        raise ChangeRefused(
            "another apply is running on this database; try again when it has finished"
        )
    # Inside the transaction: the database this connection really reached.
    identity = approvals.database_identity(conn)
    steps.authorize(identity)
    before = _load_live(conn)
    before_hash = before.schema_hash()
    planned_hash = proposal.get("schema_hash")
    if before_hash != planned_hash:
        raise Stale(f"schema changed since planning ({planned_hash} → {before_hash})")
    _replan(project, proposal, before, conn.info.server_version, None)
    xid = conn.execute("SELECT txid_current()::text").fetchone()[0]
    steps.begin(conn, identity, xid, before_hash)
    for statement in proposal["sql"]:
        conn.execute(statement)
    after = _load_live(conn)
    problems = verify_expected(after, proposal["expected"])
    if problems:
        raise Failed(
            {
                "error": "verification failed after running the SQL: " + "; ".join(problems),
                "sqlstate": None,
            }
        )
    after_hash = after.schema_hash()
    steps.complete(conn, after_hash)
    return after_hash


@dataclass
class _AgentSteps(ApplySteps):
    """The agent's apply: a person's approval, burnt before the SQL runs; the journal."""

    project: Project
    proposal: dict[str, Any]
    approved: Any  # identity -> the checked Approval
    approval: approvals.Approval | None = None
    held: journal.Journal | None = None
    record: dict[str, Any] = field(default_factory=dict)
    committing: bool = False

    def authorize(self, identity: str) -> None:
        self.approval = self.approved(identity)

    def begin(self, conn: Any, identity: str, xid: str, before_hash: str) -> None:
        assert self.approval is not None
        approvals.consume(self.project, self.approval)  # burnt before running: used once, always
        self.record = _journal_record(
            self.project, self.proposal, self.approval, identity, xid, before_hash
        )
        self.held = _journal_write(self.project, None, self.record)

    def complete(self, conn: Any, after_hash: str) -> None:
        self.record["applied"]["schema_hash_after"] = after_hash
        self.record["log"]["extra"]["schema_hash_after"] = after_hash
        self.record["applied"]["at"] = _now()
        _journal_write(self.project, self.held, self.record)  # complete before COMMIT
        self.committing = True


def apply_change(
    project: Project, change_id: str, elicited: approvals.Approval | None = None
) -> dict[str, Any]:
    """Apply an approved change (see the module docstring for every check made first).

    The approval is the signed terminal record, or ``elicited`` (from
    :func:`elicited_approval`, built in this same call by the MCP face).

    In strict mode (``DATABASE_URL``'s role cannot change the schema) nothing runs: the
    answer is ``outcome = "approval_required"`` with the person's command (see
    :mod:`database_use.changes.strict_gate`).

    On any failure before COMMIT the database is rolled back, the doc and the log are
    untouched, and the proposal records why; the error is raised as ChangeRefused. After
    COMMIT nothing is reported as a failure: the status, doc and log steps are best-effort,
    a step that fails is a warning naming the command that finishes it (this same apply),
    and the journal written before COMMIT lets any later command finish them after a crash.
    Applying a change that is already applied finishes what is left and answers ``applied``.
    """
    import psycopg

    pending = finish_pending(project)
    proposal = load_change(project, change_id)
    if proposal.get("status") == "applied":
        return applied_result(project, proposal, pending, [], already=True)
    check_open(proposal)
    role = strict_gate.strict_role(project)
    if role is not None:
        return strict_gate.approval_required(project, proposal, role)
    sha = check_sql_hash(proposal)
    planned_hash = proposal.get("schema_hash")

    def approved(target: str | None) -> approvals.Approval:
        given = elicited or approvals.load(project, "change", change_id)
        return approvals.check(
            given,
            project,
            "change",
            change_id,
            sha,
            schema_hash=planned_hash,
            target=given.target if target is None else target,
        )

    try:  # early, without burning it: no approval → nothing is even attempted
        approved(None)
    except ChangeRefused as exc:
        raise ChangeRefused(
            f"change {change_id} is not approved: {exc.message}",
            hint=f"a person must approve this exact SQL: {approve_command(project, change_id)}",
        ) from None
    lock_ms, statement_ms = apply_timeouts()
    steps = _AgentSteps(project, proposal, approved)
    try:
        with (
            project.connect(readonly=False, statement_timeout_ms=statement_ms) as conn,
            conn.transaction(),
        ):
            apply_in_transaction(conn, project, proposal, steps, lock_ms, statement_ms)
    except Stale as exc:
        set_status(project, proposal, "stale", str(exc))
        raise ChangeRefused(
            f"change {change_id} is stale: {exc}; nothing was applied, propose again"
        ) from None
    except (Failed, psycopg.Error) as exc:
        info = exc.info if isinstance(exc, Failed) else _pg_error(exc)
        held, record = steps.held, steps.record
        if steps.committing and held is not None:  # COMMIT itself failed: did it commit?
            verdict, how = journal.outcome(project, record)
            if verdict == "committed":
                return _after_commit(project, proposal, held, record, pending)
            if verdict != "aborted":
                held.release()
                raise ChangeRefused(
                    f"change {change_id}: COMMIT did not answer ({info.get('error')}) and its "
                    f"outcome is not known yet ({how}); the next command checks again and "
                    f"finishes or discards it: {hints.command(project, 'apply', change_id)}"
                ) from None
        if held is not None:
            held.remove()
        return failed(project, proposal, info)
    except BaseException:
        if steps.held is not None:
            if steps.committing:  # interrupted at COMMIT: the next command finds out which way
                steps.held.release()
            else:
                steps.held.remove()  # rolled back: nothing to finish
        raise
    assert steps.held is not None
    return _after_commit(project, proposal, steps.held, steps.record, pending)


def check_sql_hash(proposal: dict[str, Any]) -> str:
    """The SHA-256 of the proposal's SQL, refused unless it is the one recorded at planning."""
    sha = approvals.content_hash(sql_text(proposal.get("sql") or []))
    if sha != proposal.get("sql_sha256"):
        raise ChangeRefused(
            f"the SQL of change {proposal['id']} was edited after it was planned; propose again"
        )
    return sha


def _journal_write(
    project: Project, held: journal.Journal | None, record: dict[str, Any]
) -> journal.Journal:
    # Before COMMIT: a journal that cannot be written stops the apply (rolled back).
    try:
        if held is None:
            return journal.begin(project, record["change_id"], record)
        held.write({**record, "version": journal.VERSION})
        return held
    except OSError as exc:
        raise Failed(
            {
                "error": f"the apply journal could not be written ({exc.strerror or exc}); "
                "nothing was committed",
                "sqlstate": None,
            }
        ) from None


def _journal_record(
    project: Project,
    proposal: dict[str, Any],
    approval: approvals.Approval,
    identity: str,
    xid: str,
    before_hash: str,
) -> dict[str, Any]:
    """What a later command needs to finish this apply: how to tell whether it committed,
    the status to record, and the log entry to write (the doc is regenerated from the DB)."""
    return {
        "change_id": proposal["id"],
        "started_at": _now(),
        "database": identity,
        "xid": xid,
        "sql_sha256": proposal["sql_sha256"],
        "nonce": approval.nonce,
        "expected": proposal["expected"],
        "applied": {
            "at": None,
            "approved_by": approval.approved_by,
            "approval_channel": approval.channel,
            "schema_hash_before": before_hash,
            "schema_hash_after": None,
        },
        "log": {
            "summary": log_summary(proposal),
            "details": f"Risk: {proposal.get('risk_level')}. Dry-run: "
            f"{'ok' if (proposal.get('dry_run') or {}).get('ok') else 'failed'}.",
            "tables": [proposal["table"]],
            "sql": proposal["sql_text"],
            "extra": {
                "proposal_id": proposal["id"],
                "approved_by": approval.approved_by,
                "approval_channel": approval.channel,
                "schema_hash_before": before_hash,
                "schema_hash_after": None,
            },
        },
    }


def failed(project: Project, proposal: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    proposal["apply_error"] = info
    set_status(project, proposal, "failed", info.get("error"))
    raise ChangeRefused(
        f"change {proposal['id']} failed and was rolled back; the database, doc and log are "
        f"unchanged: {info.get('error')}"
        + (f" [SQLSTATE {info['sqlstate']}]" if info.get("sqlstate") else "")
    )


def log_summary(proposal: dict[str, Any]) -> str:
    req = proposal["request"]
    where = f"{proposal['table']}.{proposal['column']}"
    action = req["action"]
    if action == "add":
        return f"Add column {where} ({req['type']})"
    if action == "alter_type":
        return f"Change type of {where} to {req['type']}"
    if action == "rename":
        return f"Rename column {where} to {req['new_name']}"
    if action == "drop":
        return f"Drop column {where}"
    return f"{action.replace('_', ' ').capitalize()} on {where}"


# -- after COMMIT: best-effort steps, finished later from the journal when they fail -----------
def finish_steps(
    project: Project, proposal: dict[str, Any], record: dict[str, Any], again: str | None = None
) -> tuple[list[str], dict[str, Any] | None, dict[str, Any] | None]:
    """Record the status, regenerate the doc, log the entry (once): each step on its own, a
    failure becomes a warning naming the command that finishes it (``again``; default: this
    apply). Never raises."""
    from database_use import service

    again = again or hints.command(project, "apply", proposal["id"])
    warnings: list[str] = []
    docs = logged = None

    def step(name: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # after COMMIT: report, never fail
            message = exc.message if isinstance(exc, DatabaseUseError) else f"{exc}"
            warnings.append(
                f"the change is applied but {name} failed ({mask_url(message)}); "
                f"finish it with: {again}"
            )
            return None

    def status() -> None:
        if proposal.get("status") != "applied":
            proposal["applied"] = record["applied"]
            applied = record["applied"]
            set_status(
                project,
                proposal,
                "applied",
                f"applied; approved by {applied['approved_by']} via {applied['approval_channel']}",
            )

    def log_it() -> dict[str, Any]:
        entry = record["log"]
        return service.append_log_entry(
            project,
            entry["summary"],
            details=entry["details"],
            tables=entry["tables"],
            sql=entry["sql"],
            extra=entry["extra"],
            when=datetime.fromisoformat(record["applied"]["at"]),
            unless_proposal=proposal["id"],
        )

    step("recording the proposal's status", status)
    docs = step("regenerating the doc", lambda: service.generate_docs(project))
    logged = step("appending the change-log entry", log_it)
    return warnings, docs, logged


def _after_commit(
    project: Project,
    proposal: dict[str, Any],
    held: journal.Journal,
    record: dict[str, Any],
    pending: Pending,
) -> dict[str, Any]:
    warnings, docs, logged = finish_steps(project, proposal, record)
    if warnings:
        held.release()  # kept: the next command that touches changes finishes it
    else:
        held.remove()
    try:
        return applied_result(project, proposal, pending, warnings, docs=docs, logged=logged)
    except Exception as exc:  # the change is committed: a bare answer, never an error
        log.warning("apply answer of %s incomplete: %s", proposal["id"], exc)
        keys = ("id", "table", "column", "action", "sql", "sql_text", "risk", "dry_run")
        return {
            **{k: proposal.get(k) for k in keys},
            "ok": True,
            "status": "applied",
            "already_applied": False,
            "applied": record["applied"],
            "verified": True,
            "doc": docs,
            "log": None,
            "models_todo": None,
            "warnings": pending.warnings
            + warnings
            + [f"the answer could not be completed ({type(exc).__name__}); the change is applied"],
            "finished": pending.finished,
        }


def applied_result(
    project: Project,
    proposal: dict[str, Any],
    pending: Pending,
    warnings: list[str],
    docs: dict[str, Any] | None = None,
    logged: dict[str, Any] | None = None,
    already: bool = False,
) -> dict[str, Any]:
    result = _public(project, proposal)
    result.update(
        {
            "ok": True,
            "already_applied": already,
            "applied": proposal.get("applied"),
            "verified": True,
            "doc": docs,
            "log": {k: v for k, v in (logged or {}).items() if k != "entry"} or None,
            "models_todo": models_todo(project, proposal),
            "warnings": pending.warnings + warnings,
            "finished": pending.finished,
        }
    )
    return result


def finish_pending(project: Project) -> Pending:
    """Finish every apply a crash or a failed step left half done; one line per journal.

    Called first by every command that touches changes (apply, propose, list, validate,
    log_change). A journal whose transaction committed gets its status, doc and log entry
    (exactly once: the log is searched for the proposal's entry under its lock); one that
    did not commit is discarded and its proposal left as it was. Never raises."""
    done = Pending()
    for change_id in journal.pending(project):
        try:
            _finish_one(project, change_id, done)
        except Exception as exc:  # a problem here must not break the command that called
            log.warning("could not finish the journal of %s: %s", change_id, mask_url(str(exc)))
            done.warnings.append(
                f"the apply journal of {change_id} could not be finished ({mask_url(str(exc))})"
            )
    return done


def _finish_one(project: Project, change_id: str, done: Pending) -> None:
    held = journal.claim(project, change_id)
    if held is None:
        return  # another process is applying or finishing it right now
    try:
        record = held.read()
        proposal = load_change(project, change_id)
    except (ValueError, OSError, DatabaseUseError) as exc:
        held.release()
        why = exc.message if isinstance(exc, DatabaseUseError) else str(exc)
        done.warnings.append(
            f"the apply journal of {change_id} is unreadable ({why}); left in place"
        )
        return
    distrust = journal.trusted(project, record, proposal)
    if distrust:
        held.release()
        done.warnings.append(
            f"the apply journal {held.path.relative_to(project.root)} was ignored: {distrust} "
            "(it was not written by an apply; remove it)"
        )
        return
    verdict, how = journal.outcome(project, record)
    if verdict == "aborted":
        held.remove()
        done.finished.append(
            f"change {change_id} was not committed ({how}); its journal was discarded, the "
            "database is unchanged and the proposal stays as it was"
        )
        return
    if verdict != "committed":
        held.release()
        done.warnings.append(
            f"change {change_id} may be half applied ({how}); left for the next command: "
            f"{hints.command(project, 'apply', change_id)}"
        )
        return
    warnings, _docs, _logged = finish_steps(project, proposal, record)
    if warnings:
        held.release()
        done.warnings.extend(warnings)
        return
    held.remove()
    done.finished.append(
        f"finished change {change_id} (applied earlier, {how}): status, doc and log done"
    )


def models_todo(project: Project, proposal: dict[str, Any]) -> dict[str, Any]:
    """What the models now lack for this table (db vs models), with the model line to write."""
    from database_use import service

    table = proposal["table"]
    column = proposal["request"].get("new_name") or proposal["column"]
    todo: dict[str, Any] = {
        "table": table,
        "column": column,
        "differences": [],
        "model_line": None,
        "note": None,
    }
    try:
        compared = service.compare(project, "db", "models")
    except Exception as exc:  # the change is applied: a compare problem must not hide that
        message = exc.message if isinstance(exc, DatabaseUseError) else type(exc).__name__
        todo["note"] = f"could not compare with the models ({message}); run compare db models"
        return todo
    todo["differences"] = [d for d in compared.get("differences", []) if d.get("table") == table]
    todo["model_line"] = _model_line(project, table, column, proposal)
    if not todo["differences"]:
        todo["note"] = "the models already match the database for this table"
    elif proposal["request"]["action"] == "rename":
        old = proposal["column"]
        todo["note"] = (
            f"either rename the attribute (model_line), or keep the attribute and point it "
            f'at the new column name: {old} = mapped_column("{column}", ...)'
        )
    return todo


def _model_line(project: Project, table: str, column: str, proposal: dict[str, Any]) -> str | None:
    """The model line for the column as the database now has it (None for a drop)."""
    if proposal["request"]["action"] == "drop":
        return None
    try:
        from database_use.compare.model_lines import model_line
        from database_use.sources.live import from_database

        snapshot = from_database(project)
        live_table = snapshot.table(table)
        col = live_table.column(column) if live_table else None
        return model_line(col, live_table, snapshot) if col is not None else None
    except Exception as exc:  # a missing or different helper must not fail a finished apply
        log.warning("model line unavailable: %s", exc)
        return None
