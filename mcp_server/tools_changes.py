"""The guarded-change tools: propose_column_change, apply_change, list_changes.

Thin faces over :mod:`database_use.changes`. The approval never comes from a tool argument:

- ``apply_change`` applies at once when a person already approved this exact SQL (the
  ``approve`` command on a terminal, signed with their passphrase);
- otherwise, when the person's own config allows it (``[elicitation] allow``, see
  :mod:`database_use.policy`) and the client declared the elicitation capability, it asks the
  person (resolver form, so it works in both protocol eras) showing table, column, the exact
  SQL (escaped), the risk findings and a fresh dry-run; only an explicit accept with
  ``approve = true`` applies, in that same call, and nothing reusable is written;
- a decline closes the proposal: calling apply_change again does not ask again, it answers
  ``declined``;
- a client without elicitation gets ``outcome = "approval_required"`` naming the exact
  command the person must run; decline/cancel give ``declined``/``cancelled``. In none of
  these cases is anything applied.

The capability is checked BEFORE an ``Elicit`` is returned: asking a client that did not
declare it would fail the whole call with -32021 instead of giving the clear answer above.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import (
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from database_use import policy
from database_use.errors import DatabaseUseError
from database_use.settings import mask_url
from mcp_server.asking import ask_person, outcome
from mcp_server.common import READ_ONLY, hints, project_from_ctx, tool_errors

PROPOSES = hints(read_only=False, destructive=False, idempotent=False)
APPLIES = hints(read_only=False, destructive=True, idempotent=False)

Action = Literal[
    "add",
    "alter_type",
    "rename",
    "drop",
    "set_not_null",
    "drop_not_null",
    "set_default",
    "drop_default",
    "set_comment",
]


# -- output models ----------------------------------------------------------------------------
class RiskFinding(BaseModel):
    code: str = Field(description="Stable rule code, e.g. set_not_null_full_scan")
    level: Literal["info", "warning", "danger"]
    message: str
    lock: str = Field(description="The lock the statement takes")
    safe_alternative: str


class DryRun(BaseModel):
    ok: bool = Field(description="Whether the SQL succeeded in a transaction that was rolled back")
    error: str | None = None
    sqlstate: str | None = None
    rolled_back: bool = True


class ApprovalState(BaseModel):
    state: Literal["none", "valid", "refused"]
    reason: str | None = None
    approval: dict[str, Any] | None = None


class Proposal(BaseModel):
    id: str
    status: str = Field(
        description="proposed | approved | applied | failed | rejected | stale | expired"
    )
    status_reason: str | None = None
    created_at: str | None = None
    table: str
    column: str
    action: str
    request: dict[str, Any]
    sql: list[str] = Field(description="The exact statements that will run")
    sql_text: str
    sql_sha256: str
    schema_hash: str = Field(description="Live schema hash the change was planned against")
    lock: str
    table_stats: dict[str, Any]
    risk: list[RiskFinding]
    risk_level: str = Field(description="none | info | warning | danger")
    dry_run: DryRun
    path: str
    approval: ApprovalState
    next_step: str


class ApplyResult(BaseModel):
    id: str
    outcome: Literal["applied", "approval_required", "declined", "cancelled"]
    ok: bool = Field(
        default=False,
        description="True when the change is applied, even if a step after COMMIT failed "
        "(then see warnings)",
    )
    applied: bool = Field(description="True only when the database was changed")
    already_applied: bool = Field(
        default=False, description="Applied by an earlier call; nothing ran again"
    )
    message: str
    status: str | None = None
    approve_command: str | None = Field(
        default=None, description="The command a person runs in a terminal to approve"
    )
    table: str | None = None
    column: str | None = None
    sql: list[str] | None = None
    risk: list[RiskFinding] | None = None
    dry_run: DryRun | None = None
    approval: dict[str, Any] | None = Field(default=None, description="Who approved, how, when")
    schema_hash_before: str | None = None
    schema_hash_after: str | None = None
    doc: dict[str, Any] | None = None
    log: dict[str, Any] | None = None
    models_todo: dict[str, Any] | None = Field(
        default=None, description="What models_*.py now lack for this table, with the model line"
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Steps after COMMIT that failed (doc, log, status), each with the command "
        "that finishes it; the change IS applied — do not propose it again",
    )
    finished: list[str] = Field(
        default_factory=list, description="Applies a crash left half done, finished first"
    )


class ChangeRow(BaseModel):
    id: str
    status: str
    created_at: str | None = None
    table: str | None = None
    column: str | None = None
    action: str | None = None
    risk_level: str | None = None
    dry_run_ok: bool | None = None
    approved_by: str | None = None
    reason: str | None = None


class ChangeList(BaseModel):
    changes: list[ChangeRow]
    count: int
    finished: list[str] = Field(
        default_factory=list, description="Applies a crash left half done, finished now"
    )
    warnings: list[str] = Field(default_factory=list)


class ApprovalAnswer(BaseModel):
    """What the person answers (flat schema; defaults to NOT approving)."""

    approve: bool = Field(default=False, description="Apply exactly this SQL to the database now")


# -- helpers -----------------------------------------------------------------------------------
def _structured(model: BaseModel) -> CallToolResult:
    data = model.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _changes():
    from database_use import changes

    return changes


# -- resolvers (run before the apply_change body; never from tool arguments) -------------------
def _prepare(change_id: str, ctx: Context) -> dict[str, Any]:
    """Fresh look at the change: already approved, to be asked, or an error to report."""
    project = project_from_ctx(ctx)
    changes = _changes()
    try:
        proposal = changes.get_change(project, change_id)
        if proposal["status"] == "applied":  # apply finishes what is left and says so
            return {"mode": "approved"}
        if proposal["status"] == "approved" and proposal["approval"]["state"] == "valid":
            return {"mode": "approved"}
        if proposal["status"] == "rejected" and str(proposal.get("status_reason")).startswith(
            "declined"
        ):
            return {"mode": "declined", "prepared": proposal}
        prepared = changes.prepare_approval(project, change_id)
        if not policy.load_policy().elicitation_allowed:
            return {"mode": "no_dialog", "prepared": prepared}
        return {"mode": "ask", "prepared": prepared}
    except DatabaseUseError as exc:
        return {"mode": "error", "error": mask_url(" ".join(str(exc).split()))}


def _ask(ctx: Context, prep: Annotated[dict, Resolve(_prepare)]) -> Elicit[ApprovalAnswer] | str:
    """Ask the person — only when there is something to ask and the client can ask."""
    text = (prep.get("prepared") or {}).get("text", "")
    return ask_person(
        ctx, prep, text + "\n\nApprove and apply exactly this SQL now?", ApprovalAnswer
    )


# -- the tools ---------------------------------------------------------------------------------
def propose_column_change(
    ctx: Context,
    table: Annotated[str, Field(description="Table: 'users' or 'public.users'")],
    action: Annotated[Action, Field(description="What to do with the column")],
    column: Annotated[str, Field(description="The column (for add: the new column's name)")],
    new_name: Annotated[str | None, Field(description="rename: the new name")] = None,
    type: Annotated[  # noqa: A002 - the contract's argument name
        str | None,
        Field(
            description="add/alter_type: integer, bigint, text, varchar(n), numeric(p,s), "
            "boolean, timestamptz, uuid, jsonb, an existing enum, ... (type[] for arrays)"
        ),
    ] = None,
    nullable: Annotated[
        bool | None, Field(description="add: false for NOT NULL (default true)")
    ] = None,
    default: Annotated[
        str | None,
        Field(
            description="add/set_default: 0, 1.5, true, null, 'text' (quoted), now(), "
            "CURRENT_TIMESTAMP, gen_random_uuid()"
        ),
    ] = None,
    comment: Annotated[str | None, Field(description="add/set_comment: the column comment")] = None,
) -> Annotated[CallToolResult, Proposal]:
    """Plan a column change (add, alter_type, rename, drop, set/drop NOT NULL, set/drop default,
    set_comment) against the live database: returns the exact SQL, risk findings and a dry-run
    (rolled back). Changes nothing. A person must approve it before apply_change runs it."""
    with tool_errors("propose_column_change"):
        data = _changes().propose_column_change(
            project_from_ctx(ctx),
            table,
            action,
            column,
            new_name=new_name,
            type=type,
            nullable=nullable,
            default=default,
            comment=comment,
        )
        return _structured(Proposal.model_validate(data))


async def apply_change(
    ctx: Context,
    change_id: Annotated[str, Field(description="The id returned by propose_column_change")],
    prep: Annotated[dict, Resolve(_prepare)],
    answer: Annotated[ElicitationResult[ApprovalAnswer], Resolve(_ask)],
) -> Annotated[CallToolResult, ApplyResult]:
    """Apply a proposed column change to the live database — only after a person approved this
    exact SQL (the client asks them, or they ran the approve command). Then verifies it,
    regenerates the schema doc, logs the change and returns the model lines to update."""
    import anyio.to_thread

    with tool_errors("apply_change"):
        project = project_from_ctx(ctx)
        changes = _changes()
        mode = prep.get("mode")
        if mode == "error":
            raise ToolError(prep["error"])
        prepared = prep.get("prepared") or {}
        if mode == "declined":
            return _not_applied(project, change_id, prepared, "declined")
        if mode == "no_dialog":
            return _not_applied(project, change_id, prepared, "dialog_off")
        elicited = None
        if mode == "ask":
            said = outcome(answer, ApprovalAnswer)
            if said == "declined":
                await anyio.to_thread.run_sync(
                    lambda: changes.record_decline(project, change_id, "in the client's dialog")
                )
            if said != "approved":
                return _not_applied(project, change_id, prepared, said)
            elicited = changes.elicited_approval(project, prepared)
        result = await anyio.to_thread.run_sync(
            lambda: changes.apply_change(project, change_id, elicited=elicited)
        )
        applied = result["applied"]
        earlier = (
            "already applied earlier (nothing ran again)"
            if result["already_applied"]
            else ("applied and verified")
        )
        finish = (
            " Some steps after COMMIT failed (see warnings): run the command named there to "
            "finish them; do not propose the change again."
            if result.get("warnings")
            else ""
        )
        return _structured(
            ApplyResult(
                id=change_id,
                outcome="applied",
                ok=True,
                applied=True,
                already_applied=result["already_applied"],
                status=result["status"],
                message=f"{earlier}; approved by {applied['approved_by']} via "
                f"{applied['approval_channel']}.{finish} Next: update the models "
                "(models_todo), then compare db models.",
                table=result["table"],
                column=result["column"],
                sql=result["sql"],
                risk=[RiskFinding.model_validate(f) for f in result["risk"]],
                dry_run=DryRun.model_validate(result["dry_run"]),
                approval=applied,
                schema_hash_before=applied["schema_hash_before"],
                schema_hash_after=applied["schema_hash_after"],
                doc=result.get("doc"),
                log=result.get("log"),
                models_todo=result.get("models_todo"),
                warnings=result.get("warnings", []),
                finished=result.get("finished", []),
            )
        )


def _not_applied(
    project: Any, change_id: str, prepared: dict[str, Any], outcome: str
) -> CallToolResult:
    command = _changes().approve_command(project, change_id)
    messages = {
        "approval_required": (
            "NOT APPLIED: this client cannot ask the person for approval. Ask the person to "
            f"review and approve it in a terminal: {command} — then call apply_change again."
        ),
        "dialog_off": (
            "NOT APPLIED: approval in the client's dialog is off in the person's own config. "
            f"Ask the person to review and approve it in a terminal: {command} — then call "
            "apply_change again."
        ),
        "declined": "NOT APPLIED: the person declined this change; it is closed. Do not retry "
        "it; propose again only if the person asks for it.",
        "cancelled": "NOT APPLIED: the person dismissed the approval request. Nothing changed.",
    }
    return _structured(
        ApplyResult(
            id=change_id,
            outcome="approval_required" if outcome == "dialog_off" else outcome,  # type: ignore[arg-type]
            applied=False,
            message=messages[outcome],  # type: ignore[arg-type]
            status="rejected" if outcome == "declined" else "proposed",
            approve_command=None if outcome == "declined" else command,
            table=prepared.get("table"),
            column=prepared.get("column"),
            sql=prepared.get("sql"),
            risk=[RiskFinding.model_validate(f) for f in prepared.get("risk", [])],
            dry_run=DryRun.model_validate(prepared["dry_run"]) if prepared.get("dry_run") else None,
        )
    )


def list_changes(
    ctx: Context,
    status: Annotated[
        Literal["proposed", "approved", "applied", "failed", "rejected", "stale", "expired"] | None,
        Field(description="Only changes with this status"),
    ] = None,
) -> Annotated[CallToolResult, ChangeList]:
    """List proposed column changes with their status (proposed, approved, applied, failed,
    rejected, stale, expired), risk level and who approved them. Read-only."""
    with tool_errors("list_changes"):
        data = _changes().list_changes(project_from_ctx(ctx), status)
        return _structured(ChangeList.model_validate(data))


TOOLS = (
    (propose_column_change, "Propose a column change", PROPOSES),
    (apply_change, "Apply an approved column change", APPLIES),
    (list_changes, "List proposed column changes", READ_ONLY),
)


def register(server: MCPServer) -> None:
    """Add propose_column_change, apply_change and list_changes to ``server``."""
    for fn, title, tool_hints in TOOLS:
        server.add_tool(fn, name=fn.__name__, title=title, annotations=tool_hints)
