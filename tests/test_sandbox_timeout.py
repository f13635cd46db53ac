"""A run ends at its timeout with every process it started, and its output still comes back.

The attack: a script starts children that leave its process group and session (``setsid``,
``start_new_session=True``, a double fork) and keep the run's stdout and stderr open. Before,
the run waited on those pipes, lost its output and left the children alive. Through the real
faces: the scripts service (what both faces call) and the MCP ``run_script`` tool, sandboxed and
with the person's ``sandbox = "off"``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from mcp import Client

from database_use.scripts import service as svc
from mcp_server.server import build_server


def escapers(marker: str) -> str:
    """A script that leaves three escapers behind, each holding the run's stdout and stderr."""
    return f"""
import os, subprocess, sys, time
SLEEP = [sys.executable, '-c', 'import time; time.sleep(1000)']
print('BEFORE', flush=True)
sys.stderr.write('ERR-BEFORE\\n'); sys.stderr.flush()
# 1. setsid(1): a new session, stdout and stderr inherited.
subprocess.Popen(['setsid', *SLEEP, '{marker}-setsid'])
# 2. start_new_session=True from Python, same pipes.
subprocess.Popen([*SLEEP, '{marker}-session'], start_new_session=True)
# 3. a double fork whose grandchild calls os.setsid() and is re-parented.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [*SLEEP, '{marker}-dfork'])
    os._exit(0)
time.sleep(0.5)
print('STARTED', flush=True)
while True:
    time.sleep(0.2)
"""


def quick_escapers(marker: str) -> str:
    """The same escapers, but the script itself exits at once: the run must not wait for them."""
    return escapers(marker).replace("while True:\n    time.sleep(0.2)\n", "print('DONE')\n")


def alive_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline!r}")
    return found


@pytest.fixture(params=["sandboxed", "sandbox off"])
def mode(request, private_home):
    if request.param == "sandbox off":
        config = private_home / ".config" / "database-use"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text('sandbox = "off"\n')
    return request.param


def test_timeout_kills_every_descendant_and_keeps_the_output(proj, mode):
    marker = "dbuse-escaper-" + uuid.uuid4().hex
    svc.draft_script(proj, "escape", escapers(marker))
    result = svc.run_script(proj, "temp/escape", timeout=3)
    assert result["sandboxed"] is (mode == "sandboxed")
    assert result["timed_out"] is True and result["ok"] is False, result
    assert "BEFORE" in result["stdout"] and "STARTED" in result["stdout"], result
    assert "ERR-BEFORE" in result["stderr"] and "timeout" in result["stderr"], result
    assert alive_with(marker) == []


def test_a_run_that_ends_does_not_wait_for_nor_leave_its_escapers(proj, mode):
    marker = "dbuse-escaper-" + uuid.uuid4().hex
    svc.draft_script(proj, "escape_quick", quick_escapers(marker))
    result = svc.run_script(proj, "temp/escape_quick", timeout=600)
    assert result["timed_out"] is False and result["exit_code"] == 0, result
    assert "STARTED" in result["stdout"] and "DONE" in result["stdout"], result
    assert alive_with(marker) == []


@pytest.mark.anyio
async def test_mcp_run_script_returns_at_the_timeout_with_nothing_left(proj):
    marker = "dbuse-escaper-" + uuid.uuid4().hex
    server = build_server(proj.root, proj.database_url)
    async with Client(server) as client:
        await client.call_tool("draft_script", {"name": "escape", "content": escapers(marker)})
        result = await client.call_tool("run_script", {"name": "temp/escape", "timeout": 3})
    data = result.structured_content
    assert data["timed_out"] is True and "STARTED" in data["stdout"], data
    assert alive_with(marker) == []
