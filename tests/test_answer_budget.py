"""Every default answer fits a context window, measured at 1,000 tables (the benchmark's
synthetic schema), and the filters and pages that get the rest work.

The budget is ~32 KB of JSON per answer (about 8k tokens; Claude Code's default cap for one
tool result is 25k tokens). Sizes, never times.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from mcp import Client

from bench.run import build_schema
from bench.synth import models_source, plan_schema
from database_use.paging import ANSWER_BUDGET
from mcp_server.server import build_server
from tests.test_mcp_server import text_of

pytestmark = pytest.mark.anyio
N_TABLES = 1000
MODELED = 10  # the models declare only the first few tables: ~990 differences to page


@pytest.fixture(scope="module")
def big(pg_server, tmp_path_factory) -> tuple[str, Path]:
    name = f"dbuse_big_{pg_server.tag}_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    plan = plan_schema(N_TABLES)
    build_schema(url, plan)
    root = tmp_path_factory.mktemp("big") / "project"
    for sub in ("models", ".roo/docs", ".roo/changes", "temp", "utils_db"):
        (root / sub).mkdir(parents=True)
    (root / "models" / "__init__.py").write_text("")
    (root / "models" / "models_bench.py").write_text(models_source(plan, plan.tables[:MODELED]))
    yield url, root
    pg_server.drop_database(name)


def size(result) -> int:
    """Bytes of the answer as a client gets it: the text block (the structured content is the
    same data) — both measured, the larger counts."""
    text = text_of(result)
    structured = json.dumps(result.structured_content or {}, ensure_ascii=False)
    return max(len(text.encode()), len(structured.encode()))


async def test_every_default_answer_and_resource_fits_the_budget(big) -> None:
    url, root = big
    server = build_server(root, url)
    sizes: dict[str, int] = {}
    async with Client(server) as client:

        async def measure(label: str, tool: str, args: dict) -> dict:
            result = await client.call_tool(tool, args)
            assert not result.is_error, text_of(result)[:300]
            sizes[label] = size(result)
            return result.structured_content

        overview = await measure("introspect", "introspect", {})
        assert overview["table_count"] == N_TABLES and overview["truncated"] is True
        await measure("introspect verbose", "introspect", {"verbose": True})
        await measure("introspect table", "introspect", {"table": overview["tables"][0]["name"]})
        await measure("validate (no doc)", "validate", {})
        await measure("generate_docs", "generate_docs", {})
        await measure("validate", "validate", {})
        drift = await measure("compare db models", "compare", {"left": "db", "right": "models"})
        assert drift["count"] > 900 and drift["truncated"] is True, drift.get("note")
        await measure("compare models doc", "compare", {"left": "models", "right": "doc"})
        await measure("compare db doc", "compare", {"left": "db", "right": "doc"})
        await measure("report", "report", {})
        await measure("log_change", "log_change", {"summary": "bench: nothing changed"})
        table = overview["tables"][0]["name"]
        proposal = await measure(
            "propose_column_change",
            "propose_column_change",
            {"table": table, "action": "add", "column": "note_x", "type": "text"},
        )
        await measure("apply_change", "apply_change", {"change_id": proposal["id"]})
        _many_proposals(root, proposal["id"], 400)
        listed = await measure("list_changes", "list_changes", {})
        assert listed["count"] == 401 and listed["truncated"] is True
        await measure("withdraw_change", "withdraw_change", {"change_id": proposal["id"]})
        await measure("draft_script", "draft_script", {"name": "hello", "content": 'print("hi")\n'})
        await measure("list_scripts", "list_scripts", {})
        await measure("run_script", "run_script", {"name": "temp/hello"})
        loud = "import sys\nprint('x' * 100_000)\nprint('y' * 100_000, file=sys.stderr)\n"
        await measure("draft loud", "draft_script", {"name": "loud", "content": loud})
        cut = await measure("run_script loud", "run_script", {"name": "temp/loud"})
        assert cut["stdout_truncated"] and cut["stdout_bytes"] > 100_000
        assert "output cut at 12 KB" in cut["message"]
        await measure("promote_script", "promote_script", {"name": "hello"})

        resources = [
            "schema://doc",
            f"schema://doc/tables/{table.removeprefix('public.')}",
            "schema://doc/sections/Tables",
            "schema://doc/sections/Relationships",
            "schema://tables",
            f"schema://tables/{table}",
            "project://facts",
            "changes://log",
        ]
        for uri in resources:
            read = await client.read_resource(uri)
            sizes[uri] = len(read.contents[0].text.encode())
        whole = (await client.read_resource("schema://doc/full")).contents[0].text
    over = {label: n for label, n in sizes.items() if n > ANSWER_BUDGET}
    assert not over, over
    assert len(whole.encode()) > 10 * ANSWER_BUDGET  # the full doc is there, and it is big
    # The index the default doc answer gives names where each part is.
    index = sizes["schema://doc"]
    assert index < ANSWER_BUDGET


def _many_proposals(root: Path, model_id: str, n: int) -> None:
    """Copies of one real proposal under new ids: what a long-lived project accumulates."""
    folder = root / ".roo" / "changes"
    data = json.loads((folder / f"{model_id}.json").read_text())
    for i in range(n):
        data = {
            **data,
            "id": f"chg-20260101-{i:06d}-abcdef",
            "created_at": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
        }
        (folder / f"{data['id']}.json").write_text(json.dumps(data))


async def test_introspect_filters_and_says_why_limit_was_capped(big) -> None:
    url, root = big
    async with Client(build_server(root, url)) as client:
        capped = (await client.call_tool("introspect", {"limit": 1000})).structured_content
        assert capped["returned"] < 1000 and capped["truncated"] is True
        assert "size budget before limit=1000" in capped["note"], capped["note"]
        assert f"offset={capped['next_offset']}" in capped["note"]
        # The next page starts where this one ended.
        nxt = (
            await client.call_tool("introspect", {"limit": 1000, "offset": capped["next_offset"]})
        ).structured_content
        assert nxt["tables"][0]["name"] not in {t["name"] for t in capped["tables"]}
        some = capped["tables"][3]["name"].split(".")[-1]
        found = (await client.call_tool("introspect", {"pattern": some})).structured_content
        assert some in {t["name"].split(".")[-1] for t in found["tables"]}
        assert found["table_count"] < N_TABLES and "matching the filters" in found["note"]
        globbed = (await client.call_tool("introspect", {"pattern": "*_0001*"})).structured_content
        assert globbed["table_count"] >= 1
        assert all("_0001" in t["name"] for t in globbed["tables"])
        with_jsonb = (
            await client.call_tool("introspect", {"has_column": "attrs"})
        ).structured_content
        assert 0 < with_jsonb["table_count"] < N_TABLES
        assert all("attrs " in t["summary"] for t in with_jsonb["tables"])
        none = (await client.call_tool("introspect", {"pattern": "no_such_*"})).structured_content
        assert none["table_count"] == 0 and none["tables"] == []


async def test_compare_filters_and_pages(big) -> None:
    url, root = big
    async with Client(build_server(root, url)) as client:

        async def cmp(**args):
            result = await client.call_tool("compare", {"left": "db", "right": "models", **args})
            assert not result.is_error, text_of(result)
            return result.structured_content

        first = await cmp(limit=5)
        assert first["returned"] == 5 and first["next_offset"] == 5 and "limit=5" in first["note"]
        second = await cmp(limit=5, offset=5)
        assert {json.dumps(d, sort_keys=True) for d in first["differences"]}.isdisjoint(
            json.dumps(d, sort_keys=True) for d in second["differences"]
        )
        one = first["differences"][0]["table"]
        only = await cmp(table=one)
        assert only["count"] >= 1 and {d["table"] for d in only["differences"]} == {one}
        tables_only = await cmp(kind="table")
        assert {d["object"] for d in tables_only["differences"]} == {"table"}
        assert tables_only["total"] == first["total"]
