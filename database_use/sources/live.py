"""The live-database source: a snapshot from the PostgreSQL catalog.

A fixed handful of round trips whatever the number of objects (one query per object kind,
kept in ``database_use/sources/sql/*.sql``; the kinds beyond tables are assembled in
:mod:`database_use.sources.live_kinds`), inside a transaction that is read-only and rolled back, with
a statement timeout when the connection has none. Works as an ordinary (non-superuser) role:
only catalog tables and functions that need no privilege are read. System schemas and
``database_use_ledger`` (strict mode's record of applied changes, :mod:`database_use.changes.ledger`)
are no app schemas: every query leaves them out.

Speed matters here (the benchmark compares whole-process introspection with pg_dump), so this
module imports neither SQLAlchemy nor pydantic and builds objects with plain loops over tuples.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from database_use.errors import NotFound
from database_use.schema.normalize import (
    exclusion_definition,
    index_key,
    normalize_default,
    normalize_expression,
    normalize_type,
)
from database_use.schema.snapshot import (
    Column,
    EnumType,
    ExclusionConstraint,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    UniqueConstraint,
)
from database_use.sources import live_kinds

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

    from database_use.project import Project

DEFAULT_TIMEOUT = "30s"  # only used when the connection carries no statement_timeout

_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_IDENTITY = {"a": "always", "d": "by default"}


@cache
def sql(name: str) -> str:
    """The text of ``database_use/sources/sql/<name>.sql`` (read once)."""
    path = Path(__file__).resolve().parent / "sql" / f"{name}.sql"
    if path.is_file():  # the usual case; importlib.resources alone costs ~30 ms of start-up
        return path.read_text(encoding="utf-8")
    from importlib import resources  # installed inside a zip or similar

    return (resources.files("database_use.sources") / "sql" / f"{name}.sql").read_text(
        encoding="utf-8"
    )


def _version(conn: psycopg.Connection) -> str:
    number = conn.info.server_version  # e.g. 160002
    major = number // 10000
    if major >= 10:
        return f"{major}.{number % 10000}"
    return f"{major}.{number // 100 % 100}.{number % 100}"


def load_live(
    conn: psycopg.Connection,
    schemas: list[str] | tuple[str, ...] | None = None,
    *,
    open_side: Any = None,
) -> Snapshot:
    """Snapshot of the database behind ``conn`` (all non-system schemas, or ``schemas``).

    ``open_side``: a callable giving a context manager for a second, read-only connection to
    the same database, to read part of the catalog in parallel (:data:`SIDE_QUERIES`). Only
    for a database whose state is committed: never inside a transaction that has changes of
    its own (the second session would not see them).

    Raises NotFound naming the existing schemas when a requested schema does not exist.
    """
    with _collector_paused():
        return _load_live(conn, schemas, open_side)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off while the catalog rows become a snapshot (tens of thousands
    of tuples and dataclasses, none of them garbage: full passes over them free nothing),
    then back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The catalog queries after the session's, in order: tables and what hangs on them first, then
# the other kinds (each its own round trip, however many objects).
QUERIES = (
    "relations",
    "columns",
    "constraints",
    "indexes",
    "enums",
    "sequences",
    "domains",
    "composite_types",
    "range_types",
    "functions",
    "triggers",
    "policies",
    "rules",
    "extensions",
    "privileges",
)
_VERSIONED = re.compile(r"/\*pg(\d+):(.*?)\*/(.*?)/\*end\*/", re.S)


@cache
def versioned_sql(name: str, major: int) -> str:
    """``sql(name)`` for a server of this major version: ``/*pgNN: expr */ fallback /*end*/``
    becomes ``expr`` from PostgreSQL NN on, else ``fallback`` (catalog columns added later)."""
    return _VERSIONED.sub(lambda m: m[2] if major >= int(m[1]) else m[3], sql(name))


# With a second connection to hand (from_database: a database this module connects to itself),
# these queries run there, at the same time as the rest: the server has them on another core
# and the client reads their rows while it builds from the first ones. That session imports
# the first one's snapshot (export_snapshot.sql), so it reads the same server as of the same
# moment; where it cannot, everything is read on the first session (_SideRead).
SIDE_QUERIES = QUERIES[QUERIES.index("constraints") :]  # relations and columns stay


class _Results(dict):
    """The rows of each catalog query by name, fetched when first asked for (the snapshot is
    built in query order); those of ``side`` come from the second connection's thread."""

    def __init__(self, cursors: dict[str, Any], side: _SideRead | None = None) -> None:
        super().__init__()
        self._cursors = cursors
        self._side = side

    def __missing__(self, name: str) -> list[tuple]:
        cursor = self._cursors.pop(name, None)
        if cursor is not None:
            rows = self[name] = cursor.fetchall()
            return rows
        if self._side is not None and name in self._side.names:
            rows = self[name] = self._side.rows(name)
            return rows
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def fetch_rest(self) -> None:
        for name in list(self._cursors):
            self[name]


