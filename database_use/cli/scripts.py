"""CLI commands for vetted scripts: list, show, draft, run, promote, and the human approve-script.

Thin: parse, call :mod:`database_use.scripts.service`, format. ``run-script`` is read-only at the
database level unless ``--write`` is given, and ``--write`` runs only what a person approved
with ``approve-script <id>`` on their terminal (their approver passphrase, read from
/dev/tty; a pipe or a model's shell tool cannot approve).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from database_use import hints
from database_use.cli.common import EXIT_DIFF, EXIT_ERROR, EXIT_OK, project_from_args
from database_use.display import escape_for_display, source_lines
from database_use.errors import InvalidRequest


def add_commands(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    """Register list-scripts, show-script, draft-script, run-script, promote-script, approve-script."""
    ls = subparsers.add_parser(
        "list-scripts",
        parents=[parent],
        help="canonical scripts in utils_db/ and drafts in temp/, with purpose and arguments",
    )
    ls.set_defaults(handler=_list)

    show = subparsers.add_parser(
        "show-script", parents=[parent], help="one script's description and source"
    )
    show.add_argument("name", help="script name (NAME, temp/NAME or utils_db/NAME)")
    show.set_defaults(handler=_show)

    d = subparsers.add_parser(
        "draft-script",
        parents=[parent],
        help="write temp/NAME.py from a file or stdin (checked to be valid Python)",
    )
    d.add_argument("name", help="lower-case identifier: the draft becomes temp/NAME.py")
    d.add_argument(
        "--from-file", metavar="FILE", help="read the content from FILE (default: stdin)"
    )
    d.add_argument(
        "--overwrite", action="store_true", help="replace an existing draft of that name"
    )
    d.set_defaults(handler=_draft)

    r = subparsers.add_parser(
        "run-script",
        parents=[parent],
        help="run a script read-only (default) or, approved, in write mode: run-script NAME -- ARGS",
        description="Runs utils_db/NAME.py or temp/NAME.py with the project's DATABASE_URL. Every "
        "connection it opens is read-only at the database unless --write is given; "
        "--write needs a person's approval (approve-script).",
    )
    r.add_argument("name", help="script name (NAME, temp/NAME or utils_db/NAME)")
    r.add_argument("--write", action="store_true", help="write mode (needs a person's approval)")
    r.add_argument(
        "--timeout",
        type=float,
        default=60,
        metavar="S",
        help="kill it after S seconds (default 60)",
    )
    r.add_argument(
        "script_args",
        # "*" rather than REMAINDER: our own options (--format, --write) still work after NAME;
        # everything after `--` goes to the script untouched.
        nargs="*",
        metavar="ARGS",
        help="arguments for the script; put them after -- (e.g. run-script media_utils -- sizes)",
    )
    r.set_defaults(handler=_run)

    p = subparsers.add_parser(
        "promote-script",
        parents=[parent],
        help="move temp/NAME.py to utils_db/NAME.py (canonical)",
    )
    p.add_argument("name", help="the draft's name")
    p.add_argument("--overwrite", action="store_true", help="replace an existing utils_db/NAME.py")
    p.set_defaults(handler=_promote)

    a = subparsers.add_parser(
        "approve-script",
        parents=[parent],
        help="(for a person) review a write-mode script run and approve it with your passphrase",
        description="Shows the script, its arguments, its SHA-256 and the target database, then "
        "asks for your approver passphrase on your terminal (/dev/tty, never stdin).",
    )
    a.add_argument("request_id", help="the id named by run-script --write / the run_script tool")
    a.set_defaults(handler=_approve)


def _service():
    from database_use.scripts import service as scripts_service

    return scripts_service


# -- handlers ---------------------------------------------------------------------------------
def _list(args: argparse.Namespace) -> tuple[int, Any, str]:
    data = _service().list_scripts(project_from_args(args))
    return EXIT_OK, data, format_listing(data)


def _show(args: argparse.Namespace) -> tuple[int, Any, str]:
    svc = _service()
    data = svc.describe_script(project_from_args(args), args.name)
    # Escaped for the terminal: an escape sequence in a script must not hide its other lines.
    source = "\n".join(source_lines(data["source"].rstrip("\n")))
    return EXIT_OK, data, "\n".join([*format_entry(data), "", source])


def _draft(args: argparse.Namespace) -> tuple[int, Any, str]:
    if args.from_file:
        try:
            with open(args.from_file, encoding="utf-8") as fh:
                content = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"cannot read {args.from_file}: {exc}") from None
    else:
        if sys.stdin.isatty():
            raise InvalidRequest("give --from-file FILE or pipe the script on stdin")
        content = sys.stdin.read()
    project = project_from_args(args)
    data = _service().draft_script(project, args.name, content, overwrite=args.overwrite)
    verb = "replaced" if data["overwritten"] else "wrote"
    return (
        EXIT_OK,
        data,
        (
            f"{verb} {data['path']} ({data['size_bytes']} bytes, sha256 {data['sha256'][:16]}...)\n"
            f"run it: {hints.command(project, 'run-script', data['name'])} -- ARGS"
        ),
    )


def _run(args: argparse.Namespace) -> tuple[int, Any, str]:
    script_args = list(args.script_args)
    if script_args[:1] == ["--"]:
        script_args = script_args[1:]
    data = _service().run_script(
        project_from_args(args), args.name, script_args, timeout=args.timeout, write=args.write
    )
    return (EXIT_OK if data["ok"] else EXIT_DIFF), data, format_run(data)


def _promote(args: argparse.Namespace) -> tuple[int, Any, str]:
    # Replacing a vetted script is for a person at a terminal, never for a tool or a pipe.
    data = _service().promote_script(
        project_from_args(args), args.name, overwrite=args.overwrite, by_person=_stdin_is_tty()
    )
    lines = [f"promoted {data['from']} -> {data['path']} (now canonical)"]
    lines.extend(f"warning: {w}" for w in data.get("warnings", []))
    return EXIT_OK, data, "\n".join(lines)


def _approve(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.cli import terminal

    project = project_from_args(args)
    # The terminal first: a process without one must not get as far as the question.
    with terminal.controlling_terminal() as tty:
        data = approve_on_terminal(project, args.request_id, tty)
    if data is None:
        return EXIT_ERROR, {"id": args.request_id, "approved": False}, "not approved"
    rerun = hints.command(project, "run-script", data["path"][:-3], "--write")
    if data["args"]:
        rerun += " -- " + " ".join(shlex.quote(a) for a in data["args"])
    return (
        EXIT_OK,
        data,
        (
            f"approved one write-mode run of {data['path']} "
            f"(valid until {data['approval']['expires_at']}).\nRun it: {rerun}"
        ),
    )


def approve_on_terminal(project: Any, request_id: str, tty: Any) -> dict[str, Any] | None:
    """Show a script request on the person's terminal and take their passphrase; None = no."""
    from database_use.cli import terminal

    svc = _service()
    request = svc.load_request(project, request_id)
    terminal.show(tty, svc.approval_text(request) + "\n")
    signer = terminal.unlock(
        tty, project, "Approver passphrase to approve this run (Enter alone declines): "
    )
    if signer is None:
        return None
    return svc.grant_request(project, request_id, signer)


