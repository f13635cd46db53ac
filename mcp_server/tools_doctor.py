"""The ``doctor`` tool: the same :func:`database_use.doctor.diagnose` as ``database-use doctor``.

Read-only: it reads the person's config (never its secrets: only whether an approver exists),
asks the database what its roles may do, and changes nothing. It cannot close a gap itself:
every fix is a command for the person (the read-only role in particular is created only by
``database-use roles readonly-setup`` on the person's terminal, never by a tool).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_server.common import READ_ONLY, project_from_ctx, tool_errors


class DoctorCheck(BaseModel):
    key: str = Field(description="stable name of the check, e.g. sandbox, readonly_role")
    title: str
    status: Literal["ok", "gap", "info"]
    detail: str
    fix: str | None = Field(None, description="the command or step that closes the gap")
    blocks_t2: bool = Field(description="true: this finding keeps the setup at tier T1")


class DoctorResult(BaseModel):
    tier: Literal["T1", "T2", "T3"] = Field(
        description="T3: DATABASE_URL's role cannot change the schema and the sandbox is on"
    )
    summary: str
    strict_required: bool = Field(description="the person's config requires strict mode")
    agent_role: dict | None = Field(
        None, description="what DATABASE_URL's role can do (schema changes, DML, sensitive reads)"
    )
    ok: bool = Field(description="true when no check is a gap")
    gaps: int
    development: bool = Field(description="the project is database-use's own checkout")
    project_root: str
    checks: list[DoctorCheck]


def doctor(ctx: Context) -> DoctorResult:
    """Use at the start of a session, or when a guard refuses something, to learn which safety
    tier this setup gives (T1: a careful agent; T2: an agent confined to the project cannot
    approve, apply or write through these tools; T3: DATABASE_URL's role cannot change the
    schema, even from a shell) and every check with its fix:
    sandbox, the person's config and approver passphrase, client dialogs, the read-only role,
    DATABASE_URL's role, the HTTP token, where the tool runs from. Read-only. Tell the person
    each gap and its fix; the fixes are theirs to run, not yours."""
    from database_use import doctor as engine  # imported on first use: start-up stays light

    with tool_errors("doctor"):
        # Without the strict-mode guard: doctor is how the person learns why a tool refused.
        project = dataclasses.replace(project_from_ctx(ctx), guard=None)
        return DoctorResult.model_validate(engine.diagnose(project))


def register(server: MCPServer) -> None:
    """Add the doctor tool to ``server``."""
    server.add_tool(
        doctor,
        name="doctor",
        title="Safety check: tier and gaps",
        description=" ".join(inspect.cleandoc(doctor.__doc__ or "").split()),
        annotations=READ_ONLY,
    )
