"""What every CLI command shares: common options, output, and turning errors into exit codes.

Exit codes: 0 clean, 1 drift / validation failure, 2 usage or connection error.
A command handler takes the parsed ``args`` and returns ``(exit_code, data, text)``:
``data`` is printed as JSON with ``--format json``, ``text`` otherwise. Handlers never print
secrets; every message passes through :func:`mask_url` anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from database_use.errors import DatabaseUseError
from database_use.project import Project, open_project
from database_use.settings import mask_url

Handler = Callable[[argparse.Namespace], tuple[int, Any, str]]

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr (exit 2), naming ``--help``, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"error: {message} (see {self.prog} --help)\n")


def common_parent() -> argparse.ArgumentParser:
    """Options every sub-command accepts (also accepted before the command name)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--format",
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="output format (default: text)",
    )
    parent.add_argument(
        "--project-root",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where models/, .roo/, temp/ and .env are found (default: current directory)",
    )
    return parent


def project_from_args(args: argparse.Namespace) -> Project:
    """The project the command works on; a folder that is not one is refused in one line."""
    return open_project(
        getattr(args, "project_root", None), getattr(args, "database_url", None), require=True
    )


def to_jsonable(data: Any) -> Any:
    if hasattr(data, "to_dict"):
        return data.to_dict()
    if isinstance(data, list | tuple):
        return [to_jsonable(d) for d in data]
    if isinstance(data, dict):
        return {k: to_jsonable(v) for k, v in data.items()}
    return data


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run one command; print its result; map errors to exit code 2 with one masked line."""
    fmt = getattr(args, "format", "text")
    try:
        code, data, text = handler(args)
    except DatabaseUseError as exc:
        return fail(str(exc), fmt, exit_code=exc.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", fmt)
    if fmt == "json":
        print(json.dumps(to_jsonable(data), indent=2, sort_keys=False, default=str))
    elif text:
        print(mask_url(text))
    return code


def print_warnings(data: dict[str, Any]) -> None:
    """A result's ``finished`` notes and ``warnings`` go to stderr (stdout carries only the
    result), one masked line each."""
    for prefix, key in (("note", "finished"), ("warning", "warnings")):
        for line in data.get(key) or ():
            print(f"{prefix}: {mask_url(' '.join(str(line).split()))}", file=sys.stderr)


def fail(message: str, fmt: str = "text", exit_code: int = EXIT_ERROR) -> int:
    message = mask_url(" ".join(str(message).split()))
    if fmt == "json":
        print(json.dumps({"error": message}))
    print(f"error: {message}", file=sys.stderr)
    return exit_code
