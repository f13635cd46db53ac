"""schema_inspector: the database-use command line (also the console scripts
``schema-inspector`` and ``database-use``).

    database-use <command> [--format text|json] [--project-root DIR]

Commands: introspect, compare-db-models, compare-models-doc, compare-db-doc, generate-docs,
report, validate, log-change, plus the guarded-change, script and install commands.
Exit codes: 0 clean, 1 differences / validation failure, 2 usage or connection error (one
line on stderr, password masked). Each command calls one function of ``database_use.service``;
``--format json`` prints exactly what that function returns (the MCP tools return the same).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from database_use.cli.common import (
    EXIT_DIFF,
    EXIT_ERROR,
    EXIT_OK,
    OneLineParser,
    common_parent,
    fail,
    print_warnings,
    project_from_args,
    run_handler,
)
from database_use.render.report import clean
from database_use.schema import LISTED_KINDS
from database_use.schema.snapshot import Grant

PROG = "database-use"
# Commands that only read and compare: they run with the cyclic garbage collector paused.
_READ_COMMANDS = frozenset(
    {
        "introspect",
        "compare-db-models",
        "compare-models-doc",
        "compare-db-doc",
        "generate-docs",
        "report",
        "validate",
    }
)


# ---------------------------------------------------------------------------------------------
# text formatting (the data is the service's dict; text is only a view of it)
# ---------------------------------------------------------------------------------------------
def differences_text(differences: list[dict[str, Any]]) -> str:
    from database_use.render.report import render_differences_text

    return render_differences_text(differences)


def overview_text(data: dict[str, Any]) -> str:
    version = data.get("server_version") or "?"
    lines = [
        f"PostgreSQL {version} · {data['table_count']} tables · {data['enum_count']} enums · "
        f"schema hash {data['schema_hash']}",
    ]
    if data.get("counts"):
        lines.append(counts_text(data["counts"]))
    if data["tables"]:
        lines.append("")
        width = max(len(t["name"]) for t in data["tables"])
        lines.extend(f"{t['name'].ljust(width)}  {t['summary']}" for t in data["tables"])
    if data["enums"]:
        lines.append("")
        lines.append("enums:")
        lines.extend(f"  {e['name']}: {' | '.join(e['labels'])}" for e in data["enums"])
    lines.append("")
    lines.append(f"({cli_syntax(data['note'])})")
    return "\n".join(lines) + alembic_text(data.get("alembic"))


def counts_text(counts: dict[str, int]) -> str:
    """ "Sequences: 2 · Functions: 5 · Triggers: 2" (the kinds beyond tables and enums)."""
    return " · ".join(f"{kind.replace('_', ' ').capitalize()}: {n}" for kind, n in counts.items())


def kind_text(data: dict[str, Any]) -> str:
    """One kind's listing: a line per object."""
    lines = [
        f"{data['count']} {data['kind'].replace('_', ' ')} · schema hash {data['schema_hash']}"
    ]
    if data["objects"]:
        lines.append("")
        width = max(len(clean(o["name"])) for o in data["objects"])
        lines.extend(
            f"{clean(o['name']).ljust(width)}  {clean(o['summary'])}" for o in data["objects"]
        )
    lines.append("")
    lines.append(f"({cli_syntax(data['note'])})")
    return "\n".join(lines)


