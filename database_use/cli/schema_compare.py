"""schema_compare: the supplemental comparer — any two schema sources, reports under ``temp/``.

    python utils_db/schema_compare.py LEFT RIGHT [--format text|json] [--project-root DIR]
    python utils_db/schema_compare.py SOURCE --save-snapshot PATH

A source is ``db`` (the project's DATABASE_URL), ``models``, ``doc``, ``url:ENVVAR`` (a
database URL read from that environment variable or the project's .env — so no password
ever sits on the command line; e.g. ``url:STAGING_DATABASE_URL`` vs ``url:PROD_DATABASE_URL``)
or a saved snapshot ``PATH.json`` (from ``--save-snapshot``). The differences are printed
and written as JSON + Markdown to ``temp/schema-compare-<time>.{json,md}`` (and
``temp/schema-compare-latest.*``). Exit codes: 0 no differences, 1 differences, 2 usage or
connection error (one masked line).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from database_use import service
from database_use.cli.common import (
    EXIT_DIFF,
    EXIT_ERROR,
    EXIT_OK,
    OneLineParser,
    common_parent,
    fail,
    project_from_args,
    run_handler,
)
from database_use.errors import InvalidRequest, NotFound
from database_use.project import Project
from database_use.render.report import render_differences_text, render_not_modelled_text

if TYPE_CHECKING:  # pragma: no cover
    from database_use.schema.snapshot import Snapshot

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SOURCE_HELP = "db | models | doc | url:ENVVAR | PATH.json"


def check_spec(spec: str) -> None:
    """Refuse a malformed source spec before anything connects."""
    if spec in service.SOURCES or spec.endswith(".json"):
        return
    if spec.startswith("url:"):
        if not _ENV_NAME.match(spec[4:]):
            # Not echoed: it may be a URL with a password, pasted where a name belongs.
            raise InvalidRequest(
                "after url: give the NAME of an environment variable holding the database "
                "URL (e.g. url:STAGING_DATABASE_URL), never the URL itself"
            )
        return
    raise InvalidRequest(f"unknown source '{spec}'; use one of: {SOURCE_HELP}")


def load_spec(project: Project, spec: str) -> Snapshot:
    """The snapshot for one source spec (see the module docstring)."""
    check_spec(spec)
    if spec in service.SOURCES:
        return service.load_source(project, spec)
    if spec.startswith("url:"):
        variable = spec[4:]
        from database_use.settings import database_url
        from database_use.sources.live import from_database

        return from_database(database_url(project.root, variable))
    if spec.endswith(".json"):
        from database_use.schema.snapshot import Snapshot

        path = Path(spec)
        if not path.is_absolute() and not path.exists():
            path = project.root / spec
        if not path.is_file():
            raise NotFound(f"snapshot file {spec} does not exist (save one with --save-snapshot)")
        try:
            return Snapshot.from_json(path.read_text(encoding="utf-8"))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidRequest(f"{spec} is not a saved schema snapshot ({exc})") from None
    raise InvalidRequest(f"unknown source '{spec}'; use one of: {SOURCE_HELP}")


def compare_specs(project: Project, left: str, right: str) -> dict[str, Any]:
    """Compare two source specs and write the JSON + Markdown report under ``temp/``."""
    if left == right:
        raise InvalidRequest(f"compare needs two different sources, got '{left}' twice")
    check_spec(left)
    check_spec(right)
    left_snap, right_snap = load_spec(project, left), load_spec(project, right)
    result = service.compare_snapshots(left_snap, right_snap, left, right)
    now = datetime.now(UTC)
    data = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "project_root": str(project.root),
        "schema_hash": None,
        "left_schema_hash": left_snap.schema_hash(),
        "right_schema_hash": right_snap.schema_hash(),
        "sources": {left: {"ok": True, "error": None}, right: {"ok": True, "error": None}},
        "comparisons": [{**result, "error": None}],
    }
    data["summary"] = service._report_summary(data["comparisons"])
    json_path, md_path = service.write_report_files(
        data, project.temp_dir, "schema-compare", latest="schema-compare-latest"
    )
    return {
        **result,
        "left_schema_hash": data["left_schema_hash"],
        "right_schema_hash": data["right_schema_hash"],
        "json_path": service._rel(project, json_path),
        "markdown_path": service._rel(project, md_path),
    }


def save_snapshot(project: Project, spec: str, path: str) -> dict[str, Any]:
    snap = load_spec(project, spec)
    target = Path(path)
    if not target.is_absolute():
        target = Path(os.getcwd()) / target
    if target.suffix != ".json":
        raise InvalidRequest(f"--save-snapshot wants a .json path, got {path}")
    service.atomic_write(target, (snap.to_json() + "\n").encode("utf-8"))
    return {
        "path": str(target),
        "source": spec,
        "tables": len(snap.tables),
        "enums": len(snap.enums),
        "schema_hash": snap.schema_hash(),
    }


def _run(args: argparse.Namespace) -> tuple[int, Any, str]:
    project = project_from_args(args)
    if args.save_snapshot:
        if args.right:
            raise InvalidRequest("--save-snapshot takes one source, not two")
        data = save_snapshot(project, args.left, args.save_snapshot)
        return (
            EXIT_OK,
            data,
            (
                f"saved {data['source']} ({data['tables']} tables, schema hash "
                f"{data['schema_hash']}) to {data['path']}"
            ),
        )
    if not args.right:
        raise InvalidRequest("give two sources to compare (or one with --save-snapshot PATH)")
    data = compare_specs(project, args.left, args.right)
    head = f"{args.left} vs {args.right}: "
    if any(d.get("authority") in ("left", "right") for d in data["differences"]):
        # two sources of the same kind (e.g. two databases): the diff calls them left/right
        head = f"{args.left} (left, the reference) vs {args.right} (right): "
    if data["differences"]:
        text = (
            head
            + f"{data['count']} difference(s)\n\n"
            + render_differences_text(data["differences"]).rstrip("\n")
        )
    else:
        text = head + "no differences"
    info = render_not_modelled_text(data.get("not_modelled") or [])
    if info:
        text += "\n\n" + info.rstrip("\n")
    text += f"\nwrote {data['json_path']} and {data['markdown_path']}"
    return (EXIT_DIFF if data["differences"] else EXIT_OK), data, text


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="schema_compare.py",
        parents=[common_parent()],
        description="Compare any two schema sources and write JSON + Markdown reports under "
        "temp/. Sources: db (DATABASE_URL), models, doc, url:ENVVAR (a database URL "
        "from that environment variable or .env), or a saved snapshot PATH.json.",
        epilog="examples: schema_compare.py db models | schema_compare.py url:STAGING_DATABASE_URL "
        "url:PROD_DATABASE_URL | schema_compare.py db --save-snapshot temp/before.json | "
        "schema_compare.py temp/before.json db. Exit codes: 0 no differences, "
        "1 differences, 2 usage or connection error.",
    )
    parser.add_argument("left", metavar="LEFT", help=SOURCE_HELP)
    parser.add_argument("right", metavar="RIGHT", nargs="?", help=SOURCE_HELP)
    parser.add_argument(
        "--save-snapshot",
        metavar="PATH",
        help="save LEFT as a JSON snapshot to PATH instead of comparing",
    )
    parser.set_defaults(handler=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return run_handler(args.handler, args)
    except OSError as exc:
        return fail(
            f"{exc.strerror or exc}: {exc.filename or ''}".strip(), getattr(args, "format", "text")
        )
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("DATABASE_USE_DEBUG"):
            raise
        return fail(
            f"unexpected error: {type(exc).__name__}: {exc} "
            "(set DATABASE_USE_DEBUG=1 for a traceback)",
            getattr(args, "format", "text"),
        )


if __name__ == "__main__":
    sys.exit(main())
