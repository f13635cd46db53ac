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


# -- argument errors: one line, with the next step ------------------------------------------
def _shown(value: Any) -> str:
    text = mask_url(" ".join(repr(value).split()))
    return text if len(text) <= 60 else text[:57] + "..."


def argument_problem(error: dict[str, Any]) -> str:
    """One pydantic error as a short phrase: ``'limit' must be ≤ 1000 (got 5000)``."""
    where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
    if error.get("type") == "missing":
        return f"'{where}' is required"
    message = str(error.get("msg", "is invalid")).removeprefix("Input should be ")
    message = message[0].lower() + message[1:] if message else "valid"
    return f"'{where}' must be {message} (got {_shown(error.get('input'))})"


def argument_error(tool: str, errors: list[dict[str, Any]], accepted: list[str]) -> str:
    """The one-line answer to arguments that do not fit a tool's input schema."""
    problems = "; ".join(argument_problem(e) for e in errors[:4])
    if len(errors) > 4:
        problems += f"; and {len(errors) - 4} more"
    return (
        f"bad arguments: {problems}. Call {tool} again with corrected arguments "
        f"(it takes: {', '.join(accepted) or 'no arguments'})"
    )


def unknown_arguments(tool: str, unknown: list[str], accepted: list[str]) -> str:
    return (
        f"unknown argument {', '.join(_shown(u) for u in sorted(unknown)[:5])}; {tool} takes: "
        f"{', '.join(accepted) or 'no arguments'}. Call it again with only those"
    )


# -- lean tools/list ------------------------------------------------------------------------
def compact_schema(node: Any) -> Any:
    """A JSON schema with what a model does not need taken out: pydantic's ``title`` on every
    property, ``default: null``, ``additionalProperties: true``; ``anyOf [X, null]`` becomes
    ``type [X, "null"]``. Meaning (types, enums, descriptions, required) is kept."""
    if isinstance(node, list):
        return [compact_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key == "properties" and isinstance(value, dict):  # names, not keywords, here
            out[key] = {name: compact_schema(prop) for name, prop in value.items()}
            continue
        out[key] = compact_schema(value)
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        if set(other) == {"type"} and isinstance(other["type"], str):
            del out["anyOf"]
            out["type"] = [other["type"], "null"]
        elif set(other) == {"$ref"}:
            del out["anyOf"]
            out["anyOf"] = [other, {"type": "null"}]
    return out


def shallow_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema one level deep: nested models (``$defs``) become plain ``object`` with
    their one-line description. The answers themselves carry every field; the schema tells a
    model the top-level shape, which is what it reads tools/list for."""
    defs = schema.get("$defs", {})

    def flat(node: Any) -> Any:
        if isinstance(node, list):
            return [flat(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.removeprefix("#/$defs/"), {})
            described = " ".join(str(target.get("description", "")).split())
            fields = ", ".join(target.get("properties", {}))
            out: dict[str, Any] = {"type": "object"}
            if described or fields:  # the field names stay: they are the record's contract
                out["description"] = f"{described} Fields: {fields}.".strip()
            return out
        out = {k: flat(v) for k, v in node.items() if k != "$defs"}
        options = out.get("anyOf")
        if isinstance(options, list) and options and {"type": "null"} in options:
            others = [o for o in options if o != {"type": "null"}]
            if len(others) == 1 and set(others[0]) <= {"type", "description"}:
                del out["anyOf"]
                out = {**others[0], **out, "type": [others[0]["type"], "null"]}
        return out

    return flat(schema)


def tools_list_sizes(tools: list[Any]) -> dict[str, int]:
    """Bytes of a tools/list answer (compact JSON, as on the wire) and of its parts: what
    every session pays in context before the first call. ``tools`` are ``mcp.types.Tool``."""
    import json

    def size(value: Any) -> int:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

    return {
        "tools": len(tools),
        "total": sum(
            size(t.model_dump(mode="json", by_alias=True, exclude_none=True)) for t in tools
        ),
        "descriptions": sum(len((t.description or "").encode()) for t in tools),
        "input_schemas": sum(size(t.input_schema) for t in tools),
        "output_schemas": sum(size(t.output_schema or {}) for t in tools),
    }
