"""The guarded-change tools: propose_column_change, apply_change, list_changes, withdraw_change.

Thin faces over :mod:`database_use.changes`. The approval never comes from a tool argument:

- ``apply_change`` applies at once when a person already approved this exact SQL (the
  ``approve`` command on a terminal, signed with their passphrase);
- otherwise, when the person's own config allows it (``[elicitation] allow``, see
  :mod:`database_use.policy`) and the client declared the elicitation capability, it asks the
  person (resolver form, so it works in both protocol eras) showing table, column, the exact
  SQL (escaped), the risk findings and a fresh dry-run; only an explicit accept with
  ``approve = true`` applies, in that same call, and nothing reusable is written;
- a "no" is recorded on the proposal (who, when, channel) and never asked again: an unticked
  form is the person's answer and closes the proposal (``declined``); a bare "decline" may
  come from a client that declines without showing anything, so the answer says so and the
  proposal stays open for the person's terminal (the approve command);
- a cancel is reported as "dismissed or not shown", not as a decline; a client without
  elicitation gets ``outcome = "approval_required"`` naming the exact command the person must
  run. In none of these cases is anything applied.
- ``withdraw_change`` lets the agent take back its own proposal (never an applied one).
- strict mode (``DATABASE_URL``'s role cannot change the schema): no dialog is shown and
  nothing runs; the answer is ``approval_required`` with the person's ``apply --as-owner``
  command (see :mod:`database_use.changes.strict_gate`).

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
from database_use.changes import STATUSES, strict_gate
from database_use.errors import DatabaseUseError
from database_use.settings import mask_url
from mcp_server.asking import ask_person, outcome, person_answered
from mcp_server.common import READ_ONLY, hints, project_from_ctx, tool_errors

# Bytes of rows per page: with the envelope, a default answer stays under ~32 KB.
PAGE_BUDGET = 24_000
Status = Literal[STATUSES]  # type: ignore[valid-type]
PROPOSES = hints(read_only=False, destructive=False, idempotent=False)
APPLIES = hints(read_only=False, destructive=True, idempotent=False)
# Closes a proposal file (no data touched); withdrawing twice leaves the same state.
WITHDRAWS = hints(read_only=False, destructive=False, idempotent=True)

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
    skipped: str | None = Field(
        default=None, description="Why it was not run (strict mode: the agent's role cannot)"
    )


class ApprovalState(BaseModel):
    state: Literal["none", "valid", "refused"]
    reason: str | None = None
    approval: dict[str, Any] | None = None


class Proposal(BaseModel):
    id: str
    ok: bool = Field(
        description="false: nothing to approve (its dry-run failed or it is closed); see next_step"
    )
    status: str = Field(
        description="proposed | approved | applied | failed | rejected | declined | withdrawn "
        "| stale | expired"
    )
    status_reason: str | None = None
    declined: Decline | None = None
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


class Decline(BaseModel):
    at: str
    by: str
    channel: str
    seen: bool = Field(
        description="false: the client said no itself; the person may have seen nothing"
    )


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
    declined: Decline | None = Field(default=None, description="The recorded decline, if any")
    status: str | None = None
    approve_command: str | None = Field(
        default=None,
        description="The command a person runs in a terminal to approve (strict mode: to "
        "apply it as the owner role)",
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
    declined_by: str | None = None


class ChangeList(BaseModel):
    changes: list[ChangeRow]
    count: int = Field(description="changes matching the filter (all pages)")
    offset: int | None = None
    returned: int | None = None
    truncated: bool | None = None
    next_offset: int | None = None
    note: str | None = Field(None, description="what was cut and how to get the rest")
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
        if strict_gate.strict_role(project) is not None:  # no dialog: only the person applies
            return {"mode": "strict"}
        if proposal["status"] == "approved" and proposal["approval"]["state"] == "valid":
            return {"mode": "approved"}
        if proposal.get("declined"):  # said no once: never asked again, whatever the status
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
    """Use for any column change (add, alter_type, rename, drop, set/drop NOT NULL, set/drop
    default, set_comment): plans it against the live database and returns the exact SQL, risk
    findings and a rolled-back dry-run. Changes nothing; ok=false means there is nothing to
    approve (see next_step). Next: apply_change."""
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
    """Use after propose_column_change: applies the change only once a person approved this
    exact SQL (the client asks them, or they run the approve command it names), then verifies
    it, regenerates the doc, logs it and returns the model lines to update. A decline is
    recorded and never asked again."""
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
                seen = person_answered(answer, ApprovalAnswer)
                prepared = {
                    **prepared,
                    "declined": await anyio.to_thread.run_sync(
                        lambda: changes.record_decline(
                            project,
                            change_id,
                            by="the person at the MCP client" if seen else "the MCP client",
                            channel="elicitation",
                            seen=seen,
                        )
                    ),
                }
            if said != "approved":
                return _not_applied(project, change_id, prepared, said)
            elicited = changes.elicited_approval(project, prepared)
        result = await anyio.to_thread.run_sync(
            lambda: changes.apply_change(project, change_id, elicited=elicited)
        )
        if result.get("outcome") == "approval_required":
            return _person_applies(result)
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


def _person_applies(result: dict[str, Any]) -> CallToolResult:
    """Strict mode: nothing ran; the person applies it in their terminal as the owner."""
    return _structured(
        ApplyResult(
            id=result["id"],
            outcome="approval_required",
            applied=False,
            status=result["status"],
            message=f"NOT APPLIED: {result['reason']}. Ask the person to run, in their own "
            f"terminal: {result['command']} — the owner role's password they type there is "
            "the approval (never ask them for it). Then call list_changes to see it applied.",
            approve_command=result["command"],
            table=result.get("table"),
            column=result.get("column"),
            sql=result.get("sql"),
            risk=[RiskFinding.model_validate(f) for f in result.get("risk") or []],
            dry_run=DryRun.model_validate(result["dry_run"]) if result.get("dry_run") else None,
        )
    )


def _declined_message(declined: dict[str, Any], command: str) -> str:
    when = f"{declined['by']} via {declined['channel']} at {declined['at']}"
    if declined.get("seen"):
        return (
            f"NOT APPLIED: declined by {when}; the change is closed and will not be asked "
            "again. Do not retry it; propose again only if the person asks for it."
        )
    return (
        f"NOT APPLIED: the client answered 'decline' ({when}) — the person declined, or the "
        "client declines without showing anything (some do). It will not be asked in the "
        "dialog again. Ask the person: if they want it, they review and approve it in their "
        f"own terminal: {command} — then call apply_change again; if not, withdraw it with "
        "withdraw_change."
    )


def _not_applied(
    project: Any, change_id: str, prepared: dict[str, Any], outcome: str
) -> CallToolResult:
    command = _changes().approve_command(project, change_id)
    declined = prepared.get("declined")
    closed = bool(declined and declined.get("seen"))
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
        "declined": _declined_message(declined, command) if declined else "NOT APPLIED",
        "cancelled": (
            "NOT APPLIED: the approval request was dismissed, or the client could not show it; "
            "nothing is recorded as a decline. Ask the person whether they saw it: call "
            "apply_change again to ask again, or they approve it in their own terminal: "
            f"{command}"
        ),
    }
    return _structured(
        ApplyResult(
            id=change_id,
            outcome="approval_required" if outcome == "dialog_off" else outcome,  # type: ignore[arg-type]
            applied=False,
            message=messages[outcome],  # type: ignore[arg-type]
            declined=Decline.model_validate(declined) if declined else None,
            status="declined" if closed else prepared.get("status", "proposed"),
            approve_command=None if closed else command,
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
        Status | None,
        Field(description="Only changes with this status"),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=500, description="Changes per page, newest first")] = 50,
    offset: Annotated[int, Field(ge=0, description="Skip this many (see next_offset)")] = 0,
) -> Annotated[CallToolResult, ChangeList]:
    """Use to find a proposal again or see what happened to it (read-only): status, risk,
    who approved or declined it, newest first. Filter by status; page with limit/offset."""
    with tool_errors("list_changes"):
        data = _changes().list_changes(
            project_from_ctx(ctx), status, limit=limit, offset=offset, budget=PAGE_BUDGET
        )
        return _structured(ChangeList.model_validate(data))


def withdraw_change(
    ctx: Context,
    change_id: Annotated[str, Field(description="The id of your own proposal")],
    reason: Annotated[str | None, Field(max_length=200, description="Why (kept in it)")] = None,
) -> Annotated[CallToolResult, Proposal]:
    """Use when a proposal of yours should not be applied (wrong column, superseded,
    the person changed their mind): it is closed as withdrawn and any approval of it revoked.
    An applied change cannot be withdrawn; propose the reverse change instead."""
    with tool_errors("withdraw_change"):
        data = _changes().withdraw_change(project_from_ctx(ctx), change_id, reason)
        return _structured(Proposal.model_validate(data))


TOOLS = (
    (propose_column_change, "Propose a column change", PROPOSES),
    (apply_change, "Apply an approved column change", APPLIES),
    (list_changes, "List proposed column changes", READ_ONLY),
    (withdraw_change, "Withdraw your own proposal", WITHDRAWS),
)


def register(server: MCPServer) -> None:
    """Add propose_column_change, apply_change, list_changes and withdraw_change to ``server``."""
    for fn, title, tool_hints in TOOLS:
        server.add_tool(fn, name=fn.__name__, title=title, annotations=tool_hints)