class _SideRead:
    """``names`` read on a second connection in a thread. If that connection cannot be had
    (a role's connection limit, a pooler that refuses it, anything), :meth:`rows` reads them on
    the main connection instead: slower, never a different answer."""

    def __init__(
        self,
        conn: psycopg.Connection,
        open_connection: Any,
        snapshot_id: str,
        names: tuple[str, ...],
        params: dict,
        major: int,
    ) -> None:
        import threading

        self._conn = conn
        self._snapshot_id = snapshot_id
        self.names = names
        self._params, self._major = params, major
        self._open = open_connection
        self._rows: dict[str, list[tuple]] = {}
        self._failed: BaseException | None = None
        self._fallback: _Results | None = None
        self._thread = threading.Thread(target=self._run, name="database-use catalog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg
        from psycopg import sql as q

        try:
            with self._open() as conn:
                # the main transaction's snapshot, imported: the same server (an import fails
                # anywhere else: another host behind the same name, a replica) and the same view
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                with _pipeline(conn), conn.transaction(force_rollback=True):
                    conn.execute(
                        q.SQL("SET TRANSACTION SNAPSHOT {}").format(q.Literal(self._snapshot_id))
                    )
                    self._read(conn)
        except BaseException as exc:  # read again on the main connection (see rows)
            self._failed = exc

    def _read(self, conn: psycopg.Connection) -> None:
        _send_session(conn)
        cursors = _send(conn, self.names, self._params, self._major)
        for name in self.names:
            self._rows[name] = cursors[name].fetchall()

    def join(self) -> None:
        self._thread.join()

    def rows(self, name: str) -> list[tuple]:
        self._thread.join()
        if self._failed is None:
            return self._rows[name]
        if self._fallback is None:  # sent now, inside the main connection's transaction
            self._fallback = _Results(_send(self._conn, self.names, self._params, self._major))
        return self._fallback[name]


def _send_session(conn: psycopg.Connection) -> Any:
    cursor = conn.cursor()
    cursor.execute(sql("session"), {"timeout": DEFAULT_TIMEOUT})
    return cursor


def _send(conn: psycopg.Connection, names: tuple[str, ...], params: dict, major: int) -> dict:
    cursors = {}
    for name in names:
        cursors[name] = cursor = conn.cursor()
        cursor.execute(versioned_sql(name, major), params)
    return cursors


def _load_live(
    conn: psycopg.Connection,
    schemas: list[str] | tuple[str, ...] | None,
    open_side: Any = None,
) -> Snapshot:
    wanted = sorted(set(schemas)) if schemas else None
    params: dict[str, Any] = {"schemas": wanted}
    major = conn.info.server_version // 10000
    side: _SideRead | None = None
    # force_rollback: a fresh transaction (or a savepoint inside the caller's) that leaves
    # nothing behind, not even the SET LOCAL of search_path / statement_timeout. Every query is
    # sent at once (pipeline mode, where libpq has it) and read back in the order the snapshot
    # is built: the same statements in the same transaction, without a wait per round trip.
    try:
        with _pipeline(conn), conn.transaction(force_rollback=True):
            if open_side is not None:
                snapshot_id = conn.execute(sql("export_snapshot")).fetchone()[0]
                if snapshot_id:  # none on a standby: everything is read here
                    side = _SideRead(conn, open_side, snapshot_id, SIDE_QUERIES, params, major)
            here = tuple(n for n in QUERIES if side is None or n not in side.names)
            session_cursor = _send_session(conn)
            rows = _Results(_send(conn, here, params, major), side)
            session = session_cursor.fetchone()
            existing = list(session[3])
            if wanted:
                unknown = [s for s in wanted if s not in existing]
                if unknown:
                    raise NotFound(
                        f"schema {', '.join(unknown)} not found; schemas in this database: "
                        f"{', '.join(existing) or '(none)'}"
                    )
            scope = wanted or existing
            rows["schema_comments"] = [tuple(pair) for pair in session[4] if pair[0] in scope]
            snap = build_snapshot(rows, schemas=scope, server_version=_version(conn))
            rows.fetch_rest()
    finally:
        if side is not None:  # never leave its session behind (an error here, NotFound ...)
            side.join()
    return snap


def _pipeline(conn: psycopg.Connection) -> Any:
    """``conn.pipeline()`` where the libpq in use has pipeline mode (14+), else nothing."""
    import psycopg

    if psycopg.Pipeline.is_supported():  # nested inside a caller's pipeline, too
        return conn.pipeline()
    return nullcontext()


def build_snapshot(
    rows: dict[str, list[tuple]], *, schemas: list[str], server_version: str | None
) -> Snapshot:
    """Assemble a snapshot from the rows of the catalog queries, by query name (no I/O)."""
    snap = Snapshot(source="db", server_version=server_version)
    for schema in schemas:
        if schema not in snap.schemas:
            snap.schemas.append(schema)
    by_oid: dict[int, Table] = {}
    for (
        oid,
        schema,
        name,
        kind,
        comment,
        tuples,
        size,
        definition,
        partition_key,
        parent,
        bound,
        rls,
        rls_forced,
    ) in rows["relations"]:
        table = Table(
            schema=schema,
            name=name,
            kind=_KINDS.get(kind, "table"),
            comment=comment,
            definition=definition.strip() if definition else None,
            partition_key=partition_key,
            partition_of=parent,
            partition_bound=bound,
            rls_enabled=bool(rls),
            rls_forced=bool(rls_forced),
            estimated_rows=tuples if tuples is not None and tuples >= 0 else None,
            size_bytes=size,
        )
        by_oid[oid] = snap.add_table(table)

    for (
        oid,
        name,
        type_text,
        notnull,
        default,
        identity,
        generated,
        comment,
        attnum,
        collation,
    ) in rows["columns"]:
        table = by_oid.get(oid)
        if table is None:
            continue
        type_name = normalize_type(type_text)
        column = Column(
            name=name,
            type=type_name,
            nullable=not notnull,
            comment=comment,
            position=attnum,
            collation=collation,
        )
        if identity:
            column.identity = _IDENTITY.get(identity)
        elif generated == "s" and default is not None:
            column.generated = normalize_expression(default)
        elif default is not None:
            column.default = normalize_default(default, type_name)
        table.columns.append(column)

    for (
        oid,
        name,
        contype,
        cols,
        ref_schema,
        ref_name,
        ref_cols,
        on_delete,
        on_update,
        deferrable,
        deferred,
        check,
        validated,
        nulls_not_distinct,
        comment,
    ) in rows["constraints"]:
        table = by_oid.get(oid)
        if table is None:
            continue
        if contype == "p":
            table.primary_key = PrimaryKey(columns=list(cols), name=name, comment=comment)
        elif contype == "u":
            table.unique_constraints.append(
                UniqueConstraint(
                    columns=list(cols),
                    name=name,
                    nulls_not_distinct=bool(nulls_not_distinct),
                    comment=comment,
                )
            )
        elif contype == "f":
            table.foreign_keys.append(
                ForeignKey(
                    columns=list(cols),
                    ref_table=f"{ref_schema}.{ref_name}",
                    ref_columns=list(ref_cols),
                    name=name,
                    on_delete=_ACTIONS.get(on_delete, "NO ACTION"),
                    on_update=_ACTIONS.get(on_update, "NO ACTION"),
                    deferrable=bool(deferrable),
                    initially_deferred=bool(deferred),
                    validated=bool(validated),
                    comment=comment,
                )
            )
        elif contype == "x":
            table.exclusion_constraints.append(
                ExclusionConstraint(
                    definition=exclusion_definition(check or ""), name=name, comment=comment
                )
            )
        elif contype == "c":
            table.check_constraints.append(
                live_kinds.check_constraint(check, name, validated, comment)
            )

    for (
        oid,
        name,
        unique,
        method,
        nkey,
        defs,
        options,
        predicate,
        opclasses,
        nnd,
        comment,
    ) in rows["indexes"]:
        table = by_oid.get(oid)
        if table is None:
            continue
        keys: list[str] = []
        for position, text in enumerate(defs[:nkey]):
            keys.append(index_key(text, options[position] if options else 0))
        table.indexes.append(
            Index(
                columns=keys,
                name=name,
                unique=bool(unique),
                method=method,
                where=normalize_expression(predicate) if predicate else None,
                include=[index_key(text, 0) for text in defs[nkey:]],
                opclasses=list(opclasses[:nkey]) if any(opclasses[:nkey]) else [],
                nulls_not_distinct=bool(nnd),
                comment=comment,
            )
        )

    for schema, name, labels, comment in rows["enums"]:
        snap.add_enum(EnumType(schema=schema, name=name, labels=list(labels), comment=comment))
    _add_other_kinds(snap, rows, by_oid)
    return snap


def _add_other_kinds(
    snap: Snapshot, rows: dict[str, list[tuple]], tables: dict[int, Table]
) -> None:
    sequences = live_kinds.add_sequences(snap, rows.get("sequences", []))
    live_kinds.add_domains(snap, rows.get("domains", []))
    live_kinds.add_composite_types(snap, rows.get("composite_types", []))
    live_kinds.add_range_types(snap, rows.get("range_types", []))
    functions = live_kinds.add_functions(snap, rows.get("functions", []))
    live_kinds.add_triggers(tables, rows.get("triggers", []))
    live_kinds.add_policies(tables, rows.get("policies", []))
    live_kinds.add_rules(tables, rows.get("rules", []))
    live_kinds.add_extensions(snap, rows.get("extensions", []))
    live_kinds.add_privileges(snap, rows.get("privileges", []), tables, sequences, functions)
    snap.schema_comments.update(rows.get("schema_comments", []))


def from_database(
    project_or_url: Project | str | Path,
    schemas: list[str] | None = None,
    *,
    parallel: bool = True,
) -> Snapshot:
    """Snapshot of a project's database, or of the database at a URL (read-only session;
    with ``parallel``, a second one reads part of the catalog at the same time)."""
    if isinstance(project_or_url, str) and "://" in project_or_url:
        from database_use.connection import db

        def open_url() -> Any:
            return db.connect(readonly=True, url=project_or_url)

        with open_url() as conn:
            return load_live(conn, schemas, open_side=open_url if parallel else None)
    if isinstance(project_or_url, (str, Path)):
        from database_use.project import open_project

        project_or_url = open_project(project_or_url)
    project = project_or_url

    def open_project_db() -> Any:
        return project.connect(readonly=True)

    with open_project_db() as conn:
        return load_live(conn, schemas, open_side=open_project_db if parallel else None)
