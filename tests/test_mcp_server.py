"""The MCP server driven by a real MCP client against a real PostgreSQL.

In-process ``mcp.Client`` in both protocol eras (``auto`` = 2026 per-request path,
``legacy`` = initialize handshake); the stdio and streamable-HTTP transports are in
``test_mcp_transports.py``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_server.server import build_server

pytestmark = pytest.mark.anyio

SCHEMA_TOOLS = {
    # name: (read_only, destructive, idempotent, open_world)
    "introspect": (True, False, True, False),
    "compare": (True, False, True, False),
    "validate": (True, False, True, False),
    "generate_docs": (False, False, True, False),
    "report": (False, False, False, False),
    "log_change": (False, False, False, False),
}
PASSWORD = "s3cr3t-pw"


@pytest.fixture(params=["auto", "legacy"])
def mode(request) -> str:
    return request.param


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_url() -> str:
    """A URL nobody listens on (with a password that must never show up)."""
    return f"postgresql://app:{PASSWORD}@127.0.0.1:{_free_port()}/appdb"


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def assert_readable_error(result, tool: str, *needles: str) -> str:
    """The call failed with a message that says something beyond the SDK's bare prefix."""
    assert result.is_error, text_of(result)
    text = text_of(result)
    assert text.strip() != f"Error executing tool {tool}"
    assert len(text.removeprefix(f"Error executing tool {tool}").strip(": ")) > 20, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    assert PASSWORD not in text
    assert "Traceback" not in text
    return text


async def call_ok(client: Client, tool: str, args: dict | None = None) -> dict:
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert isinstance(data, dict)
    # The text block is the same data as compact JSON (clients that read only text get it all).
    text = text_of(result)
    assert json.loads(text) == data
    assert "\n" not in text
    return data


# -- listing: tools, schemas, annotations, instructions, resources, prompts ----------------


async def test_tool_list_schemas_and_annotations(project: Path, down_url: str, mode: str):
    server = build_server(project, database_url=down_url)
    async with Client(server, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(SCHEMA_TOOLS) <= set(tools)
        for name, (read_only, destructive, idempotent, open_world) in SCHEMA_TOOLS.items():
            tool = tools[name]
            hints = tool.annotations
            assert hints is not None, name
            assert (
                hints.read_only_hint,
                hints.destructive_hint,
                hints.idempotent_hint,
                hints.open_world_hint,
            ) == (read_only, destructive, idempotent, open_world), name
            assert tool.description and len(tool.description) > 40, name
            assert tool.title, name
            assert tool.input_schema["type"] == "object", name
            assert tool.output_schema and tool.output_schema["type"] == "object", name

        props = tools["introspect"].input_schema["properties"]
        assert set(props) >= {"schema", "table", "verbose", "limit", "offset"}
        assert all(props[p].get("description") for p in props)
        assert (
            "required" not in tools["introspect"].input_schema
            or not tools["introspect"].input_schema["required"]
        )

        compare = tools["compare"].input_schema
        assert set(compare["required"]) == {"left", "right"}
        for side in ("left", "right"):
            assert compare["properties"][side]["enum"] == ["db", "models", "doc"]
        out = tools["compare"].output_schema
        assert {"left", "right", "differences"} <= set(out["properties"])
        # Output schemas are one level deep (a lean tools/list); a nested record's
        # description still names its fields.
        described = out["properties"]["differences"]["items"]["description"]
        difference = set(described.split("Fields: ", 1)[1].rstrip(".").split(", "))
        assert {
            "object",
            "table",
            "name",
            "status",
            "attribute",
            "values",
            "authority",
            "fix",
        } <= set(difference)

        assert {"ok", "differences"} <= set(tools["validate"].output_schema["properties"])
        assert {"path", "changed"} <= set(tools["generate_docs"].output_schema["properties"])
        assert {"json_path", "markdown_path", "summary"} <= set(
            tools["report"].output_schema["properties"]
        )
        log_input = tools["log_change"].input_schema
        assert log_input["required"] == ["summary"]
        assert set(log_input["properties"]) == {"summary", "details", "tables", "not_in_db"}


async def test_instructions_resources_and_prompts_are_listed(
    project: Path, down_url: str, mode: str
):
    server = build_server(project, database_url=down_url)
    async with Client(server, mode=mode) as client:
        expected = {"auto": "2026-07-28", "legacy": "2025-11-25"}[mode]
        assert client.protocol_version == expected  # both eras really are exercised
        instructions = client.instructions or ""
        for needle in ("live database > models", "approval", "temp/", "utils_db/", "generate_docs"):
            assert needle in instructions
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"schema://doc", "schema://tables", "changes://log"} <= uris
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
        assert "schema://tables/{name}" in templates
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert {"schema-change", "drift-check"} <= set(prompts)
        args = {a.name: a.required for a in prompts["schema-change"].arguments or []}
        assert args == {"change": True, "table": False}