# -- text -------------------------------------------------------------------------------------
def format_entry(entry: dict[str, Any]) -> list[str]:
    label = "draft" if entry["kind"] == "draft" else "script"
    purpose = escape_for_display(entry.get("purpose") or "(no docstring)")
    lines = [f"{entry['path']}  [{label}]  {purpose}"]
    if entry.get("problem"):
        lines.append(f"    problem: {entry['problem']}")
    for arg in entry.get("arguments", []):
        lines.append(f"    {_arg_text(arg)}")
    for cmd in entry.get("commands", []):
        lines.append(f"    {cmd['name']}: {cmd.get('help') or ''}".rstrip())
        for arg in cmd.get("arguments", []):
            lines.append(f"        {_arg_text(arg)}")
    return lines


def _arg_text(arg: dict[str, Any]) -> str:
    flags = ", ".join(arg["flags"])
    if arg.get("choices"):
        flags += " {" + ",".join(str(c) for c in arg["choices"]) + "}"
    extra = " (required)" if arg.get("required") and not arg.get("positional") else ""
    return f"{flags}{extra}  {arg.get('help') or ''}".rstrip()


def format_listing(data: dict[str, Any]) -> str:
    lines: list[str] = []
    lines.append(
        "canonical scripts (utils_db/):" if data["scripts"] else "no canonical scripts in utils_db/"
    )
    for entry in data["scripts"]:
        lines.extend(format_entry(entry))
    lines.append("drafts (temp/):" if data["drafts"] else "no drafts in temp/")
    for entry in data["drafts"]:
        lines.extend(format_entry(entry))
    lines.extend(f"skipped: {s}" for s in data.get("skipped", []))
    return "\n".join(lines)


def format_run(data: dict[str, Any]) -> str:
    parts = []
    if data["stdout"]:
        parts.append(data["stdout"].rstrip("\n"))
    if data["stderr"]:
        parts.append("--- stderr ---\n" + data["stderr"].rstrip("\n"))
    status = "timed out" if data["timed_out"] else f"exit {data['exit_code']}"
    notes = [f"{status} in {data['duration_s']:.2f} s", data["guard"], data["sandbox"]]
    if data["stdout_truncated"]:
        notes.append(f"stdout truncated ({data['stdout_bytes']} bytes in all)")
    if data["stderr_truncated"]:
        notes.append(f"stderr truncated ({data['stderr_bytes']} bytes in all)")
    parts.append(f"[{data['path']}: " + "; ".join(notes) + "]")
    return "\n".join(parts)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
