"""The database-use MCP server: tools, resources and prompts over the utils_db engine.

``build_server`` only wires things together: the tool modules register their tools, the
resources and prompts below read through the same service functions the CLI uses. Nothing
here connects to the database or imports SQLAlchemy at build time, so the server answers
``initialize`` quickly and starts even when the database is down (the tools then explain
what is wrong).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedToolError,
)
from pydantic import Field, ValidationError

from database_use import hints
from database_use.errors import DatabaseUseError, NotFound
from database_use.project import Project, open_project
from database_use.settings import mask_url
from mcp_server import tools_changes, tools_doctor, tools_schema, tools_scripts
from mcp_server.common import (
    ServerState,
    argument_error,
    compact_schema,
    shallow_schema,
    unknown_arguments,
)

log = logging.getLogger("database_use.mcp")
T = TypeVar("T")

SERVER_NAME = "database-use"
LOG_BUDGET = 30_000  # bytes of the change log one read answers (the newest entries)

INSTRUCTIONS = """\
database-use: safe work on this project's PostgreSQL database (SQLAlchemy app).
- Source of truth, highest first: live database > models/models_*.py > .roo/docs/database_schema.md.
  Every difference names the side that wins (authority) and the fix on the other side.
- Look before you act: introspect (overview; table=... for detail), compare(left, right),
  validate. The generated doc is the resource schema://doc; the change log is changes://log.
- Never paste SQL or Python into a terminal: draft a script in temp/ (draft_script), run it
  (run_script), promote the proven one to utils_db/ (promote_script).
- Any column change (add, rename, alter, drop) needs a person's approval first: call
  propose_column_change, let the person approve it, then apply_change. You cannot approve.
- Change workflow, in order: 1) change the live DB, 2) update the models, 3) regenerate the
  doc (generate_docs), 4) log it (log_change; apply_change does 1, 3 and 4 for you).
  The prompts schema-change and drift-check walk through these steps.
- This project's facts (where its models, doc, log, drafts and scripts are, its default port, the
  columns never to print) are below and in the resource project://facts; they win over any
  example path above."""


def instructions_for(project: Project) -> str:
    """The server's instructions: the workflow, then this project's facts (from its config)."""
    try:
        facts = project.facts()
    except DatabaseUseError as exc:  # a broken [tool.database-use]: say so, still start
        return f"{INSTRUCTIONS}\nProject facts unavailable: {mask_url(str(exc))}"
    lines = [
        f"Project facts ({facts['configured_in']}):",
        f"- models: {facts['models']}; schema doc: {facts['doc']}; change log: {facts['changelog']}",
        f"- drafts: {facts['drafts']}/; canonical scripts: {facts['scripts']}/; "
        f"reports: {facts['reports']}/",
        f"- a database URL without a port uses port {facts['default_port']}",
        f"- password hashes are in the column {facts['password_hash_column']}; never print "
        f"these columns' values: {', '.join(facts['sensitive_columns']) or '(none)'}",
    ]
    if facts["preferred_utilities"]:
        lines.append(f"- use these scripts first: {', '.join(facts['preferred_utilities'])}")
    return INSTRUCTIONS + "\n" + "\n".join(lines)


SCHEMA_CHANGE_PROMPT = """\
Make this schema change safely: {change}
{table_line}
Follow these steps in order and do not skip the approval:
1. Look first: call introspect with table=<the table> to see its columns, keys and indexes,
   and compare(left="db", right="models") to be sure there is no drift already.
2. Propose: call propose_column_change (table, action, column, and type/default/new_name as
   needed) for exactly this change. Show the person the SQL, the risk findings and the
   dry-run result it returns.
3. Approval: a person must approve that exact SQL. Call apply_change with the proposal id: a
   client that can ask the person shows them the change; otherwise the answer is
   outcome="approval_required" with the approve_command the person runs in a terminal —
   give it to them, wait until they say it is done, then call apply_change again. You cannot
   approve it yourself; if they decline, stop here.
4. Apply: once approved, apply_change changes the live database, verifies it, regenerates
   .roo/docs/database_schema.md and logs the change in .roo/docs/pgdb_changes.md.
5. Update the models: edit models/models_*.py with the model lines apply_change returned
   (models_todo; the live database is the authority, the models follow it).
6. Verify: compare(left="db", right="models") must report zero differences and validate must
   say ok. If not, fix the models (not the database) and compare again.
