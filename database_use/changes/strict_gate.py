"""Strict mode as the change pipeline sees it: read from the server, never from a file.

When ``DATABASE_URL``'s role cannot change the schema (:func:`database_use.strict.can_change_schema`
over :func:`database_use.roles.inspect_role`), the agent's side cannot run a change at all:
PostgreSQL refuses it. So ``propose`` records the dry-run as not run (the agent's role cannot
execute DDL even in a rolled-back transaction), ``apply`` runs nothing and answers
``approval_required`` with the person's command (:func:`owner_command`), and the person's apply
(:mod:`database_use.changes.owner`) runs it as the owner role, whose password is the approval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from database_use import hints

if TYPE_CHECKING:  # pragma: no cover
    from database_use.project import Project

DRY_RUN_SKIPPED = (
    "not run in strict mode (DATABASE_URL's role cannot run DDL, not even rolled back); the "
    "person's apply as the owner is one transaction that rolls back on any failure"
)


def strict_role(project: Project) -> str | None:
    """The agent's role name when it cannot change the schema (strict mode), else None."""
    from database_use import roles, strict

    report = roles.inspect_role(project.database_url)
    return None if strict.can_change_schema(report) else report.role


def owner_command(project: Project, change_id: str) -> str:
    """The command the person runs in their own terminal to apply ``change_id`` as the owner."""
    return hints.command(project, "apply", change_id, "--as-owner")


def skipped_dry_run() -> dict[str, Any]:
    return {
        "ok": False,
        "error": None,
        "sqlstate": None,
        "rolled_back": True,
        "skipped": DRY_RUN_SKIPPED,
    }


def dry_run_passed(dry: dict[str, Any] | None) -> bool:
    """Nothing stands in the way of approval: the dry-run succeeded, or strict mode skipped it."""
    return bool(dry and (dry.get("ok") or dry.get("skipped")))


def approval_required(project: Project, proposal: dict[str, Any], role: str) -> dict[str, Any]:
    """``apply``'s answer in strict mode: nothing ran; the person's command does it."""
    command = owner_command(project, proposal["id"])
    return {
        "id": proposal["id"],
        "ok": False,
        "outcome": "approval_required",
        "applied": False,
        "status": proposal.get("status", "proposed"),
        "table": proposal.get("table"),
        "column": proposal.get("column"),
        "sql": proposal.get("sql"),
        "risk": proposal.get("risk", []),
        "dry_run": proposal.get("dry_run"),
        "reason": f"strict mode: DATABASE_URL's role {role!r} cannot change the schema, so "
        "only the person applies it, as the owner role, with its password",
        "command": command,
    }