async def test_prompts_walk_through_the_workflow(project: Path, down_url: str, mode: str):
    server = build_server(project, database_url=down_url)
    async with Client(server, mode=mode) as client:
        result = await client.get_prompt(
            "schema-change", {"change": "add nickname to users", "table": "public.users"}
        )
        text = result.messages[0].content.text
        assert "add nickname to users" in text and "public.users" in text
        # The verification compare is the last step (one also comes first, to look).
        order = [
            text.index(step)
            for step in ("propose_column_change", "approve", "apply_change", "models/models_")
        ]
        order.append(text.rindex('compare(left="db", right="models")'))
        assert order == sorted(order), text
        assert "zero differences" in text

        drift = (await client.get_prompt("drift-check", {})).messages[0].content.text
        for needle in (
            'compare(left="db", right="models")',
            'compare(left="models", right="doc")',
            "generate_docs",
            "authority",
        ):
            assert needle in drift


async def test_every_tool_of_every_area_sets_all_four_hints(project: Path, down_url: str):
    """Spec defaults are pessimistic (destructive, open world): no tool may leave one unset."""
    server = build_server(project, database_url=down_url)
    async with Client(server) as client:
        for tool in (await client.list_tools()).tools:
            hints = tool.annotations
            assert hints is not None, tool.name
            values = (
                hints.read_only_hint,
                hints.destructive_hint,
                hints.idempotent_hint,
                hints.open_world_hint,
            )
            assert all(isinstance(v, bool) for v in values), (tool.name, values)
            assert not (hints.read_only_hint and hints.destructive_hint), tool.name
            assert tool.output_schema is not None, tool.name


