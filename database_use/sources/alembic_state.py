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
from typing import Any, NamedTuple

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


class _Revision(NamedTuple):
    revision: str
    downs: tuple[str, ...]  # down_revision: one, none, or several for a merge revision
    depends_on: tuple[str, ...]  # revision ids or branch labels
    labels: tuple[str, ...]  # branch_labels


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in (value or ()) if isinstance(v, str))


def _revision_of(path: Path) -> _Revision | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    wanted = ("revision", "down_revision", "depends_on", "branch_labels")
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in wanted:
                found[target.id] = _literal(value)
    revision = found.get("revision")
    if not isinstance(revision, str):
        return None
    return _Revision(
        revision,
        _strings(found.get("down_revision")),
        _strings(found.get("depends_on")),
        _strings(found.get("branch_labels")),
    )


def _revisions(scripts: Path) -> dict[str, _Revision]:
    found: dict[str, _Revision] = {}
    for path in sorted((scripts / "versions").rglob("*.py")):
        parsed = _revision_of(path)
        if parsed:
            found[parsed.revision] = parsed
    return found


def heads(scripts: Path) -> list[str]:
    """Head revisions of an alembic script folder, as ``alembic heads`` lists them: revisions
    no other revision names as its ``down_revision`` (a merge revision names several).
    ``depends_on`` does not end a branch: a revision another branch only depends on stays a
    head."""
    revisions = _revisions(scripts)
    parents = {d for r in revisions.values() for d in r.downs}
    return sorted(r for r in revisions if r not in parents)


def applied(scripts: Path, db_revisions: list[str]) -> set[str] | None:
    """Every revision a database at ``db_revisions`` has run: those and all they build on,
    through ``down_revision`` and ``depends_on`` (``alembic_version`` keeps only the tips, so a
    head another branch depends on is not stored). None when the database records a revision
    the scripts do not have."""
    revisions = _revisions(scripts)
    labels = {label: r.revision for r in revisions.values() for label in r.labels}
    done: set[str] = set()
    todo = list(db_revisions)
    while todo:
        rev = todo.pop()
        if rev in done:
            continue
        if rev not in revisions:
            return None
        done.add(rev)
        todo.extend(revisions[rev].downs)
        todo.extend(labels.get(dep, dep) for dep in revisions[rev].depends_on)
    return done


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
    if revisions is not None and scripts is not None and head_list is not None:
        # at head when `alembic upgrade heads` has nothing left to run
        done = applied(scripts, revisions)
        at_head = done is not None and set(head_list) <= done
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
