"""A test helper that plays the person honestly: a real pseudo-terminal and a typed passphrase.

No backdoor in the product: the helper runs the real ``approve`` / ``approver setup`` commands
as a child whose controlling terminal is a pty (``pty.fork``), waits for each prompt on the
screen, and types the answer, exactly as a person at a keyboard would.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from tests.conftest import REPO_ROOT

SCRIPT = str(REPO_ROOT / "utils_db" / "schema_inspector.py")
PASSPHRASE = "correct horse battery staple 42"


def child_env(url: str | None = None, **extra: str) -> dict[str, str]:
    """The person's shell environment: their HOME/XDG (the test's private ones) and PATH."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ["HOME"],
        "XDG_CONFIG_HOME": os.environ.get("XDG_CONFIG_HOME", ""),
        "PYTHONPATH": str(REPO_ROOT),
        "TERM": "dumb",
    }
    if url:
        env["DATABASE_URL"] = url
    env.update(extra)
    return env


def on_tty(
    argv: list[str],
    env: dict[str, str],
    answers: list[tuple[str, str]] = (),
    *,
    stdin_data: bytes | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run ``argv`` with a pty as its controlling terminal; for each ``(prompt, text)`` wait
    for ``prompt`` on the screen, then type ``text`` + Enter. Returns (exit code, screen).

    ``stdin_data``: stdin is a pipe holding these bytes instead of the terminal."""
    pipe = os.pipe() if stdin_data is not None else None
    pid, master = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        try:
            if pipe is not None:
                os.dup2(pipe[0], 0)
                os.close(pipe[1])
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    if pipe is not None:
        os.close(pipe[0])
        os.write(pipe[1], stdin_data)
        os.close(pipe[1])
    screen = b""
    pending = list(answers)
    mark = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            if pending:
                prompt = pending[0][0].encode()
                at = screen.find(prompt, mark)
                if at >= 0:
                    mark = at + len(prompt)
                    os.write(master, pending.pop(0)[1].encode() + b"\n")
    finally:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:  # still running at the deadline (or the screen closed): stop it
            time.sleep(0.5)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
        os.close(master)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


def cli(*args: str) -> list[str]:
    return [sys.executable, SCRIPT, *args]


def set_up(
    passphrase: str = PASSPHRASE, *, allow_elicitation: bool = True, env: dict | None = None
) -> str:
    """The person runs ``approver setup`` and types the passphrase twice."""
    code, screen = on_tty(
        cli("approver", "setup"),
        env or child_env(),
        [
            ("New approver passphrase: ", passphrase),
            ("Repeat it: ", passphrase),
            ("[Y/n] ", "y" if allow_elicitation else "n"),
        ],
    )
    assert code == 0, screen
    return screen


def approves(
    project: Path | str,
    subject_id: str,
    url: str,
    passphrase: str = PASSPHRASE,
    *,
    command: str = "approve",
) -> str:
    """The person reads the request on their terminal and types their passphrase (set up first
    when needed, as the command offers); asserts it was approved. Returns the screen."""
    from database_use import approvals

    answers = []
    if not approvals.approver_exists():
        answers = [
            ("New approver passphrase: ", passphrase),
            ("Repeat it: ", passphrase),
            ("[Y/n] ", "y"),
        ]
    answers.append(("Approver passphrase to approve", passphrase))
    code, screen = on_tty(
        cli(command, subject_id, "--project-root", str(project)), child_env(url), answers
    )
    assert code == 0, screen
    assert passphrase not in screen  # read without echo
    return screen
