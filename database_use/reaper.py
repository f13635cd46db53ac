"""Run one command so that every process it starts ends with it (Linux, no sandbox needed).

Used for script runs when the person turned the sandbox off: without bubblewrap's PID
namespace, a child that calls ``setsid()`` or double-forks leaves the run's process group and
would outlive the timeout (and keep the run's output pipes open). This wrapper marks itself a
*child subreaper* (``PR_SET_CHILD_SUBREAPER``), so every orphaned descendant is re-parented to
it instead of to init, wherever it moved its session; when the command exits, or the wrapper
gets SIGTERM/SIGINT/SIGHUP (the caller's timeout, or its own death through
``PR_SET_PDEATHSIG``), it kills every descendant with SIGKILL until none is left, then exits
with the command's status.

What it does not stop: a descendant that asks another service to start a process for it
(``systemd-run``, a D-Bus activation, ``at``) — only the sandbox's namespaces do. A SIGKILL sent
to the wrapper itself leaves the descendants running; the caller sends SIGTERM first.

Standard library only, so it runs as ``python -I reaper.py -- COMMAND...`` with nothing from the
project or the tool on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (from ``/proc/<pid>/stat``), deepest last."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def kill_descendants() -> None:
    """SIGKILL everything below this process until nothing is left (orphans come back to us)."""
    me = os.getpid()
    for _ in range(1000):  # each round kills what exists; a fork bomb cannot outrun it long
        pids = descendants(me)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _reap_zombies()
    _reap_zombies()


def _reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: reaper.py -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # the caller died: clean up, then go

    def stop(signum: int, _frame: object) -> None:
        kill_descendants()
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    if os.getppid() == 1:  # the caller died before PDEATHSIG was set
        return 128 + signal.SIGTERM
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"cannot start {argv[0]}: {exc}", file=sys.stderr)
        return 127
    code = child.wait()
    kill_descendants()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
