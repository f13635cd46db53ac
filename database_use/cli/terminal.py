"""The person's terminal: the controlling TTY, never stdin, arguments or the environment.

``approve`` and ``approve-script`` talk to ``/dev/tty`` directly. A pipe on stdin (``echo pw |
database-use approve ...``) is never read, and a process without a controlling terminal is
refused. The passphrase is read with echo off (the same termios steps ``getpass`` takes, but
with no fallback to stdin) and is never printed, logged or kept after use.
"""

from __future__ import annotations

import contextlib
import os
import termios
from collections.abc import Iterator
from typing import IO, Any

from database_use import approvals, policy
from database_use.display import escape_for_display
from database_use.errors import ChangeRefused

ATTEMPTS = 3


@contextlib.contextmanager
def controlling_terminal() -> Iterator[Any]:
    """The controlling terminal, read and write; ChangeRefused when there is none."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise ChangeRefused(
            "approving needs a person at a terminal (this process has no controlling "
            "terminal); run the command yourself in a terminal"
        ) from None
    reader = open(fd, encoding="utf-8", errors="replace", closefd=True)  # noqa: SIM115
    writer = open(os.dup(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    try:
        yield _Terminal(reader, writer)
    finally:
        writer.close()
        reader.close()


class _Terminal:
    """The tty as one object: readline from one handle, write to another (a tty is no file)."""

    def __init__(self, reader: IO[str], writer: IO[str]) -> None:
        self.reader, self.writer = reader, writer

    def fileno(self) -> int:
        return self.reader.fileno()

    def readline(self) -> str:
        return self.reader.readline()

    def write(self, text: str) -> None:
        self.writer.write(text)

    def flush(self) -> None:
        self.writer.flush()


def show(tty: Any, text: str) -> None:
    """Write ``text`` for the person, every control/escape/bidi character escaped."""
    tty.write(escape_for_display(text).rstrip("\n") + "\n")
    tty.flush()


def read_secret(tty: Any, prompt: str) -> str:
    """One line from the terminal with echo off (restored afterwards, also on Ctrl-C)."""
    fd = tty.fileno()
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    # Echo goes off BEFORE the prompt shows, so nothing typed after the prompt is echoed.
    termios.tcsetattr(fd, termios.TCSAFLUSH, new)
    try:
        tty.write(prompt)
        tty.flush()
        line = tty.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        tty.write("\n")
        tty.flush()
    return line.rstrip("\r\n")


def read_line(tty: Any, prompt: str) -> str:
    tty.write(prompt)
    tty.flush()
    return tty.readline().strip()


def setup(tty: Any, *, replace_existing: bool = False) -> None:
    """Set the approver passphrase (typed twice) and the person's elicitation choice."""
    show(
        tty,
        "Set your approver passphrase. It proves that you, not an agent, approve a change: "
        "never type it where an agent can read it, and never give it to one.",
    )
    for _ in range(ATTEMPTS):
        first = read_secret(tty, "New approver passphrase: ")
        if len(first) < approvals.MIN_PASSPHRASE_CHARS:
            show(tty, f"Too short: use at least {approvals.MIN_PASSPHRASE_CHARS} characters.")
            continue
        if read_secret(tty, "Repeat it: ") != first:
            show(tty, "The two entries differ.")
            continue
        approvals.setup_approver(first, replace_existing=replace_existing)
        break
    else:
        raise ChangeRefused("no approver passphrase was set")
    current = policy.load_policy()
    answer = read_line(
        tty,
        "May an MCP client's approval dialog (Claude Code, Cursor, VS Code) approve changes? "
        "[Y/n] ",
    )
    policy.write_config(
        allow_elicitation=answer.lower() not in ("n", "no"),
        ttl_seconds=current.approval_ttl_seconds,
    )
    show(tty, f"Saved in {policy.config_dir()} (only your own config decides these).")


def unlock(tty: Any, project: object, prompt: str) -> approvals.Ed25519PrivateKey | None:
    """Ask for the passphrase (setting it up first on first use); None when the person
    declines (an empty answer) or fails three times."""
    if not approvals.approver_exists():
        show(tty, "No approver passphrase is set up yet.")
        setup(tty)
    for _ in range(ATTEMPTS):
        secret = read_secret(tty, prompt)
        if not secret:
            return None
        try:
            return approvals.unlock(secret, project)
        except ChangeRefused as exc:
            if "wrong approver passphrase" not in exc.message:
                raise
            show(tty, "Wrong passphrase.")
    return None
