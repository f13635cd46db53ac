"""Strict mode's ledger: the record of applied changes, kept where the agent's role cannot write.

``database_use_ledger.applied_changes`` (``sources/sql/ledger_create.sql``) is created by the
person's apply (:mod:`database_use.changes.owner`) on first use, connected as the owner role, and
one row is written in the SAME transaction as the change: a row exists exactly when the change
committed. The owner owns it; PUBLIC may only read it. The catalog reads leave the schema out,
so it never shows as drift or moves the schema hash.

``pgdb_changes.md`` stays a project file the agent can edit. It is checked against the ledger
(:func:`check`, run by ``validate``): an entry of every row, each exactly as the row renders it,
no applied entry after the ledger started that the ledger lacks, and the live schema hash equal
to the last row's "after" hash. :func:`render_log` appends the entries the log lacks (the log is
append-only, so an altered entry is reported, never rewritten). No ledger: nothing here runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from database_use import hints
from database_use.changes import changelog
from database_use.errors import ChangeRefused

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

    from database_use.project import Project

SCHEMA = "database_use_ledger"  # also named in the catalog queries (sources/sql/*.sql)
TABLE = f"{SCHEMA}.applied_changes"
APPROVED_VIA = "owner-password"  # the owner role's password, typed at the person's terminal


@dataclass(frozen=True)
class Row:
    id: int
    applied_at: datetime
    applied_by: str
    proposal_id: str
    summary: str
    table_name: str
    sql_text: str
    sql_sha256: str
    schema_hash_before: str
    schema_hash_after: str
    approved_via: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "applied_at": self.applied_at.isoformat()}


def _sql(name: str) -> str:
    from database_use.sources.live import sql

    return sql(name)


def _row(values: Any) -> Row:
    row = Row(*values)
    # In UTC whatever the session's TimeZone: the log's headings are UTC.
    at = row.applied_at if row.applied_at.tzinfo else row.applied_at.replace(tzinfo=UTC)
    return Row(**{**row.__dict__, "applied_at": at.astimezone(UTC)})


# -- written by the owner, inside the apply's transaction ---------------------------------------
def record(
    conn: psycopg.Connection, proposal: dict[str, Any], summary: str, before: str, after: str
) -> Row:
    """Create the ledger if needed (as the connected owner) and add this change's row."""
    import psycopg

    exists, role, database = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL, current_user, current_database()", (TABLE,)
    ).fetchone()
    if not exists:
        try:
            conn.execute(_sql("ledger_create"))
        except psycopg.errors.InsufficientPrivilege:
            raise ChangeRefused(
                f"role {role!r} may not create the ledger schema {SCHEMA}; nothing was applied. "
                f"Let it own the database, or once, as a superuser: GRANT CREATE ON DATABASE "
                f"{database} TO {role}"
            ) from None
    owner = conn.execute(_sql("ledger_owner")).fetchone()
    if not owner or not owner[2]:
        raise ChangeRefused(
            f"{TABLE} exists but belongs to {owner[1] if owner else 'someone else'!r}, not to this "
            "role; nothing was applied (drop it as a superuser, or apply as its owner)"
        )
    values = conn.execute(
        _sql("ledger_insert"),
        {
            "proposal_id": proposal["id"],
            "summary": summary,
            "table_name": proposal["table"],
            "sql_text": proposal["sql_text"],
            "sql_sha256": proposal["sql_sha256"],
            "schema_hash_before": before,
            "schema_hash_after": after,
            "approved_via": APPROVED_VIA,
        },
    ).fetchone()
    return _row(values)


# -- read by anyone -------------------------------------------------------------------------------
def read(conn: psycopg.Connection) -> list[Row] | None:
    """Every ledger row, oldest first; None when there is no ledger (or it is not readable)."""
    found = conn.execute(
        "SELECT CASE WHEN to_regclass(%(t)s) IS NULL THEN false "
        "ELSE has_table_privilege(to_regclass(%(t)s), 'SELECT') END",
        {"t": TABLE},
    ).fetchone()
    if not found or not found[0]:
        return None
    return [_row(values) for values in conn.execute(_sql("ledger_rows")).fetchall()]


def read_project(project: Project) -> list[Row] | None:
    with project.connect(readonly=True) as conn:
        rows = read(conn)
        conn.rollback()
    return rows


def find(conn: psycopg.Connection, proposal_id: str) -> Row | None:
    return next((r for r in read(conn) or [] if r.proposal_id == proposal_id), None)


