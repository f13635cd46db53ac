"""The server as a real process: stdio (as agent clients start it) and streamable HTTP.

Also the entry point's logging: stderr only, passwords masked.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.mcp_startup import INITIALIZE
from mcp_server.__main__ import MaskPasswords, build_parser
from tests.conftest import REPO_ROOT
from tests.test_mcp_server import PASSWORD, SCHEMA_TOOLS, assert_readable_error, text_of

READY_TIMEOUT = 30.0  # bounded wait for the HTTP server to listen (not a speed assertion)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(**extra: str) -> dict[str, str]:
    # The repo is not installed into the venv in tests: make `-m mcp_server` importable.
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT), **extra}


def _stdio(project: Path, env: dict[str, str], errlog, *, root_flag: bool = True):
    args = ["-m", "mcp_server"] + (["--project-root", str(project)] if root_flag else [])
    params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(project))
    return stdio_client(params, errlog=errlog)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_subprocess_lists_and_calls_tools(
    project: Path, example_db_url: str, tmp_path: Path, mode: str
):
    with open(tmp_path / "stderr.log", "w+") as errlog:
        transport = _stdio(project, _child_env(DATABASE_URL=example_db_url), errlog)
        async with Client(transport, mode=mode) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert set(SCHEMA_TOOLS) <= names
            result = await client.call_tool("introspect", {"table": "public.media"})
            assert not result.is_error, text_of(result)
            assert result.structured_content["table"]["name"] == "media"
            missing = await client.call_tool("introspect", {"table": "medias"})
            assert_readable_error(missing, "introspect", "media")
        errlog.seek(0)
        assert "database-use MCP server on stdio" in errlog.read()


@pytest.mark.anyio
async def test_stdio_starts_with_database_down_and_masks_the_password(
    project: Path, tmp_path: Path
):
    port = _free_port()
    url = f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/appdb"
    with open(tmp_path / "stderr.log", "w+") as errlog:
        async with Client(_stdio(project, _child_env(DATABASE_URL=url), errlog)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert set(SCHEMA_TOOLS) <= names
            result = await client.call_tool("introspect", {})
            assert_readable_error(result, "introspect", f"127.0.0.1:{port}")
        errlog.seek(0)
        logs = errlog.read()
    assert "app:***@127.0.0.1" in logs
    assert PASSWORD not in logs


@pytest.mark.anyio
async def test_stdio_defaults_to_the_current_directory_and_its_env_file(
    project: Path, example_db_url: str, tmp_path: Path
):
    (project / ".env").write_text(f"DATABASE_URL={example_db_url}\n")
    with open(tmp_path / "stderr.log", "w+") as errlog:
        async with Client(_stdio(project, _child_env(), errlog, root_flag=False)) as client:
            result = await client.call_tool("introspect", {})
            assert not result.is_error, text_of(result)
            assert result.structured_content["table_count"] == 2


@pytest.mark.anyio
async def test_stdio_without_database_url_still_starts(project: Path, tmp_path: Path):
    with open(tmp_path / "stderr.log", "w+") as errlog:
        async with Client(_stdio(project, _child_env(), errlog), mode="legacy") as client:
            assert "approval" in (client.instructions or "")
            result = await client.call_tool("validate", {})
            assert_readable_error(result, "validate", "DATABASE_URL")


def _wait_listening(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"HTTP server exited early with {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"HTTP server did not listen on 127.0.0.1:{port} within {READY_TIMEOUT}s")


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http_on_localhost(
    project: Path, example_db_url: str, tmp_path: Path, mode: str
):
    port = _free_port()
    with open(tmp_path / "stdout.log", "w+") as out, open(tmp_path / "stderr.log", "w+") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mcp_server",
                "--project-root",
                str(project),
                "--transport",
                "streamable-http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=_child_env(
                DATABASE_URL=example_db_url,
                HOME=os.environ["HOME"],
                XDG_CONFIG_HOME=os.environ["XDG_CONFIG_HOME"],
            ),
            cwd=project,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_listening(proc, port)
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            from database_use import policy

            token = (policy.config_dir() / "http-token").read_text().strip()
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)
            async with Client(transport, mode=mode) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert set(SCHEMA_TOOLS) <= names
                result = await client.call_tool("introspect", {})
                assert not result.is_error, text_of(result)
                assert result.structured_content["table_count"] == 2
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        out.seek(0)
        stdout = out.read()
        err.seek(0)
        stderr = err.read()
    assert stdout == ""  # uvicorn's access log must not go to stdout
    assert f"http://127.0.0.1:{port}/mcp" in stderr


# -- the entry point ------------------------------------------------------------------------


def test_cli_flags_and_defaults():
    args = build_parser().parse_args([])
    assert (args.project_root, args.transport, args.host) == (None, "stdio", "127.0.0.1")
    args = build_parser().parse_args(
        ["--transport", "streamable-http", "--port", "9123", "--project-root", "x"]
    )
    assert (args.transport, args.port, args.project_root) == ("streamable-http", 9123, "x")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--transport", "sse"])


def test_log_filter_masks_passwords_in_messages_args_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPasswords())
    logger = logging.getLogger("test.mask")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting to %s", f"postgresql://u:{PASSWORD}@h:5433/d")
        logger.warning(f"dsn host=h password={PASSWORD} dbname=d")
        try:
            raise RuntimeError(f"failed for postgresql://u:{PASSWORD}@h/d")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert PASSWORD not in text
    assert "postgresql://u:***@h:5433/d" in text and "password=***" in text
    assert "RuntimeError" in text


def test_bad_project_root_is_a_one_line_error(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--project-root", str(tmp_path / "nope")],
        env=_child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "is not a directory" in proc.stderr and "Traceback" not in proc.stderr


def test_start_up_pauses_the_collector_and_serving_resumes_it(project, monkeypatch):
    # Start-up (SDK import, tools) runs with the collector paused; the server itself must run
    # with it on, start-up's objects set aside, and a caller in this process gets it back.
    import gc

    from mcp.server.mcpserver import MCPServer

    from mcp_server import __main__ as entry

    seen = {}

    def run(self, *args, **kwargs):
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())

    monkeypatch.setattr(MCPServer, "run", run)
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)
    try:
        assert entry.main(["--project-root", str(project)]) == 0
    finally:
        gc.unfreeze()  # this test process keeps collecting what start-up set aside
    assert seen["enabled"] is True and seen["frozen"] > 0
    assert gc.isenabled()


def test_initialize_does_not_wait_for_the_tier_line(project, tmp_path):
    # The tier line asks the database about DATABASE_URL's role. Here the "database" accepts
    # the connection and never answers: the server must answer initialize meanwhile, with the
    # tier line not yet written, and write it once that check has failed.
    hold = socket.socket()
    hold.bind(("127.0.0.1", 0))
    hold.listen()
    hold.settimeout(60)
    url = f"postgresql://agent:{PASSWORD}@127.0.0.1:{hold.getsockname()[1]}/app"
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--project-root", str(project)],
            env=_child_env(DATABASE_URL=url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        held, _ = hold.accept()  # the role check is connected and waits for an answer
        proc.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        assert answer["id"] == 1 and "result" in answer
        assert " tier " not in errlog.read_text()  # answered before the check finished
        held.close()  # the check now fails at once (a retry finds nothing listening)
        hold.close()
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        hold.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = errlog.read_text()
    assert len([line for line in text.splitlines() if " tier " in line]) == 1, text
    assert PASSWORD not in text