def object_text(data: dict[str, Any]) -> str:
    """One object in full (not a table): a line per attribute, the body last."""
    obj = dict(data["object"])
    body = obj.pop("body", None) if data["kind"] != "aggregate" else None
    lines = [clean(f"{data['kind']} {data['name']}"), ""]
    for key, value in obj.items():
        if key == "privileges" and value:
            lines.append("grants:")
            lines.extend(f"  {clean(_grant_line(Grant(**g)))}" for g in value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            lines.extend(f"  {clean(item)}" for item in value)
        elif value not in (None, [], ""):
            lines.append(f"{key}: {clean(value)}")
    if body:
        lines += ["", "body:", *(f"  {clean(line)}" for line in body.strip("\n").split("\n"))]
    lines.append("")
    lines.append(f"(schema hash {data['schema_hash']})")
    return "\n".join(lines)


_TOOL_ARG = re.compile(r"\b(offset|table|schema|kind|object)=(\w+)|\b(use verbose)\b")


def cli_syntax(note: str) -> str:
    """The service's note names tool arguments (``offset=4``); a terminal reader needs options."""
    return _TOOL_ARG.sub(lambda m: "use --verbose" if m[3] else f"--{m[1]} {m[2]}", note)


def table_text(data: dict[str, Any]) -> str:
    from database_use.render.report import render_table_text
    from database_use.schema.snapshot import _table_from_dict

    table = _table_from_dict(data["table"])
    lines = [render_table_text(table).rstrip("\n")]
    lines.extend(_table_extras_text(table, data.get("partitions", [])))
    if data["referenced_by"]:
        lines.append("")
        lines.append("referenced by:")
        lines.extend(
            f"  {r['table']}({', '.join(r['columns'])}) → ({', '.join(r['ref_columns'])}) "
            f"ON DELETE {r['on_delete']}"
            for r in data["referenced_by"]
        )
    if data["enums"]:
        lines.append("")
        lines.append("enum types used:")
        lines.extend(f"  {name}: {' | '.join(labels)}" for name, labels in data["enums"].items())
    lines.append("")
    lines.append(f"(schema hash {data['schema_hash']})")
    return "\n".join(lines)


def _table_extras_text(table: Any, partitions: list[dict[str, Any]]) -> list[str]:
    """Partitioning, row-level security, triggers, policies, rules and grants of a table."""
    lines: list[str] = []
    if table.partition_of:
        lines += ["", clean(f"partition of {table.partition_of} {table.partition_bound}")]
    if table.partition_key:
        lines += ["", clean(f"partitioned by {table.partition_key}; partitions:")]
        lines += [clean(f"  {p['name']}  {p['bound']}") for p in partitions] or ["  (none)"]
    if table.rls_enabled or table.rls_forced:
        lines += ["", "row-level security: " + ("enabled" if table.rls_enabled else "disabled")]
        lines[-1] += ", forced" if table.rls_forced else ""
    for title, items, line in (
        ("triggers", table.triggers, _trigger_line),
        ("policies", table.policies, _policy_line),
        ("rules", table.rules, lambda r: f"{r.name}: {r.definition}"),
        ("grants", table.privileges, _grant_line),
    ):
        if items:
            lines += ["", f"{title}:", *(f"  {clean(line(x))}" for x in items)]
    return lines


def _trigger_line(t: Any) -> str:
    text = f"{t.name}: {t.timing} {' OR '.join(t.events)} FOR EACH {t.level}"
    text += f" WHEN ({t.when})" if t.when else ""
    text += f" EXECUTE {t.function}" + (f" {t.extra}" if t.extra else "")
    return text + ("" if t.enabled == "origin" else f" [{t.enabled}]")


def _policy_line(p: Any) -> str:
    text = f"{p.name}: {'permissive' if p.permissive else 'restrictive'} {p.command}"
    text += f" TO {', '.join(p.roles)}"
    text += f" USING ({p.using})" if p.using else ""
    return text + (f" WITH CHECK ({p.with_check})" if p.with_check else "")


def _grant_line(g: Any) -> str:
    held = ", ".join(p + ("*" if p in g.grantable else "") for p in g.privileges)
    return f"{g.grantee}: {held}" + (f" (column {g.column})" if g.column else "")


def compare_text(data: dict[str, Any]) -> str:
    from database_use.render.report import render_not_modelled_text

    head = f"{data['left']} vs {data['right']}: "
    tail = alembic_text(data.get("alembic"))
    info = render_not_modelled_text(data.get("not_modelled") or [])
    info = "\n\n" + info.rstrip("\n") if info else ""
    if not data["differences"]:
        return head + "no differences" + info + tail
    return (
        head
        + f"{data['count']} difference(s)\n\n"
        + differences_text(data["differences"]).rstrip("\n")
        + info
        + tail
    )


def alembic_text(state: dict[str, Any] | None) -> str:
    """One line after the answer: where the database stands in the project's migrations."""
    if not state:
        return ""
    revision = state["db_revision"]
    shown = ", ".join(revision) if isinstance(revision, list) else revision
    where = f"database at revision {shown}" if shown else "no alembic_version in the database"
    heads = f"; head {', '.join(state['heads'])} in {state['scripts']}" if state["heads"] else ""
    verdict = {
        True: " (at head)",
        False: " (NOT at head: run the migrations before treating differences as drift)",
    }.get(state["at_head"], "")
    return f"\n\nalembic: {where}{heads}{verdict}"


# ---------------------------------------------------------------------------------------------
# handlers: parse → one service call → (exit code, data, text)
# ---------------------------------------------------------------------------------------------
def _introspect(args: argparse.Namespace) -> tuple[int, Any, str]:
    data = _service().introspect(
        project_from_args(args),
        schema=args.schema,
        table=args.table,
        verbose=args.verbose,
        limit=args.limit,
        offset=args.offset,
        pattern=args.pattern,
        has_column=args.has_column,
        kind=args.kind,
        object=args.object,
    )
    if "table" in data:
        text = table_text(data)
    elif "object" in data:
        text = object_text(data)
    else:
        text = kind_text(data) if args.kind else overview_text(data)
    return EXIT_OK, data, (f"{data['tier']}\n{text}" if data.get("tier") else text)


def _compare(left: str, right: str):
    def handler(args: argparse.Namespace) -> tuple[int, Any, str]:
        project = project_from_args(args)
        with _models_ahead(project, "models" in (left, right)):
            data = _service().compare(project, left, right)
        return (EXIT_DIFF if data["differences"] else EXIT_OK), data, compare_text(data)

    return handler


def _service() -> Any:
    """The service layer, imported when a handler runs: a compare begins its models child
    first (``_models_ahead``), before these imports (~50 ms) are paid."""
    from database_use import service

    return service


def _models_ahead(project: Any, wanted: bool) -> Any:
    """The models child begun before the live read when the command needs both, so it runs
    beside it (``models.loading_ahead``: the same answer, sooner)."""
    from database_use.sources.models import loading_ahead

    return loading_ahead(project.root, wanted=wanted)


def _generate_docs(args: argparse.Namespace) -> tuple[int, Any, str]:
    data = _service().generate_docs(project_from_args(args))
    verb = "wrote" if data["changed"] else "unchanged:"
    text = (
        f"{verb} {data['path']} ({data['tables']} tables, {data['enums']} enums, "
        f"schema hash {data['schema_hash']})"
    )
    return EXIT_OK, data, text


def _validate(args: argparse.Namespace) -> tuple[int, Any, str]:
    data = _service().validate(project_from_args(args))
    lines = [("ok: " if data["ok"] else "FAILED: ") + data["message"]]
    if data["differences"]:
        lines.append("")
        lines.append(differences_text(data["differences"]))
    lines.extend(f"warning: {w}" for w in data["warnings"] if w != data["message"])
    lines.extend(f"note: {n}" for n in data.get("finished", []))
    return (EXIT_OK if data["ok"] else EXIT_DIFF), data, "\n".join(lines)


def _report(args: argparse.Namespace) -> tuple[int, Any, str]:
    project = project_from_args(args)
    with _models_ahead(project, True):
        data = _service().report(project)
    summary = data["summary"]
    lines = []
    for c in summary["comparisons"]:
        state = f"error: {c['error']}" if c["error"] else f"{c['count']} difference(s)"
        lines.append(f"{c['left']} vs {c['right']}: {state}")
    lines.append(
        f"wrote {data['json_path']} and {data['markdown_path']} "
        f"(also {data['latest_json']}, {data['latest_markdown']})"
    )
    return (EXIT_OK if summary["ok"] else EXIT_DIFF), data, "\n".join(lines)


def _log_change(args: argparse.Namespace) -> tuple[int, Any, str]:
    details = args.details or ""
    if args.details_file:
        details = Path(args.details_file).read_text(encoding="utf-8")
    sql = Path(args.sql_file).read_text(encoding="utf-8") if args.sql_file else None
    data = _service().log_change(
        project_from_args(args),
        args.summary,
        details=details,
        tables=args.table or (),
        sql=sql,
        record_hash=not args.no_schema_hash,
        not_in_db=args.not_in_db,
    )
    verb = "created" if data["created"] else "appended to"
    text = f"{verb} {data['path']}:\n\n{data['entry'].rstrip()}"
    if data["note"]:
        text += f"\n\nnote: {data['note']}"
    print_warnings(data)
    return EXIT_OK, data, text


# ---------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("database-use")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked (importlib.metadata
    costs every other command start-up time)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kw: Any):
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kw.get("help")
        )
        self.help = "show program's version number and exit"

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        sys.stdout.write(f"database-use {_version()}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parent = common_parent()
    parser = OneLineParser(
        prog=PROG,
        parents=[parent],
        description="Inspect, compare, document and log changes to the project's PostgreSQL "
        "schema. Source of truth: live database > models/models_*.py > "
        ".roo/docs/database_schema.md. The connection comes from DATABASE_URL "
        "(environment or the project's .env).",
        epilog="exit codes: 0 clean, 1 differences or validation failure, 2 usage or "
        "connection error",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser(
        "introspect",
        parents=[parent],
        help="the live schema: compact overview, or one table in full",
    )
    p.add_argument("--schema", help="only this schema")
    p.add_argument("--table", help="full detail for this table (schema.table or table)")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="overview lines with defaults, identity, indexes and checks",
    )
    p.add_argument(
        "--limit",
        type=_positive,
        default=200,
        help="at most this many tables per page (default 200; the page also ends at a size budget)",
    )
    p.add_argument(
        "--offset",
        type=_positive,
        default=0,
        help="start the overview at this table (see next_offset)",
    )
    p.add_argument("--pattern", help="only tables whose name matches (user* or a substring)")
    p.add_argument("--has-column", help="only tables with a column matching this (*_id, email)")
    p.add_argument(
        "--kind",
        help="list the objects of one kind: " + ", ".join(LISTED_KINDS),
    )
    p.add_argument(
        "--object",
        help="any object in full by name: shop.add_tax(integer), shop.invoice_no, a trigger ...",
    )
    p.set_defaults(handler=_introspect)

    for name, left, right, what in (
        ("compare-db-models", "db", "models", "live database vs models/models_*.py"),
        ("compare-models-doc", "models", "doc", "models vs .roo/docs/database_schema.md"),
        ("compare-db-doc", "db", "doc", "live database vs .roo/docs/database_schema.md"),
    ):
        p = sub.add_parser(name, parents=[parent], help=f"{what} (exit 1 on differences)")
        p.set_defaults(handler=_compare(left, right))

    p = sub.add_parser(
        "generate-docs",
        parents=[parent],
        help="write .roo/docs/database_schema.md from the live database (only when it changed)",
    )
    p.set_defaults(handler=_generate_docs)

    p = sub.add_parser(
        "report",
        parents=[parent],
        help="all three comparisons as JSON + Markdown under .roo/reports/",
    )
    p.set_defaults(handler=_report)

    p = sub.add_parser(
        "validate",
        parents=[parent],
        help="exit 1 unless the doc is exactly what generate-docs would write",
    )
    p.set_defaults(handler=_validate)

    p = sub.add_parser(
        "log-change", parents=[parent], help="append a dated entry to .roo/docs/pgdb_changes.md"
    )
    p.add_argument("--summary", required=True, help="one line: what changed")
    p.add_argument("--details", default="", help="free text (or --details-file)")
    p.add_argument("--details-file", metavar="PATH", help="read the details from this file")
    p.add_argument("--sql-file", metavar="PATH", help="the SQL that was run, from a file")
    p.add_argument(
        "--table",
        action="append",
        metavar="SCHEMA.TABLE",
        help="a table the change touched (repeatable)",
    )
    p.add_argument(
        "--not-in-db",
        action="store_true",
        help="log --table names that are not in the live database (a table dropped or "
        "renamed away), marked so in the entry; without it they are refused",
    )
    p.add_argument(
        "--no-schema-hash",
        action="store_true",
        help="do not record the live schema hash (recorded by default when the "
        "database is reachable, so validate can spot later unlogged changes)",
    )
    p.set_defaults(handler=_log_change)

    # The other areas' commands (guarded changes, vetted scripts, install/register).
    from database_use.cli import changes as cli_changes
    from database_use.cli import doctor as cli_doctor
    from database_use.cli import install as cli_install
    from database_use.cli import scripts as cli_scripts

    for module in (cli_changes, cli_scripts, cli_install, cli_doctor):
        module.add_commands(sub, parent)
    return parser


def _split_script_args(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``run-script NAME [OPTIONS] -- ARGS``: everything after the first ``--`` is the script's.

    argparse alone cannot parse an option between NAME and ``--`` once a ``*`` positional
    follows NAME, so the script's arguments are cut off before parsing.
    """
    if "run-script" in argv and "--" in argv[argv.index("run-script") :]:
        cut = argv.index("--", argv.index("run-script"))
        return argv[:cut], argv[cut + 1 :]
    return argv, None


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (0 clean, 1 differences, 2 error).

    For callers in this process (tests, tools): the collector is left as it was found.
    """
    was_enabled = gc.isenabled()
    try:
        return _guarded(sys.argv[1:] if argv is None else list(argv), paused=False)[0]
    finally:
        if was_enabled:
            gc.enable()


def entry() -> NoReturn:
    """The process entry point (console scripts, ``python -m database_use``, the seed's
    ``utils_db/schema_inspector.py``): run one command and end the process.

    The collector is paused from the start: start-up builds only long-lived objects (modules,
    the parser, psycopg), and so does a read command's snapshot. A read command then ends the
    process without tearing its objects down (~50 ms at 1,000 tables, a tenth of an
    introspect): its output is flushed, its files are written and closed, and the exit
    handlers still run. Every other command exits the ordinary way.
    """
    gc.disable()
    code, command = _guarded(sys.argv[1:], paused=True)
    if command in _READ_COMMANDS:
        end_process(code)
    sys.exit(code)


def end_process(code: int) -> NoReturn:
    """Flush stdout and stderr, run the exit handlers, then exit without interpreter teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that left, a closed stream
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def _guarded(argv: list[str], *, paused: bool) -> tuple[int, str | None]:
    """``_main``, quiet when the reader leaves early (``database-use … | head``)."""
    try:
        return _main(argv, paused=paused)
    except BrokenPipeError:
        # Say nothing, and keep Python's exit-time flush of stdout from printing its own
        # complaint.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK, None


def _main(argv: list[str], *, paused: bool) -> tuple[int, str | None]:
    """Parse and run one command: its exit code and its name (None when none ran)."""
    parser = build_parser()
    argv, script_args = _split_script_args(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return (exc.code if isinstance(exc.code, int) else EXIT_ERROR), None
    if script_args is not None:
        args.script_args = [*getattr(args, "script_args", []), *script_args]
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR, None
    if args.command in _READ_COMMANDS:
        # A read builds a snapshot of fresh, long-lived objects and the process then ends:
        # the collector's full passes over them (and over every imported module) find
        # nothing to free and cost ~15% of an introspect at 1,000 tables.
        gc.disable()
    elif paused:
        gc.enable()  # the start-up pause ends where a command that may run long begins
    return _run_command(handler, args), args.command


def _run_command(handler: Any, args: argparse.Namespace) -> int:
    try:
        return run_handler(handler, args)
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file we were asked to read or write
        return fail(
            f"{exc.strerror or exc}: {exc.filename or ''}".strip(), getattr(args, "format", "text")
        )
    except Exception as exc:  # never a traceback for the user; details with DATABASE_USE_DEBUG=1
        if os.environ.get("DATABASE_USE_DEBUG"):
            raise
        return fail(
            f"unexpected error in {args.command}: {type(exc).__name__}: {exc} "
            "(set DATABASE_USE_DEBUG=1 for a traceback)",
            getattr(args, "format", "text"),
        )


if __name__ == "__main__":
    entry()