Never run the SQL yourself in a terminal or paste it into a shell."""

DRIFT_CHECK_PROMPT = """\
Check this project's schema for drift and tell me what to fix where.
1. compare(left="db", right="models"): the live database is the authority. For each
   difference, the fix is in models/models_*.py (use the record's fix line) — unless the person
   says the database itself is wrong, in which case it is a column change that needs their
   approval (propose_column_change → approval → apply_change), never hand-run SQL.
2. compare(left="models", right="doc") and validate: the doc is generated, never edited by hand;
   fix doc drift with generate_docs (it renders the live database). If the doc is missing,
   generate_docs creates it.
3. Report back grouped by authority: what the models must change, whether the doc needs
   regenerating, and anything that needs a person's decision (possible renames, data loss).
   Quote each difference's fix line. Do not change anything without saying so first."""


class Server(MCPServer):
    """The SDK's server, with argument errors answered in one line that names the next step.

    The SDK reports a bad argument as pydantic's multi-line dump with a docs URL, and silently
    ignores an argument the tool does not take (a misspelt ``tabel=`` would answer as if no
    table was asked for). Both come back here as one line naming what the tool takes.
    """

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> Any:
        tool = self._tool_manager.get_tool(name)
        if tool is None:
            known = ", ".join(sorted(t.name for t in self._tool_manager.list_tools()))
            raise ToolError(f"unknown tool {name[:80]!r}; this server's tools are: {known}")
        accepted = list((tool.parameters or {}).get("properties", {}))
        unknown = [key for key in arguments if key not in accepted]
        if unknown:
            raise ToolError(
                f"Error executing tool {name}: {unknown_arguments(name, unknown, accepted)}"
            )
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                message = argument_error(name, cause.errors(include_url=False), accepted)
                raise ToolError(f"Error executing tool {name}: {message}") from cause
            raise ToolError(" ".join(str(exc).split())) from cause


def build_server(
    project_root: str | Path | None = None, database_url: str | None = None
) -> MCPServer:
    """The MCP server for the project at ``project_root`` (default: the current directory).

    ``database_url`` overrides DATABASE_URL from the environment / the project's .env; it is
    read lazily, on the first tool call, so a missing or unreachable database does not stop
    the server from starting.
    """
    project = open_project(project_root, database_url)
    # Strict mode, when the person's config requires it: every tool that reads DATABASE_URL
    # first checks its role cannot change the schema (the role's privileges are the guard;
    # the config flag only makes the server refuse loudly).
    from database_use.strict import refuse_if_required

    project.guard = refuse_if_required

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[ServerState]:
        # Per connection: the engine state the tools reach through the request context.
        yield ServerState(project=project)

    server: MCPServer = Server(
        SERVER_NAME,
        title="database-use (PostgreSQL schema tools)",
        instructions=instructions_for(project),
        version=_version(),
        lifespan=lifespan,
    )
    for module in (tools_schema, tools_changes, tools_scripts, tools_doctor):
        module.register(server)
    lean_tools(server)
    _register_resources(server, project)
    _register_prompts(server)
    return server


def lean_tools(server: MCPServer) -> None:
    """tools/list costs the agent's context on every session: one paragraph per description
    (no docstring line breaks or indentation) and compact schemas (see compact_schema)."""
    for tool in server._tool_manager.list_tools():
        tool.description = " ".join((tool.description or "").split())
        tool.parameters = compact_schema(tool.parameters)
        output = tool.fn_metadata.output_schema
        if output is not None:
            tool.fn_metadata.output_schema = shallow_schema(compact_schema(output))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("database-use")
    except Exception:  # not installed as a distribution (running from a checkout)
        return "0.1.0"


# -- resources -------------------------------------------------------------------------


@contextmanager
def resource_errors(uri: str) -> Iterator[None]:
    """Our errors → ResourceError with the masked message; anything else logged, then named."""
    try:
        yield
    except ResourceError:
        raise
    except NotFound as exc:
        raise ResourceNotFoundError(mask_url(" ".join(str(exc).split()))) from None
    except DatabaseUseError as exc:
        raise ResourceError(mask_url(" ".join(str(exc).split()))) from None
    except Exception as exc:
        log.exception("resource %s failed", uri)
        raise ResourceError(
            f"reading {uri} failed unexpectedly ({type(exc).__name__}: {mask_url(str(exc))[:200]}); "
            "the server log has details"
        ) from None


def _guarded(uri: str, fn: Callable[[], T]) -> T:
    with resource_errors(uri):
        return fn()


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def read_doc(project: Project, **part: str | None) -> str:
    """The generated schema doc (or a part of it, see ``service.doc_part``), within the budget;
    a clear error telling how to create it when missing."""
    from database_use import service

    if not project.doc_path.is_file():
        raise ResourceNotFoundError(
            f"the schema doc {project.doc_path.relative_to(project.root)} does not exist yet: "
            f"call the generate_docs tool (or run `{hints.command(project, 'generate-docs')}`) "
            "to create it from the live database"
        )
    return service.doc_part(project, **part)


def read_changes_log(project: Project) -> str:
    path = project.changes_log_path
    if not path.is_file():
        # A project that never logged a change is normal, not an error.
        return (
            "# Database changes\n\nNo changes logged yet "
            f"({path} does not exist); log_change and apply_change add entries.\n"
        )
    text = path.read_text(encoding="utf-8")
    data = text.encode("utf-8")
    if len(data) <= LOG_BUDGET:
        return text
    # The newest entries matter most: keep the end, say where the rest is.
    tail = data[-LOG_BUDGET:].decode("utf-8", errors="ignore")
    tail = tail[tail.find("\n## ") + 1 :] if "\n## " in tail else tail
    return (
        f"# Database changes (newest entries; {len(data):,} bytes in all: the whole log is "
        f"{path.relative_to(project.root)})\n\n{tail}"
    )


def _size_of(path: Path) -> str:
    try:
        return f"{path.stat().st_size:,} bytes when the server started"
    except OSError:
        return "not generated yet"


def _register_resources(server: MCPServer, project: Project) -> None:
    # Static resources cannot receive the request context, so they close over the same
    # Project object the lifespan hands to the tools.

    doc_size = _size_of(project.doc_path)

    @server.resource(
        "schema://doc",
        name="schema-doc",
        title="Schema doc (.roo/docs/database_schema.md)",
        description=f"The generated Markdown schema doc (lowest authority: live DB > models > "
        f"doc); {doc_size}. Over ~32 KB it answers with an index of its parts.",
        mime_type="text/markdown",
    )
    def schema_doc() -> str:
        return _guarded("schema://doc", lambda: read_doc(project))

    @server.resource(
        "schema://doc/full",
        name="schema-doc-full",
        title="Schema doc, all of it",
        description=f"The whole schema doc, however large ({doc_size}); prefer a table or a section.",
        mime_type="text/markdown",
    )
    def schema_doc_full() -> str:
        return _guarded("schema://doc/full", lambda: read_doc(project, budget=None))

    @server.resource(
        "schema://doc/tables/{name}",
        name="schema-doc-table",
        title="One table's part of the schema doc",
        description="The doc's section of one table or view: users or audit.events.",
        mime_type="text/markdown",
    )
    def schema_doc_table(name: str) -> str:
        return _guarded(f"schema://doc/tables/{name}", lambda: read_doc(project, table=name))

    @server.resource(
        "schema://doc/sections/{section}",
        name="schema-doc-section",
        title="One section of the schema doc",
        description="Contents, Tables, Views, Enums or Relationships (cut at ~32 KB, saying so).",
        mime_type="text/markdown",
    )
    def schema_doc_section(section: str) -> str:
        return _guarded(
            f"schema://doc/sections/{section}", lambda: read_doc(project, section=section)
        )

    @server.resource(
        "schema://tables",
        name="schema-tables",
        title="Tables overview (live database)",
        description=(
            "Compact overview of the live database, one line per table: the introspect tool's "
            "default answer (first page; the introspect tool pages on with offset)."
        ),
        mime_type="application/json",
    )
    def schema_tables() -> str:
        from database_use import service

        return _guarded("schema://tables", lambda: _compact(service.introspect(project)))

    @server.resource(
        "schema://tables/{name}",
        name="schema-table",
        title="One table in detail (live database)",
        description="Columns, keys, indexes, constraints and comments of one table; name may be schema-qualified.",
        mime_type="application/json",
    )
    def schema_table(name: str) -> str:
        from database_use import service

        uri = f"schema://tables/{name}"
        return _guarded(
            uri, lambda: _compact(service.introspect(project, table=name, verbose=True))
        )

    @server.resource(
        "project://facts",
        name="project-facts",
        title="This project's facts ([tool.database-use] in pyproject.toml)",
        description=(
            "Where the models, doc, change log, drafts and scripts are, the default port, the "
            "password-hash and other sensitive columns, the preferred utilities."
        ),
        mime_type="application/json",
    )
    def project_facts() -> str:
        return _guarded("project://facts", lambda: _compact(project.facts()))

    @server.resource(
        "changes://log",
        name="changes-log",
        title="Change log (.roo/docs/pgdb_changes.md)",
        description="The dated log of schema changes, newest last (the newest ~32 KB when longer).",
        mime_type="text/markdown",
    )
    def changes_log() -> str:
        return _guarded("changes://log", lambda: read_changes_log(project))


# -- prompts ---------------------------------------------------------------------------


def _register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="schema-change",
        title="Change the schema safely",
        description=(
            "Walks through a column change: propose_column_change → a person approves → "
            "apply_change (DB, docs, log) → update the models → compare shows zero differences."
        ),
    )
    def schema_change(
        change: Annotated[
            str,
            Field(
                description="The change in plain words, e.g. 'add nickname varchar(50) to users'"
            ),
        ],
        table: Annotated[
            str, Field(description="The table it touches, e.g. public.users (optional)")
        ] = "",
    ) -> str:
        table_line = f"Table: {table}\n" if table.strip() else ""
        return SCHEMA_CHANGE_PROMPT.format(change=change.strip(), table_line=table_line)

    @server.prompt(
        name="drift-check",
        title="Check for schema drift",
        description="Compare live DB ↔ models ↔ doc and say what to fix where, by authority.",
    )
    def drift_check() -> str:
        return DRIFT_CHECK_PROMPT
