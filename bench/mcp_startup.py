"""MCP server speed: process start → ``initialize`` answered over stdio, and warm ``introspect``.

Run ``python -m bench.mcp_startup [--runs 10] [--calls 30]``. Targets (issues 4, 16): the server
answers ``initialize`` within 0.6 s of process start; ``introspect`` on the example schema
answers within 100 ms warm.

* Start-up: a fresh ``python -m mcp_server`` per run; the clock starts just before the
  process is spawned and stops when the ``initialize`` response line arrives on stdout
  (raw JSON-RPC, so no client library time is counted). The median of ``--runs``.
* ``tools/list`` size: bytes of the answer (and of its descriptions, input and output schemas),
  what every agent session pays in context before its first call. A size, not a time.
* Warm ``introspect``: one stdio session through ``mcp.Client`` (as an agent client talks to
  the server), a warm-up call, then ``--calls`` timed calls of the overview and of one table.
  The same calls in-process (no transport) show what the transport adds.

The database is ``DATABASE_URL``'s when set (it must hold the example users/media schema, or
pass ``--create-schema`` to create it there); otherwise an embedded throwaway PostgreSQL gets a
fresh database with the example schema and is stopped at the end. A report, not a test.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INIT_TARGET_S = 0.6  # issue 16 (issue 4: 1.0 s)
INTROSPECT_TARGET_MS = 100.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
log = logging.getLogger("database_use.bench")


def create_example_schema(url: str) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    from sqlalchemy import create_engine

    import models  # noqa: F401 - registers users/media on db.metadata
    from database_use.settings import sqlalchemy_url
    from utils_db.database import db

    engine = create_engine(sqlalchemy_url(url))
    try:
        db.metadata.create_all(engine)
    finally:
        engine.dispose()


@contextmanager
def example_database(url: str | None, create: bool) -> Iterator[str]:
    if url:
        if create:
            create_example_schema(url)
        yield url
        return
    import psycopg

    from database_use.dev.embedded_pg import EmbeddedPostgres

    with EmbeddedPostgres() as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_mcp")
        bench_url = server.url_for("bench_mcp")
        create_example_schema(bench_url)
        yield bench_url


def make_project(base: Path) -> Path:
    root = base / "project"
    (root / "models").mkdir(parents=True)
    for path in (REPO_ROOT / "models").glob("*.py"):
        shutil.copy(path, root / "models" / path.name)
    for sub in (".roo/docs", ".roo/reports", ".roo/changes", "temp", "utils_db"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "USER")}
    env.update(DATABASE_URL=url, PYTHONPATH=str(REPO_ROOT))
    return env


def server_args(project: Path) -> list[str]:
    return ["-m", "mcp_server", "--project-root", str(project), "--log-level", "WARNING"]


def time_initialize(project: Path, url: str) -> float:
    """Seconds from spawning the server to reading its ``initialize`` response."""
    line = (json.dumps(INITIALIZE) + "\n").encode()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *server_args(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(url),
        cwd=project,
    )
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(line)
        proc.stdin.flush()
        answer = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        if b'"result"' not in answer:
            raise RuntimeError(f"unexpected initialize answer: {answer[:200]!r}")
        return elapsed
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def time_calls(client, calls: int, args: dict) -> list[float]:
    result = await client.call_tool("introspect", args)  # warm-up: imports, first connection
    if result.is_error:
        raise RuntimeError(result.content[0].text)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = await client.call_tool("introspect", args)
        times.append((time.perf_counter() - start) * 1000)
        if result.is_error:
            raise RuntimeError(result.content[0].text)
    return times


async def introspect_latency(project: Path, url: str, calls: int) -> dict[str, list[float]]:
    from mcp import Client, StdioServerParameters

    from mcp_server.server import build_server

    out: dict[str, list[float]] = {}
    params = StdioServerParameters(
        command=sys.executable, args=server_args(project), env=child_env(url), cwd=str(project)
    )
    async with Client(params, mode="legacy") as client:
        out["stdio overview"] = await time_calls(client, calls, {})
        out["stdio table=users"] = await time_calls(client, calls, {"table": "users"})
    async with Client(build_server(project, database_url=url)) as client:
        out["in-process overview"] = await time_calls(client, calls, {})
        out["in-process table=users"] = await time_calls(client, calls, {"table": "users"})
    return out


async def tools_list_size(project: Path, url: str) -> dict[str, int]:
    """Bytes of the tools/list answer: context every agent session pays before its first call."""
    from mcp import Client

    from mcp_server.common import tools_list_sizes
    from mcp_server.server import build_server

    async with Client(build_server(project, database_url=url)) as client:
        return tools_list_sizes((await client.list_tools()).tools)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="server starts to time (default 10)")
    parser.add_argument(
        "--calls", type=int, default=30, help="introspect calls per kind (default 30)"
    )
    parser.add_argument(
        "--create-schema",
        action="store_true",
        help="create the example schema in DATABASE_URL's database first",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.path.insert(0, str(REPO_ROOT))
    import anyio

    with (
        tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp,
        example_database(os.environ.get("DATABASE_URL"), args.create_schema) as url,
    ):
        project = make_project(Path(tmp))
        time_initialize(project, url)  # first start fills the bytecode caches; not counted
        starts = [time_initialize(project, url) for _ in range(args.runs)]
        latency = anyio.run(introspect_latency, project, url, args.calls)
        listed = anyio.run(tools_list_size, project, url)

    rows = [
        (
            "initialize after process start",
            f"{statistics.median(starts) * 1000:.0f} ms",
            f"{min(starts) * 1000:.0f}–{max(starts) * 1000:.0f} ms",
            f"≤ {INIT_TARGET_S * 1000:.0f} ms",
            "met" if statistics.median(starts) <= INIT_TARGET_S else "NOT MET",
        )
    ]
    for name, times in latency.items():
        median = statistics.median(times)
        rows.append(
            (
                f"introspect warm, {name}",
                f"{median:.1f} ms",
                f"{min(times):.1f}–{max(times):.1f} ms",
                f"≤ {INTROSPECT_TARGET_MS:.0f} ms",
                "met" if median <= INTROSPECT_TARGET_MS else "NOT MET",
            )
        )
    header = ("measure", "median", "range", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        f"\ntools/list: {listed['tools']} tools, {listed['total']:,} bytes (~{listed['total'] // 4:,} "
        f"tokens at 4 bytes/token): descriptions {listed['descriptions']:,}, input schemas "
        f"{listed['input_schemas']:,}, output schemas {listed['output_schemas']:,} bytes"
    )
    print(
        f"\n{args.runs} starts, {args.calls} calls per kind; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
