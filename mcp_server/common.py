"""What every MCP tool module shares: the server state and turning our errors into ToolErrors.

Tools raise ``ToolError`` with an actionable one-line message; any other exception would
reach the model as a bare "Error executing tool X". ``translate_errors`` does the mapping
for DatabaseUseError (message masked) and shields unexpected errors behind one clear line
(the details go to the server log on stderr).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from database_use.errors import DatabaseUseError
from database_use.project import Project
from database_use.settings import mask_url

log = logging.getLogger("database_use.mcp")
F = TypeVar("F", bound=Callable[..., Any])


def hints(*, read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """All four annotations, explicitly: the spec's defaults are pessimistic (destructive,
    open world), and every tool here only touches this project's database and files."""
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


READ_ONLY = hints(read_only=True, destructive=False, idempotent=True)


@dataclass
class ServerState:
    """What the lifespan yields: the project the server serves (engine state lives here)."""

    project: Project


def state_from_ctx(ctx: Any) -> ServerState:
    return ctx.request_context.lifespan_context


def project_from_ctx(ctx: Any) -> Project:
    return state_from_ctx(ctx).project


@contextmanager
def tool_errors(tool: str):
    """Translate errors raised inside a tool body into ToolError with a masked message."""
    try:
        yield
    except ToolError:
        raise
    except DatabaseUseError as exc:
        raise ToolError(mask_url(" ".join(str(exc).split()))) from None
    except Exception as exc:  # unexpected: log the details, tell the model something usable
        log.exception("tool %s failed", tool)
        raise ToolError(
            f"{tool} failed unexpectedly ({type(exc).__name__}: {mask_url(str(exc))[:200]}); "
            "the server log has details"
        ) from None


def translate_errors(fn: F) -> F:
    """Decorator form of :func:`tool_errors` for sync or async tool functions."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with tool_errors(fn.__name__):
                return await fn(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with tool_errors(fn.__name__):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
