"""Alembic awareness: the bookkeeping tables that are never drift, and whether the database
is at the head revision of the project's migrations.

The heads are read from the revision files *statically* (``ast``: the ``revision`` and
``down_revision`` assignments), never by importing them: a migration file is project code,
and importing it in the tool's process (as alembic's ``ScriptDirectory`` does) would run it
outside the models sandbox. This also works when alembic is not installed.
"""

from __future__ import annotations

import ast
import configparser
from pathlib import Path
from typing import Any

from database_use.compare.diff import BOOKKEEPING_TABLES

_MIGRATION_DIRS = ("migrations", "alembic")


def bookkeeping_tables(project: Any) -> tuple[str, ...]:
    """The project's bookkeeping tables: ``project.bookkeeping_tables`` when set (the hook a
    ``[tool.database-use]`` setting fills), else :data:`BOOKKEEPING_TABLES`."""
    configured = getattr(project, "bookkeeping_tables", None)
    return tuple(configured) if configured is not None else BOOKKEEPING_TABLES


def script_dir(root: Path) -> Path | None:
    """The project's alembic script folder: ``script_location`` of ``alembic.ini``, else
    ``migrations/`` or ``alembic/`` holding an ``env.py``."""
    ini = root / "alembic.ini"
    if ini.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(ini, encoding="utf-8")
            location = parser.get("alembic", "script_location", fallback=None)
        except configparser.Error:
            location = None
        if location:
            location = location.replace("%(here)s", str(root))
            path = (root / location).resolve()
            if (path / "versions").is_dir():
                return path
    for name in _MIGRATION_DIRS:
        path = root / name
        if (path / "env.py").is_file() and (path / "versions").is_dir():
            return path
    return None


def _literal(node: ast.AST | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def _revision_of(path: Path) -> tuple[str, list[str]] | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                found[target.id] = _literal(value)
    revision = found.get("revision")
    if not isinstance(revision, str):
        return None
    down = found.get("down_revision")
    downs = [down] if isinstance(down, str) else [d for d in (down or ()) if isinstance(d, str)]
    return revision, downs


def heads(scripts: Path) -> list[str]:
    """Head revisions of an alembic script folder (revisions no other revision builds on)."""
    revisions: dict[str, list[str]] = {}
    for path in sorted((scripts / "versions").rglob("*.py")):
        parsed = _revision_of(path)
        if parsed:
            revisions[parsed[0]] = parsed[1]
    parents = {d for downs in revisions.values() for d in downs}
    return sorted(r for r in revisions if r not in parents)


def db_revisions(conn: Any, qualified_table: str) -> list[str]:
    """The revisions recorded in the database's ``alembic_version`` table (read-only)."""
    from psycopg import sql as psql

    from database_use.sources.live import sql

    schema, _, name = qualified_table.partition(".")
    query = psql.SQL(sql("alembic_version")).format(table=psql.Identifier(schema, name))
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute(query)
        return [row[0] for row in cur.fetchall()]


def status(project: Any, live: Any) -> dict[str, Any] | None:
    """``{"db_revision", "heads", "at_head", "scripts"}`` when the project or the database uses
    alembic, else None. ``db_revision`` is None when the database has no alembic_version table;
    ``heads`` is None when the project has no script folder; ``at_head`` is None when either
    is unknown."""
    table = next(
        (k for k, t in live.tables.items() if t.name == "alembic_version" and not t.is_view),
        None,
    )
    scripts = script_dir(Path(project.root))
    if table is None and scripts is None:
        return None
    revisions: list[str] | None = None
    if table is not None:
        with project.connect(readonly=True) as conn:
            revisions = db_revisions(conn, table)
    head_list = heads(scripts) if scripts is not None else None
    at_head = None
    if revisions is not None and head_list is not None:
        at_head = sorted(revisions) == head_list
    shown = None
    if scripts is not None:
        try:
            shown = scripts.relative_to(Path(project.root).resolve()).as_posix()
        except ValueError:
            shown = str(scripts)
    return {
        "db_revision": revisions[0] if revisions and len(revisions) == 1 else revisions,
        "heads": head_list,
        "at_head": at_head,
        "scripts": shown,
    }
