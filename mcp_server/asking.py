"""Asking the person through MCP elicitation: shared by apply_change and run_script.

Both tools resolve two parameters before their body runs (never from tool arguments): a
fresh ``prep`` of what is to be approved, and the person's ``answer``. ``ask_person`` is the
body of the second resolver; ``outcome`` reads the answer. Declined, cancelled and "the
client cannot ask" all mean: nothing happens.
"""

from __future__ import annotations

from typing import Any, Literal

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
)

Outcome = Literal["approved", "declined", "cancelled", "approval_required"]


def can_elicit(ctx: Context) -> bool:
    """Did the client declare form elicitation? (the SDK's own test; a bare {} counts)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def ask_person(ctx: Context, prep: dict[str, Any], message: str, model: type) -> Elicit | str:
    """Elicit ``model`` with ``message`` — only when there is something to ask and the client
    can ask; otherwise a marker string, so a client without the capability never gets the
    request (it would fail the whole call with -32021 before anything is said)."""
    if prep.get("mode") != "ask":
        return "skip"
    if not can_elicit(ctx):
        return "no_elicitation"
    # The message must be deterministic (no times, no random values): the 2026 protocol
    # re-asks otherwise.
    return Elicit(message, model)


def outcome(answer: Any, model: type) -> Outcome:
    """What the person said: only an accepted form with ``approve`` ticked approves."""
    data = answer.data if isinstance(answer, AcceptedElicitation) else None
    if isinstance(data, model):
        return "approved" if data.approve else "declined"
    if isinstance(answer, DeclinedElicitation):
        return "declined"
    if isinstance(answer, CancelledElicitation):
        return "cancelled"
    return "approval_required"  # the client cannot ask the person: name the human channel


def person_answered(answer: Any, model: type) -> bool:
    """True when the person filled in and sent the form (an accept, ticked or not). A bare
    "decline" may come from a client that declines without showing anything."""
    return isinstance(answer, AcceptedElicitation) and isinstance(answer.data, model)
