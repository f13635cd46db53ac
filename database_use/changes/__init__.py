"""Guarded column changes: propose → risk check → dry-run → a person approves → apply → docs → log.

- :mod:`database_use.changes.sqlgen`   identifier/literal quoting, type and default validation
- :mod:`database_use.changes.plan`     request → exact SQL + expected state (pure)
- :mod:`database_use.changes.pipeline` the service functions both faces call
- :mod:`database_use.changes.risk`             risk findings (stable codes)
- :mod:`database_use.approvals`        signed person approvals

The service functions are re-exported here lazily (``from database_use.changes import
propose_column_change``) so importing the sub-modules stays cheap and free of cycles.
"""

from __future__ import annotations

from typing import Any

# The actions a proposal may take; here so the CLI can list them without importing the planner.
ACTIONS: tuple[str, ...] = (
    "add",
    "alter_type",
    "rename",
    "drop",
    "set_not_null",
    "drop_not_null",
    "set_default",
    "drop_default",
    "set_comment",
)

# A proposal's statuses; "declined" = the person said no, "withdrawn" = the agent took it back.
STATUSES: tuple[str, ...] = (
    "proposed",
    "approved",
    "applied",
    "failed",
    "rejected",
    "declined",
    "withdrawn",
    "stale",
    "expired",
)

__all__ = [
    "apply_change",
    "approval_text",
    "approve_command",
    "dry_run",
    "elicited_approval",
    "get_change",
    "last_decline",
    "list_changes",
    "load_change",
    "models_todo",
    "prepare_approval",
    "propose_column_change",
    "record_approval",
    "record_decline",
    "reject_change",
    "withdraw_change",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from database_use.changes import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
