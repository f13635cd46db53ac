"""The embedded PostgreSQL always stops: on a normal exit, on Ctrl-C, and when its owner is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

OWNER = """
import sys, time
from database_use.dev.embedded_pg import EmbeddedPostgres
server = EmbeddedPostgres()
server.start()
print(server.process.pid, server.workdir, flush=True)
try:
    while True:
        time.sleep(0.2)
finally:
    server.stop()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (it holds no port, no files).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _start_owner() -> tuple[subprocess.Popen, int, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().split()
    if len(line) != 2:
        proc.kill()
        pytest.fail(f"embedded server did not start: {proc.stderr.read()[-500:]}")
    return proc, int(line[0]), Path(line[1])


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
def test_server_stops_and_cluster_is_removed_when_the_owner_is_interrupted(how):
    proc, pid, workdir = _start_owner()
    assert _alive(pid) and workdir.is_dir()
    proc.send_signal(signal.SIGINT if how == "sigint" else signal.SIGTERM)
    proc.wait(timeout=60)
    assert _wait_gone(pid), f"postgres {pid} outlived its owner"
    assert not workdir.exists()


def test_server_dies_with_an_owner_that_is_killed_outright():
    proc, pid, workdir = _start_owner()
    proc.kill()  # SIGKILL: no Python cleanup runs; the kernel's parent-death signal must
    proc.wait(timeout=30)
    try:
        assert _wait_gone(pid), f"postgres {pid} outlived a killed owner"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def test_clusters_left_by_killed_owners_are_removed_later(tmp_path):
    from database_use.dev.embedded_pg import remove_stale_clusters

    dead = tmp_path / "database-use-pg-dead"
    (dead / "data").mkdir(parents=True)
    (dead / "data" / "postmaster.pid").write_text("999999999\n")
    live = tmp_path / "database-use-pg-live"
    (live / "data").mkdir(parents=True)
    (live / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n")
    young = tmp_path / "database-use-pg-young"
    young.mkdir()
    old = time.time() - 3600
    for path in (dead, live):
        os.utime(path, (old, old))
    assert remove_stale_clusters(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and young.exists()
