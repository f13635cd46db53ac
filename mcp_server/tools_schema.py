"""The schema tools: introspect, compare, generate_docs, validate, report, log_change.

Each is a thin face over the ``database_use.service`` function the CLI calls: validate the
arguments (pydantic does it from the annotations), call the service, return its dict as a
pydantic model. The service (and SQLAlchemy behind it) is imported inside the tool bodies so
that starting the server stays fast. Results go out twice, as the SDK expects: structured
content (typed by the output schema) and a compact JSON text block for clients that read
only text (Roo Code, Claude Desktop).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from database_use.errors import DatabaseUseError
from database_use.paging import page
from database_use.settings import mask_url
from mcp_server.common import READ_ONLY, hints, project_from_ctx, tool_errors
from mcp_server.schemas import (
    CompareResult,
    GenerateDocsResult,
    IntrospectKind,
    IntrospectResult,
    LogChangeResult,
    ObjectKind,
    ReportResult,
    Side,
    ValidateResult,
)

# Spec defaults are pessimistic (destructive, open world), so every hint is spelled out.
WRITES_DOC = hints(read_only=False, destructive=False, idempotent=True)
WRITES_REPORT = hints(read_only=False, destructive=False, idempotent=False)
APPENDS_LOG = hints(read_only=False, destructive=False, idempotent=False)

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
# Bytes of records per page: with the envelope, a default answer stays under ~32 KB.
PAGE_BUDGET = 24_000


def structured(model: BaseModel) -> CallToolResult:
    """Structured content plus the same data as one compact JSON text block."""
    # exclude_unset: fields the service did not send (e.g. the detail keys of an overview)
    # stay out instead of arriving as nulls.
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


# The service speaks the CLI's command names; an agent on MCP should call the tools instead.
_CLI_TO_TOOL = (
    ("run generate-docs", "call the generate_docs tool"),
    ("with log-change", "with the log_change tool"),
)


def mcp_wording(text: str) -> str:
    for cli, tool in _CLI_TO_TOOL:
        text = text.replace(cli, tool)
    return text


@contextmanager
def schema_tool_errors(tool: str) -> Iterator[None]:
    """tool_errors, with the next step named as the tool to call (e.g. a missing doc)."""
    with tool_errors(tool):
        try:
            yield
        except DatabaseUseError as exc:
            raise ToolError(mask_url(" ".join(mcp_wording(str(exc)).split()))) from None


def _service():
    # Imported on first use: the engine pulls in heavier modules than server start-up needs.
    from database_use import service

    return service


# -- the tools -------------------------------------------------------------------------


def introspect(
    ctx: Context,
    schema: Annotated[
        str | None,
        Field(
            description="Only this PostgreSQL schema, e.g. 'public' (default: all non-system schemas)"
        ),
    ] = None,
    table: Annotated[
        str | None,
        Field(description="One table in full detail: 'users' or schema-qualified 'public.users'"),
    ] = None,
    verbose: Annotated[
        bool, Field(description="Overview with every column's type, nullability and default")
    ] = False,
    limit: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_LIMIT,
            description=f"Tables per page of the overview (default {DEFAULT_LIMIT})",
        ),
    ] = DEFAULT_LIMIT,
    offset: Annotated[
        int, Field(ge=0, description="Skip this many tables (the answer gives next_offset)")
    ] = 0,
    pattern: Annotated[
        str | None,
        Field(max_length=200, description="Only tables whose name matches: user* or a substring"),
    ] = None,
    has_column: Annotated[
        str | None,
        Field(max_length=200, description="Only tables with a column matching this (*_id, email)"),
    ] = None,
    kind: Annotated[
        IntrospectKind | None, Field(description="List the objects of this kind (paged)")
    ] = None,
    object: Annotated[
        str | None,
        Field(max_length=500, description="Any object in full: shop.add_tax(integer), a trigger"),
    ] = None,
) -> Annotated[CallToolResult, IntrospectResult]:
    """Use first, to see what the live database holds (read-only): one line per table with its
    columns and keys plus counts of the other kinds, table= for one table in full (keys,
    indexes, partitions, triggers, policies, grants), kind= to list functions, sequences, ...,
    object= for any one in full. Filter with pattern=, has_column=, schema=; paged."""
    with schema_tool_errors("introspect"):
        data = _service().introspect(
            project_from_ctx(ctx),
            schema=schema,
            table=table,
            verbose=verbose,
            limit=limit,
            offset=offset,
            pattern=pattern,
            has_column=has_column,
            kind=kind,
            object=object,
        )
        return structured(IntrospectResult.model_validate(data))


def _models_ahead(project: Any, wanted: bool) -> Any:
    """The models child begun before the live read when the tool needs both, so it runs
    beside it (``models.loading_ahead``: the same answer, sooner)."""
    from database_use.sources.models import loading_ahead

    return loading_ahead(project.root, wanted=wanted)


def compare(
    ctx: Context,
    left: Annotated[
        Side, Field(description="First source: db (live database), models (models_*.py) or doc")
    ],
    right: Annotated[
        Side, Field(description="Second source: db, models or doc (different from left)")
    ],
    table: Annotated[
        str | None, Field(max_length=200, description="Only these tables: users, audit.*, *log*")
    ] = None,
    kind: Annotated[ObjectKind | None, Field(description="Only this object kind")] = None,
    limit: Annotated[int, Field(ge=1, le=1000, description="Differences per page")] = 100,
    offset: Annotated[int, Field(ge=0, description="Skip this many (see next_offset)")] = 0,
) -> Annotated[CallToolResult, CompareResult]:
    """Use to find drift: after a change, before editing models, or when something fails
    (read-only). db vs models and models vs doc are the usual pairs. Each difference names
    the object, what each side holds, the side that wins (live db > models > doc) and a
    one-line fix; filter by table or kind, page with limit/offset."""
    with schema_tool_errors("compare"):
        if left == right:
            raise ToolError(
                f"compare needs two different sources, got left={left!r} and right={right!r}; "
                "use e.g. left='db', right='models' or left='models', right='doc'"
            )
        project = project_from_ctx(ctx)
        with _models_ahead(project, "models" in (left, right)):
            data = _service().compare(
                project,
                left,
                right,
                table=table,
                kind=kind,
                limit=limit,
                offset=offset,
                budget=PAGE_BUDGET,
            )
        return structured(CompareResult.model_validate(data))


def generate_docs(ctx: Context) -> Annotated[CallToolResult, GenerateDocsResult]:
    """Use after the live schema changed outside apply_change (which does it for you) or when
    validate says the doc is stale or missing: regenerates .roo/docs/database_schema.md from the
    live database. Deterministic; changed=false when it was already current."""
    with schema_tool_errors("generate_docs"):
        data = _service().generate_docs(project_from_ctx(ctx))
        return structured(GenerateDocsResult.model_validate(data))


def validate(ctx: Context) -> Annotated[CallToolResult, ValidateResult]:
    """Use before you call a schema task done (read-only): is the schema doc exactly what
    generate_docs would write now? ok=false lists the differences (fix: generate_docs) and warns
    about schema changes nobody logged."""
    with schema_tool_errors("validate"):
        data = _service().validate(project_from_ctx(ctx))
        if isinstance(data.get("message"), str):
            data["message"] = mcp_wording(data["message"])
        data["warnings"] = [mcp_wording(w) for w in data.get("warnings", [])]
        total = len(data["differences"])
        paged = page(data["differences"], budget=PAGE_BUDGET, what="differences")
        if paged["truncated"]:  # the verdict stays whole; the records go on in compare
            data["differences"] = paged["page"]
            data["note"] = (
                f"differences 1-{paged['returned']} of {total} shown (size budget); "
                f"compare(left='db', right='doc', offset={paged['returned']}) lists the rest"
            )
        return structured(ValidateResult.model_validate(data))


def report(ctx: Context) -> Annotated[CallToolResult, ReportResult]:
    """Use when the person wants a written drift report: runs db vs models, models vs doc and db
    vs doc, writes JSON and Markdown under .roo/reports/ and returns their paths and the counts."""
    with schema_tool_errors("report"):
        project = project_from_ctx(ctx)
        with _models_ahead(project, True):
            data = _service().report(project)
        return structured(ReportResult.model_validate(data))


def log_change(
    ctx: Context,
    summary: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="One line: what changed, e.g. 'users: add column nickname'",
        ),
    ],
    details: Annotated[
        str, Field(max_length=20_000, description="Why and how (Markdown; optional)")
    ] = "",
    tables: Annotated[
        list[str] | None,
        Field(description="Tables touched, e.g. ['public.users']; must exist in the live DB"),
    ] = None,
    not_in_db: Annotated[
        bool,
        Field(
            description="Only for tables that no longer exist (dropped or renamed away): log "
            "them marked 'not in the live DB' instead of refusing them"
        ),
    ] = False,
) -> Annotated[CallToolResult, LogChangeResult]:
    """Use after a schema change made outside apply_change (which logs by itself): appends a
    dated entry with the live schema hash to .roo/docs/pgdb_changes.md (append-only), so validate
    can tell logged changes from unlogged ones."""
    with schema_tool_errors("log_change"):
        data: dict[str, Any] = _service().log_change(
            project_from_ctx(ctx),
            summary,
            details=details,
            tables=tuple(tables or ()),
            # Like the CLI: record the live schema hash so validate can tell this logged
            # state from a later change nobody logged (skipped, with a note, if the DB is down).
            record_hash=True,
            not_in_db=not_in_db,
        )
        return structured(LogChangeResult.model_validate(data))


TOOLS = (
    (introspect, "Introspect the live database", READ_ONLY),
    (compare, "Compare two schema sources", READ_ONLY),
    (generate_docs, "Regenerate the schema doc", WRITES_DOC),
    (validate, "Validate the schema doc", READ_ONLY),
    (report, "Write a drift report", WRITES_REPORT),
    (log_change, "Log a schema change", APPENDS_LOG),
)


def register(server: MCPServer) -> None:
    """Add the schema tools to ``server`` (an MCPServer)."""
    for fn, title, tool_hints in TOOLS:
        # One paragraph: the docstring's line breaks and indentation mean nothing to a model.
        description = " ".join(inspect.cleandoc(fn.__doc__ or "").split())
        server.add_tool(
            fn, name=fn.__name__, title=title, description=description, annotations=tool_hints
        )
