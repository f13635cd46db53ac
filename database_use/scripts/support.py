"""Plumbing shared by the utility scripts in utils_db/ (not a script itself).

Each utility (``user_password_utils.py``, ``user_management_utils.py``, ``media_utils.py``)
keeps its logic in functions that take a SQLAlchemy session, and a ``main(argv=None)`` that
parses arguments and calls :func:`run_main`, which turns every failure into one line on
stderr and exit code 2 (never a traceback, never a password or a hash).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from database_use.errors import DatabaseUseError, InvalidRequest, NotFound
from database_use.settings import mask_url

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


def project_root() -> Path:
    """The project the scripts work on: the current directory (run_script sets it)."""
    return Path.cwd()


@contextmanager
def session() -> Iterator[Any]:
    """A session on the shared ``db`` (DATABASE_URL from the environment or ``.env``)."""
    from database_use.connection import db

    if db.project_root is None:
        db.configure(project_root=project_root())
    with db.session() as s:
        yield s


def one_line(exc: BaseException) -> str:
    """A single masked line describing ``exc`` (the driver's first line for DB errors)."""
    raw = getattr(exc, "orig", None) or exc
    text = str(raw).strip().splitlines()
    message = text[0] if text else type(exc).__name__
    return mask_url(" ".join(message.split()))


def run_main(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command handler; any failure → ``error: <one line>`` on stderr and exit 2."""
    try:
        return handler(args)
    except DatabaseUseError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        message = "interrupted"
    except EOFError:
        message = "no input (stdin closed)"
    except Exception as exc:  # SQLAlchemy / psycopg / OS errors: one line, no traceback
        message = one_line(exc)
        if "read-only transaction" in message:
            message += " (this run is read-only; writes need write mode and a person's approval)"
    print(f"error: {mask_url(message)}", file=sys.stderr)
    return 2


def read_password(
    from_stdin: bool,
    *,
    confirm: bool = False,
    prompt: str = "Password: ",
    check_policy: bool = True,
) -> str:
    """A password from stdin (one line) or an interactive prompt; never from argv."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidRequest(
                "no password on stdin; this is person-only: the person runs the command in "
                "their own terminal without --password-stdin and types it at the prompt"
            )
        password = line.rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InvalidRequest(
                "no terminal to prompt for the password; this is person-only: the person runs "
                "the same command in their own terminal and types it at the prompt"
            )
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != password:
            raise InvalidRequest("the two passwords differ")
    if check_policy:
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidRequest(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        if len(password) > MAX_PASSWORD_CHARS:
            raise InvalidRequest(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    elif not password:
        raise InvalidRequest("empty password")
    return password


def find_user(session: Any, ident: str) -> Any:
    """The user whose id (digits) or e-mail (case-insensitive) is ``ident``; NotFound otherwise."""
    from sqlalchemy import func, select

    from models.models_user import User

    ident = str(ident).strip()
    if ident.isdigit():
        user = session.get(User, int(ident))
    else:
        user = session.scalars(select(User).where(func.lower(User.email) == ident.lower())).first()
    if user is None:
        raise NotFound(f"no user with id or e-mail {ident!r}")
    return user


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def emit(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, empty: str = "(none)"
) -> None:
    """Print ``rows`` as JSON or as an aligned text table of ``columns``."""
    clean = [{k: plain(v) for k, v in row.items()} for row in rows]
    if as_json:
        print(json.dumps(clean, indent=2, default=str))
        return
    if not clean:
        print(empty)
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in clean]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def report(result: dict[str, Any], text: str, as_json: bool) -> None:
    """Print the outcome of a single action as JSON or one line of text."""
    if as_json:
        print(json.dumps({k: plain(v) for k, v in result.items()}, indent=2, default=str))
    else:
        print(text)
