"""The vetted-script tools: list_scripts, draft_script, promote_script, run_script.

Thin faces over :mod:`database_use.scripts.service`. No tool takes SQL text: an agent writes a
script file (draft_script), runs it (read-only at the database by default), and promotes the
proven one into utils_db/.

``run_script`` with ``write = true`` runs only with a person's approval of this exact file
(SHA-256) and these arguments, never from a tool argument:

- an approval already given on a terminal (``schema_inspector.py approve-script <id>``) is
  used (once);
- otherwise, when the person's own config allows it (``[elicitation] allow``) and the client
  declared elicitation, the person is asked (resolver form, so both protocol eras work) and
  shown the script (escaped), its arguments, its hash and the target database; only an
  explicit accept with ``approve = true`` runs it, in that same call, writing nothing
  reusable; a decline is recorded and not asked again;
- a client without elicitation gets ``outcome = "approval_required"`` naming the command the
  person runs; decline/cancel give ``declined``/``cancelled``. Nothing runs in those cases.
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
from mcp_server.asking import ask_person, outcome, person_answered
from mcp_server.common import READ_ONLY, hints, project_from_ctx, tool_errors

# Writes a file in temp/ (or replaces one when asked): not idempotent, not destructive of data.
DRAFTS = hints(read_only=False, destructive=False, idempotent=False)
# Moves a file from temp/ to utils_db/ and refuses to replace one unless asked.
PROMOTES = hints(read_only=False, destructive=False, idempotent=False)
# run_script is destructive_hint=True: in write mode a script can update or delete rows. The
# read-only default and the person's approval guard that, but hosts use this hint to decide
# whether to confirm a call, and an honest "may destroy data" is the safe answer.
RUNS = hints(read_only=False, destructive=True, idempotent=False)


# Bytes kept of each of stdout and stderr: both together keep the answer under ~32 KB.
OUTPUT_BUDGET = 12_000


# -- output models ----------------------------------------------------------------------------
class ArgumentInfo(BaseModel):
    flags: list[str] = Field(description="Option strings, or the positional name")
    positional: bool
    required: bool
    help: str = ""
    choices: list[Any] | None = None
    takes_value: bool = True


class CommandInfo(BaseModel):
    name: str
    help: str = ""
    usage: str = Field("", description="args in the order the script accepts them")
    arguments: list[ArgumentInfo] = Field(default_factory=list)


class ScriptInfo(BaseModel):
    name: str
    kind: Literal["canonical", "draft"] = Field(description="canonical = utils_db/, draft = temp/")
    path: str
    sha256: str = Field(description="SHA-256 of the file: what a write-mode approval is bound to")
    size_bytes: int
    purpose: str = Field(description="First line of the module docstring")
    arguments: list[ArgumentInfo] = Field(default_factory=list)
    commands: list[CommandInfo] = Field(default_factory=list, description="argparse sub-commands")
    problem: str | None = Field(default=None, description="Why it could not be read, if so")


class ScriptList(BaseModel):
    scripts: list[ScriptInfo] = Field(description="Canonical scripts in utils_db/")
    drafts: list[ScriptInfo] = Field(description="Drafts in temp/")
    skipped: list[str] = Field(default_factory=list, description="Files left out, with the reason")


class DraftResult(ScriptInfo):
    overwritten: bool
    next_step: str


class PromoteResult(ScriptInfo):
    overwritten: bool
    promoted_from: str
    warnings: list[str] = Field(default_factory=list)


class RunResult(BaseModel):
    outcome: Literal["ran", "approval_required", "declined", "cancelled", "person_only"]
    name: str
    path: str
    mode: Literal["read-only", "write"]
    args: list[str]
    sha256: str | None = None
    message: str
    ok: bool = Field(False, description="Ran and exited 0 within the timeout")
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float | None = None
    guard: str | None = Field(
        default=None, description="What kept the run read-only, or write mode"
    )
    sandboxed: bool | None = Field(
        default=None, description="Ran inside the OS sandbox (bubblewrap); false = T1 only"
    )
    sandbox: str | None = Field(default=None, description="How it ran: sandboxed or not, and why")
    readonly_enforced: bool | None = Field(
        default=None,
        description="Read-only held by a checked role without write privileges (true) or only by "
        "a session default the script could switch off (false); none in write mode",
    )
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    approval_id: str | None = None
    approve_command: str | None = Field(
        default=None, description="The command a person runs in a terminal to approve"
    )
    person_command: str | None = Field(
        default=None, description="person_only: what the person runs in their own terminal"
    )
    approval: dict[str, Any] | None = Field(default=None, description="Who approved, how, when")


class WriteRunAnswer(BaseModel):
    """What the person answers (flat schema; defaults to NOT approving)."""

    approve: bool = Field(
        default=False,
        description="Run exactly this script, with these arguments, in write mode now",
    )


# -- helpers -----------------------------------------------------------------------------------
def _structured(model: BaseModel) -> CallToolResult:
    data = model.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _svc():
    from database_use.scripts import service as scripts_service

    return scripts_service


def _info(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in ScriptInfo.model_fields}


# -- resolvers (run before the run_script body; never from tool arguments) ----------------------
def _prepare(name: str, write: bool, ctx: Context, args: list[str] | None = None) -> dict[str, Any]:
    """Person-only (needs a terminal), read-only, or for write mode: already approved, to be
    asked, or an error to report."""
    from database_use import approvals

    svc = _svc()
    project = project_from_ctx(ctx)
    try:
        needs = svc.person_only(project, name, args or [])
        if needs:  # answered before anything is asked or approved: it could not work here
            return {"mode": "person_only", **needs}
        if not write:
            return {"mode": "read-only"}
        request = svc.request_write(project, name, args or [])
        if request["status"]["state"] == "valid":
            return {"mode": "approved", "id": request["id"]}
        loaded = svc.load_request(project, request["id"])
        declined = svc.decline_of(project, request["id"])
        if declined:
            mode = "declined"
        elif not policy.load_policy().elicitation_allowed:
            mode = "no_dialog"
        else:
            mode = "ask"
        return {
            "mode": mode,
            "id": request["id"],
            "text": svc.approval_text(loaded),
            "command": request["approve_command"],
            "path": request["path"],
            "sha256": request["sha256"],
            "args": request["args"],
            "name": request["name"],
            "declined": declined,
        }
    except (DatabaseUseError, approvals.ChangeRefused) as exc:
        return {"mode": "error", "error": mask_url(" ".join(str(exc).split()))}


def _ask(ctx: Context, prep: Annotated[dict, Resolve(_prepare)]) -> Elicit[WriteRunAnswer] | str:
    """Ask the person — only when there is something to ask and the client can ask."""
    message = prep.get("text", "") + "\n\nRun it in write mode now?"
    return ask_person(ctx, prep, message, WriteRunAnswer)


# -- the tools ---------------------------------------------------------------------------------
def list_scripts(ctx: Context) -> Annotated[CallToolResult, ScriptList]:
    """Use before writing any database script (read-only): the canonical scripts in
    utils_db/ and the drafts in temp/, with purpose, arguments, each sub-command's usage (in the
    order it accepts them) and SHA-256, read without running anything; skipped names the files
    left out and why."""
    with tool_errors("list_scripts"):
        data = _svc().list_scripts(project_from_ctx(ctx))
        return _structured(
            ScriptList(
                scripts=[ScriptInfo.model_validate(_info(e)) for e in data["scripts"]],
                drafts=[ScriptInfo.model_validate(_info(e)) for e in data["drafts"]],
                skipped=data["skipped"],
            )
        )


def draft_script(
    ctx: Context,
    name: Annotated[str, Field(description="Lower-case identifier; the file is temp/<name>.py")],
    content: Annotated[str, Field(description="The whole Python script (must parse)")],
    overwrite: Annotated[bool, Field(description="Replace an existing draft of that name")] = False,
) -> Annotated[CallToolResult, DraftResult]:
    """Use instead of pasting code into a terminal: writes a one-off Python script to
    temp/<name>.py (nowhere else; it must parse; `from utils_db.database import db` for the
    database). Does not run it: run_script next."""
    with tool_errors("draft_script"):
        entry = _svc().draft_script(project_from_ctx(ctx), name, content, overwrite=overwrite)
        return _structured(
            DraftResult(
                **_info(entry),
                overwritten=entry["overwritten"],
                next_step=f"run_script(name='temp/{entry['name']}') runs it read-only; promote_script "
                "makes a proven, reusable one canonical in utils_db/",
            )
        )


def promote_script(
    ctx: Context,
    name: Annotated[str, Field(description="The draft's name (temp/<name>.py)")],
    overwrite: Annotated[bool, Field(description="Replace an existing utils_db/<name>.py")] = False,
) -> Annotated[CallToolResult, PromoteResult]:
    """Use when a draft has proven itself and will be reused: moves temp/<name>.py to
    utils_db/<name>.py. Replacing an existing canonical script is for the person (the answer
    names their command)."""
    with tool_errors("promote_script"):
        entry = _svc().promote_script(project_from_ctx(ctx), name, overwrite=overwrite)
        return _structured(
            PromoteResult(
                **_info(entry),
                overwritten=entry["overwritten"],
                promoted_from=entry["from"],
                warnings=entry.get("warnings", []),
            )
        )


async def run_script(
    ctx: Context,
    name: Annotated[str, Field(description="Script name: NAME, temp/NAME or utils_db/NAME")],
    prep: Annotated[dict, Resolve(_prepare)],
    answer: Annotated[ElicitationResult[WriteRunAnswer], Resolve(_ask)],
    args: Annotated[
        list[str] | None,
        Field(description="Arguments for the script, one list item each (no shell)"),
    ] = None,
    timeout: Annotated[
        float, Field(gt=0, le=3600, description="Kill it after this many seconds")
    ] = 60,
    write: Annotated[
        bool,
        Field(
            description="Write mode: the person is asked to approve this exact script and these "
            "arguments first. Default false: read-only (see readonly_enforced in the answer)."
        ),
    ] = False,
) -> Annotated[CallToolResult, RunResult]:
    """Use to run a canonical script or a draft (no shell, no stdin) in the OS sandbox and get
    its exit code and bounded output. Read-only by default (readonly_enforced says whether a
    checked role guarantees it); write=true runs only after a person approved this exact file
    and these arguments. A script that needs a terminal (a password prompt) answers
    person_only with the command the person runs."""
    import anyio.to_thread

    with tool_errors("run_script"):
        project = project_from_ctx(ctx)
        svc = _svc()
        argv = list(args or [])
        mode = prep.get("mode")
        if mode == "error":
            raise ToolError(prep["error"])
        if mode == "person_only":
            return _structured(
                RunResult(
                    outcome="person_only",
                    name=name,
                    path=prep["path"],
                    mode="write" if write else "read-only",
                    args=argv,
                    message=prep["message"],
                    person_command=prep["command"],
                )
            )
        if mode == "declined":
            return _not_run(prep, "declined")
        if mode == "no_dialog":
            return _not_run(prep, "dialog_off")
        elicited = None
        if mode == "ask":
            said = outcome(answer, WriteRunAnswer)
            if said == "declined":
                seen = person_answered(answer, WriteRunAnswer)
                prep["declined"] = await anyio.to_thread.run_sync(
                    lambda: svc.record_decline(project, prep["id"], seen)
                )
            if said != "approved":
                return _not_run(prep, said)
            elicited = svc.elicited_write_approval(project, prep["id"])
        result = await anyio.to_thread.run_sync(
            lambda: svc.run_script(
                project,
                name,
                argv,
                timeout=timeout,
                write=write,
                approval=elicited,
                output_limit=OUTPUT_BUDGET,
            )
        )
        approval = result.get("approval")
        status = "timed out" if result["timed_out"] else f"exited {result['exit_code']}"
        return _structured(
            RunResult(
                outcome="ran",
                message=f"{result['path']} {status} ({result['guard']}; {result['sandbox']})"
                + (
                    f"; output cut at {OUTPUT_BUDGET // 1000} KB per stream (see stdout_bytes): "
                    "have the script print less, or a summary"
                    if result["stdout_truncated"] or result["stderr_truncated"]
                    else ""
                ),
                approval_id=(approval or {}).get("id"),
                approval=approval,
                **{
                    k: v
                    for k, v in result.items()
                    if k in RunResult.model_fields and k != "approval"
                },
            )
        )


def _declined_message(declined: dict[str, Any], command: str) -> str:
    if declined.get("seen", True):
        return (
            "NOT RUN: the person declined this write-mode run (recorded: the same script and "
            "args are not asked again). Do not retry it unasked."
        )
    return (
        "NOT RUN: the client answered 'decline' — the person declined, or the client declines "
        "without showing anything (some do). It will not be asked in the dialog again. Ask the "
        f"person: if they want it, they approve it in their own terminal: {command} — then "
        "call run_script again with the same name and args."
    )


def _not_run(prep: dict[str, Any], outcome: str) -> CallToolResult:
    command = prep["command"]
    messages = {
        "approval_required": (
            "NOT RUN: write mode needs a person's approval and this client cannot ask them. Ask "
            f"the person to review and approve it in a terminal: {command} — then call run_script "
            "again with the same name and args."
        ),
        "dialog_off": (
            "NOT RUN: approval in the client's dialog is off in the person's own config. Ask "
            f"the person to review and approve it in a terminal: {command} — then call run_script "
            "again with the same name and args."
        ),
        "declined": _declined_message(prep.get("declined") or {"seen": True}, command),
        "cancelled": (
            "NOT RUN: the approval request was dismissed, or the client could not show it; "
            "nothing is recorded as a decline. Ask the person whether they saw it: call "
            "run_script again to ask again, or they approve it in their own terminal: "
            f"{command}"
        ),
    }
    return _structured(
        RunResult(
            outcome="approval_required" if outcome == "dialog_off" else outcome,  # type: ignore[arg-type]
            name=prep["name"],
            path=prep["path"],
            mode="write",  # type: ignore[arg-type]
            args=prep["args"],
            sha256=prep["sha256"],
            message=messages[outcome],
            approval_id=prep["id"],
            approve_command=command,
        )
    )


TOOLS = (
    (list_scripts, "List vetted scripts and drafts", READ_ONLY),
    (draft_script, "Draft a script in temp/", DRAFTS),
    (promote_script, "Promote a draft to utils_db/", PROMOTES),
    (run_script, "Run a script (read-only unless approved)", RUNS),
)


def register(server: MCPServer) -> None:
    """Add list_scripts, draft_script, promote_script and run_script to ``server``."""
    for fn, title, tool_hints in TOOLS:
        server.add_tool(fn, name=fn.__name__, title=title, annotations=tool_hints)