def test_building_the_server_stays_light():
    """Start-up must not import SQLAlchemy, the driver or the engine (initialize within 1 s)."""
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    code = (
        "import sys; from mcp_server.server import build_server; build_server('.'); "
        "print(','.join(m for m in ('sqlalchemy', 'psycopg', 'database_use.service', 'database_use.compare.diff') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# -- every tool against a real database ----------------------------------------------------


async def test_every_schema_tool_against_the_example_database(
    project: Path, example_db_url: str, mode: str
):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        overview = await call_ok(client, "introspect")
        assert "public.users" in json.dumps(overview) and "public.media" in json.dumps(overview)

        detail = await call_ok(client, "introspect", {"table": "users"})
        dumped = json.dumps(detail)
        assert "pw_hashed" in dumped and "email" in dumped
        assert detail["table"]["name"] == "users"
        assert [ref["table"] for ref in detail["referenced_by"]] == ["public.media"]
        assert "tables" not in detail  # overview keys stay out of a detail answer

        clean = await call_ok(client, "compare", {"left": "db", "right": "models"})
        assert (clean["left"], clean["right"]) == ("db", "models")
        assert clean["differences"] == []

        docs = await call_ok(client, "generate_docs")
        assert docs["changed"] is True
        assert (project / docs["path"]).resolve() == (
            project / ".roo/docs/database_schema.md"
        ).resolve()
        assert (project / ".roo/docs/database_schema.md").is_file()
        again = await call_ok(client, "generate_docs")
        assert again["changed"] is False

        validated = await call_ok(client, "validate")
        assert validated["ok"] is True and validated["differences"] == []

        models_doc = await call_ok(client, "compare", {"left": "models", "right": "doc"})
        assert models_doc["differences"] == []

        reported = await call_ok(client, "report")
        assert (project / reported["json_path"]).is_file() and (
            project / reported["markdown_path"]
        ).is_file()
        assert (
            (project / reported["json_path"])
            .resolve()
            .is_relative_to((project / ".roo/reports").resolve())
        )
        assert reported["summary"]["ok"] is True and reported["summary"]["total_differences"] == 0

        logged = await call_ok(
            client,
            "log_change",
            {
                "summary": "users: add column nickname",
                "details": "asked for by the profile page",
                "tables": ["public.users"],
            },
        )
        assert logged["path"] == ".roo/docs/pgdb_changes.md" and logged["created"] is True
        assert logged["schema_hash_after"] == validated["schema_hash"]
        log_text = (project / ".roo/docs/pgdb_changes.md").read_text()
        assert "users: add column nickname" in log_text and "public.users" in log_text


async def test_compare_reports_drift_with_authority_and_fix(
    project: Path, example_db_url: str, mode: str
):
    import psycopg

    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN nickname varchar(50)")
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        result = await call_ok(client, "compare", {"left": "db", "right": "models"})
        found = [d for d in result["differences"] if d["name"] == "nickname"]
        assert len(found) == 1, result
        assert found[0]["status"] == "missing_in_models"
        assert found[0]["authority"] == "db"
        assert found[0]["table"] == "public.users" and found[0]["fix"]


async def test_database_changes_are_seen_by_the_next_call(
    project: Path, example_db_url: str, mode: str
):
    """Nothing is cached between calls: a table created meanwhile shows up."""
    import psycopg

    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        before = json.dumps(await call_ok(client, "introspect"))
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE audit_note (id integer PRIMARY KEY, body text)")
        after = json.dumps(await call_ok(client, "introspect"))
        assert "audit_note" not in before and "audit_note" in after


# -- errors come back as readable tool errors -----------------------------------------------


async def test_unknown_table_names_the_closest_tables(
    project: Path, example_db_url: str, mode: str
):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("introspect", {"table": "userz"})
        assert_readable_error(result, "introspect", "userz", "users")


async def test_database_down_names_host_and_port_masked(project: Path, down_url: str, mode: str):
    port = down_url.rsplit(":", 1)[1].split("/")[0]
    server = build_server(project, database_url=down_url)
    async with Client(server, mode=mode) as client:
        for tool, args in (
            ("introspect", {}),
            ("compare", {"left": "db", "right": "models"}),
            ("generate_docs", {}),
            ("validate", {}),
        ):
            result = await client.call_tool(tool, args)
            assert_readable_error(result, tool, f"127.0.0.1:{port}")


async def test_missing_database_url_says_how_to_set_it(project: Path, mode: str):
    server = build_server(project)  # no override, no env (the harness removed it), no .env
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("introspect", {})
        assert_readable_error(result, "introspect", "DATABASE_URL", ".env")


async def test_missing_doc_says_run_generate_docs(project: Path, example_db_url: str, mode: str):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("compare", {"left": "db", "right": "doc"})
        text = assert_readable_error(result, "compare", "generate_docs", "database_schema.md")
        assert "generate-docs" not in text  # the MCP wording names the tool, not the CLI command


async def test_bad_compare_sides_are_explained(project: Path, example_db_url: str, mode: str):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        same = await client.call_tool("compare", {"left": "db", "right": "db"})
        assert_readable_error(same, "compare", "two different sources")
        unknown = await client.call_tool("compare", {"left": "db", "right": "production"})
        text = assert_readable_error(unknown, "compare", "right")
        assert "'db', 'models' or 'doc'" in text


async def test_bad_arguments_are_explained(project: Path, example_db_url: str, mode: str):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("introspect", {"limit": 0})
        assert_readable_error(result, "introspect", "limit")
        result = await client.call_tool("log_change", {"summary": ""})
        assert_readable_error(result, "log_change", "summary")


# -- resources -----------------------------------------------------------------------------


def resource_text(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.contents)


async def test_resources_read(project: Path, example_db_url: str, mode: str):
    server = build_server(project, database_url=example_db_url)
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as missing:
            await client.read_resource("schema://doc")
        assert "generate_docs" in str(missing.value)

        changes = resource_text(await client.read_resource("changes://log"))
        assert "No changes logged yet" in changes

        tables = json.loads(resource_text(await client.read_resource("schema://tables")))
        assert "public.users" in json.dumps(tables)
        one = json.loads(resource_text(await client.read_resource("schema://tables/public.media")))
        assert "owner_id" in json.dumps(one)

        with pytest.raises(MCPError) as unknown:
            await client.read_resource("schema://tables/mediaa")
        assert "media" in str(unknown.value)

        await call_ok(client, "generate_docs")
        await call_ok(client, "log_change", {"summary": "first entry"})
        doc = resource_text(await client.read_resource("schema://doc"))
        assert doc == (project / ".roo/docs/database_schema.md").read_text()
        assert "users" in doc
        assert "first entry" in resource_text(await client.read_resource("changes://log"))


async def test_resources_with_database_down_are_readable_errors(
    project: Path, down_url: str, mode: str
):
    server = build_server(project, database_url=down_url)
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("schema://tables")
        assert "127.0.0.1" in str(info.value) and PASSWORD not in str(info.value)


# -- bounded output -------------------------------------------------------------------------


async def test_introspect_default_answer_for_1000_tables_is_bounded(project: Path, db_url: str):
    """The default overview of a 1,000-table database stays under ~32 KB of text, and says how
    to get the rest; following next_offset pages through every table exactly once."""
    import psycopg

    from bench.synth import ddl_batches, plan_schema

    with psycopg.connect(db_url, autocommit=True) as conn:
        for batch in ddl_batches(plan_schema(1000)):
            conn.execute(batch)
    server = build_server(project, database_url=db_url)
    async with Client(server) as client:
        result = await client.call_tool("introspect", {})
        assert not result.is_error, text_of(result)
        text = text_of(result)
        assert len(text.encode()) < 32 * 1024
        first = result.structured_content
        assert first["table_count"] == 1000 and first["truncated"] is True
        assert f"offset={first['next_offset']}" in first["note"]

        seen = [t["name"] for t in first["tables"]]
        offset = first["next_offset"]
        while offset is not None:
            page = await call_ok(client, "introspect", {"offset": offset})
            assert len(json.dumps(page, separators=(",", ":")).encode()) < 32 * 1024
            seen += [t["name"] for t in page["tables"]]
            offset = page["next_offset"]
        assert len(seen) == len(set(seen)) == 1000


async def test_validate_after_an_unlogged_change_names_the_tools_to_call(
    project: Path, example_db_url: str
):
    import psycopg

    server = build_server(project, database_url=example_db_url)
    async with Client(server) as client:
        await call_ok(client, "generate_docs")
        await call_ok(client, "log_change", {"summary": "baseline"})
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE media ADD COLUMN caption text")
        result = await call_ok(client, "validate")
        assert result["ok"] is False
        assert any(d["name"] == "caption" and d["authority"] == "db" for d in result["differences"])
        advice = " ".join([result["message"], *result["warnings"]])
        assert "generate_docs" in advice and "log_change" in advice
        assert "generate-docs" not in advice and "log-change" not in advice


async def test_log_change_with_database_down_still_logs(project: Path, down_url: str):
    server = build_server(project, database_url=down_url)
    async with Client(server) as client:
        logged = await call_ok(
            client, "log_change", {"summary": "offline note", "tables": ["users"]}
        )
        assert logged["schema_hash_after"] is None
        assert "127.0.0.1" in logged["note"] and PASSWORD not in logged["note"]
    assert "offline note" in (project / ".roo/docs/pgdb_changes.md").read_text()