# -- the log entry of a row ---------------------------------------------------------------------
def entry_args(row: Row) -> dict[str, Any]:
    """The arguments of :func:`service.append_log_entry` that log ``row`` (all from the row)."""
    return {
        "summary": row.summary,
        "details": f"Ledger row {row.id} ({TABLE}), applied as role {row.applied_by}.",
        "tables": [row.table_name],
        "sql": row.sql_text,
        "extra": {
            "proposal_id": row.proposal_id,
            "approved_by": row.applied_by,
            "approval_channel": row.approved_via,
            "schema_hash_before": row.schema_hash_before,
            "schema_hash_after": row.schema_hash_after,
        },
        "when": row.applied_at,
    }


def _rendered(row: Row) -> str:
    """The entry's canonical text (no chain line), as :func:`service.append_log_entry` writes it."""
    args = entry_args(row)
    summary, names, clean = changelog.validate_entry_args(
        args["summary"], args["details"], args["tables"], args["sql"], args["extra"]
    )
    text = changelog.format_log_entry(
        summary, args["when"], names, args["details"], args["sql"], clean
    )
    return changelog.Entry(0, text.rstrip("\n").split("\n")).canonical()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _minute(heading: str) -> str | None:
    """``YYYY-MM-DD HH:MM`` of an entry heading (sortable as text)."""
    stamp = heading[3:19]
    return stamp if len(stamp) == 16 and stamp[4] == "-" and stamp[13] == ":" else None


def compare_log(rows: list[Row], parsed: changelog.ParsedLog | None) -> list[str]:
    """Where the log disagrees with the ledger, one line each (empty: it agrees)."""
    entries = parsed.entries if parsed else []
    by_id = {e.proposal_id: e for e in entries if e.proposal_id}
    problems = []
    for row in rows:
        entry = by_id.get(row.proposal_id)
        if entry is None:
            problems.append(
                f"ledger row {row.id} ({row.proposal_id}, {row.summary!r}) has no entry in the "
                "change log"
            )
            continue
        want, have = _rendered(row), entry.canonical()
        if want != have:
            problems.append(
                f"log entry {entry.number} ({row.proposal_id}) differs from ledger row {row.id} "
                f"(digest {_digest(have)}, ledger says {_digest(want)})"
            )
    known = {row.proposal_id for row in rows}
    start = min((row.applied_at.strftime("%Y-%m-%d %H:%M") for row in rows), default=None)
    for entry in entries:
        when = _minute(entry.heading)
        if (
            entry.proposal_id
            and entry.proposal_id not in known
            and start
            and when
            and when >= start
        ):
            problems.append(
                f"log entry {entry.number} ({entry.proposal_id}) records an applied change the "
                "ledger does not have"
            )
    return problems


def check(project: Project, live_hash: str) -> dict[str, Any] | None:
    """``validate``'s ledger check; None when the database has no ledger."""
    rows = read_project(project)
    if rows is None:
        return None
    problems = compare_log(rows, changelog.read_log(project.changes_log_path))
    warnings = []
    if rows and rows[-1].schema_hash_after != live_hash:
        warnings.append(
            f"the live schema (hash {live_hash}) differs from the last change in the ledger "
            f"(row {rows[-1].id}, hash {rows[-1].schema_hash_after}): changed outside the "
            "person's apply?"
        )
    if problems:
        message = (
            f"the change log disagrees with the ledger ({TABLE}): {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
            + "; restore it from version control, then run: "
            + hints.command(project, "log", "render")
        )
    else:
        message = f"the change log agrees with the ledger ({len(rows)} applied changes)"
    return {
        "ok": not problems,
        "rows": len(rows),
        "problems": problems,
        "warnings": warnings,
        "message": message,
    }


def render_log(project: Project) -> dict[str, Any]:
    """Append to ``pgdb_changes.md`` the entry of every ledger row it lacks (oldest first)."""
    from database_use import service

    rows = read_project(project)
    if rows is None:
        raise ChangeRefused(f"this database has no ledger ({TABLE}); nothing to render")
    appended = []
    for row in rows:
        if changelog.has_proposal_entry(project.changes_log_path, row.proposal_id):
            continue
        service.append_log_entry(project, **entry_args(row), unless_proposal=row.proposal_id)
        appended.append(row.proposal_id)
    problems = compare_log(rows, changelog.read_log(project.changes_log_path))
    return {
        "ok": not problems,
        "rows": len(rows),
        "appended": appended,
        "problems": problems,
        "path": str(project.changes_log_path.relative_to(project.root)),
    }
