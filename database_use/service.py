"""The service functions every face calls: the CLI, the MCP tools and the guarded-change flow.

Each takes a :class:`~database_use.project.Project`, returns plain JSON-able dicts with stable keys
and never prints. Errors are raised as :mod:`database_use.errors` exceptions; the faces translate
them (CLI exit codes, MCP tool errors).

- :func:`introspect`   compact overview of the live schema (bounded size), or one table in full
- :func:`load_source`  a snapshot from ``db`` | ``models`` | ``doc``
- :func:`compare`      difference records between two sources
- :func:`generate_docs` write ``.roo/docs/database_schema.md`` from the live database
- :func:`validate`     is the doc what ``generate_docs`` would write now? (+ unlogged-change warning)
- :func:`report`       all three comparisons as JSON + Markdown under ``.roo/reports/``
- :func:`log_change`   append a dated entry to ``.roo/docs/pgdb_changes.md`` (atomic, append-only)
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from database_use.changes import changelog, ledger
from database_use.changes.changelog import LOG_HEADER, atomic_write  # noqa: F401 - re-exported
from database_use.compare import OBJECT_KINDS
from database_use.compare.not_modelled import not_modelled
from database_use.compare.records import describe
from database_use.errors import DatabaseUseError, DocParseError, InvalidRequest, NotFound
from database_use.paging import ANSWER_BUDGET, name_matcher, page  # noqa: F401 - re-exported
from database_use.project import Project
from database_use.schema import objects
from database_use.sources import alembic_state

if TYPE_CHECKING:  # pragma: no cover
    from database_use.schema.snapshot import Snapshot, Table

SOURCES = ("db", "models", "doc")
COMPARISONS = (("db", "models"), ("models", "doc"), ("db", "doc"))

# The overview's size budget (characters of JSON for the table entries). It keeps the default
# answer for a 1,000-table database well under ~32 KB (~8k tokens) whatever the table widths;
# a page ends at ``limit`` tables or at this budget, whichever comes first.
OVERVIEW_BUDGET = 24_000
VERBOSE_BUDGET = OVERVIEW_BUDGET  # verbose pages hold fewer tables, not more bytes
ENUM_BUDGET = 3_000
MAX_LIMIT = 5_000


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------
def _live(project: Project, schemas: list[str] | None = None) -> Snapshot:
    from database_use.sources.live import from_database

    return from_database(project, schemas=schemas, parallel=not _models_loading())


def _models_loading() -> bool:
    """A models child runs beside this process (``models.loading_ahead``): the live read then
    keeps to one session, leaving the other core to the child, which is the longer wait."""
    models = sys.modules.get("database_use.sources.models")  # not imported: nothing runs
    return models is not None and models.running_ahead()


def load_source(project: Project, which: str) -> Snapshot:
    """The snapshot of one source: ``db`` (live), ``models`` (models_*.py) or ``doc``."""
    if which == "db":
        return _live(project)
    if which == "models":
        from database_use.sources.models import load_models

        return load_models(project.root)
    if which == "doc":
        from database_use.sources.doc import load_doc

        if not project.doc_path.is_file():
            raise NotFound(
                f"the schema doc {_rel(project, project.doc_path)} does not exist; "
                "run generate-docs to create it from the live database"
            )
        return load_doc(project.doc_path)
    raise InvalidRequest(f"unknown source '{which}'; use one of: {', '.join(SOURCES)}")


def _check_pair(left: str, right: str) -> None:
    for side in (left, right):
        if side not in SOURCES:
            raise InvalidRequest(f"unknown source '{side}'; use one of: {', '.join(SOURCES)}")
    if left == right:
        raise InvalidRequest(f"compare needs two different sources, got '{left}' twice")


# ---------------------------------------------------------------------------------------------
# introspect
# ---------------------------------------------------------------------------------------------
_TYPE_ABBREVIATIONS = (
    ("character varying", "varchar"),
    ("timestamp with time zone", "timestamptz"),
    ("timestamp without time zone", "timestamp"),
    ("time with time zone", "timetz"),
    ("time without time zone", "time"),
    ("double precision", "float8"),
    ("character", "char"),
    ("integer", "int"),
    ("boolean", "bool"),
)


def abbreviate_type(type_: str) -> str:
    """Short spelling of a canonical PostgreSQL type for the compact overview."""
    for long, short in _TYPE_ABBREVIATIONS:
        if type_.startswith(long):
            return short + type_[len(long) :]
    return type_


def _rows(n: int | None) -> str:
    if n is None or n < 0:  # never analysed: say nothing rather than guess
        return ""
    if n >= 1_000_000:
        return f"~{n / 1_000_000:.1f}M rows"
    if n >= 1_000:
        return f"~{n / 1_000:.1f}k rows"
    return f"~{n} rows"


def _short_ref(ref_table: str) -> str:
    return ref_table[len("public.") :] if ref_table.startswith("public.") else ref_table


def table_summary(table: Table, verbose: bool = False) -> str:
    """One line: columns (type, PK/NN/UQ/FK markers), row estimate; verbose adds defaults, indexes."""
    pk = set(table.primary_key.columns) if table.primary_key else set()
    single_unique = {u.columns[0] for u in table.unique_constraints if len(u.columns) == 1}
    single_unique |= {i.columns[0] for i in table.indexes if i.unique and len(i.columns) == 1}
    fk_of: dict[str, str] = {}
    for fk in table.foreign_keys:
        if len(fk.columns) == 1:
            fk_of[fk.columns[0]] = f"→{_short_ref(fk.ref_table)}.{fk.ref_columns[0]}"
    parts = []
    for col in table.columns:
        bits = [col.name, abbreviate_type(col.type)]
        if col.name in pk:
            bits.append("PK")
        elif not col.nullable:
            bits.append("NN")
        if col.name in single_unique and col.name not in pk:
            bits.append("UQ")
        if col.name in fk_of:
            bits.append(fk_of[col.name])
        if verbose:
            if col.identity:
                bits.append(f"identity {col.identity}")
            if col.default is not None:
                bits.append(f"default {col.default}")
            if col.generated:
                bits.append(f"generated ({col.generated})")
        parts.append(" ".join(bits))
    line = ", ".join(parts)
    extras = []
    if table.primary_key and len(table.primary_key.columns) > 1:
        extras.append(f"PK({', '.join(table.primary_key.columns)})")
    for fk in table.foreign_keys:
        if len(fk.columns) > 1:
            extras.append(
                f"FK({', '.join(fk.columns)})→{_short_ref(fk.ref_table)}({', '.join(fk.ref_columns)})"
            )
    for uq in table.unique_constraints:
        if len(uq.columns) > 1:
            extras.append(f"UQ({', '.join(uq.columns)})")
    if verbose:
        for ix in table.indexes:
            desc = (
                f"{'unique ' if ix.unique else ''}index {ix.name or '?'}({', '.join(ix.columns)})"
            )
            if ix.method != "btree":
                desc += f" using {ix.method}"
            if ix.where:
                desc += f" where {ix.where}"
            extras.append(desc)
        extras.extend(f"check ({ck.expression})" for ck in table.check_constraints)
    if extras:
        line += "; " + "; ".join(extras)
    prefix = "" if table.kind == "table" else f"[{table.kind}] "
    rows = _rows(table.estimated_rows)
    return f"{prefix}{line} ({rows})" if rows else f"{prefix}{line}"


def _closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if len(close) < n:  # also substring matches: "user" should find "public.app_users"
        close += [c for c in pool if name.lower() in c.lower() and c not in close][: n - len(close)]
    return close


def _not_found(kind: str, name: str, candidates: Iterable[str]) -> NotFound:
    close = _closest(name, candidates)
    hint = f"closest: {', '.join(close)}" if close else "none is close"
    return NotFound(f"{kind} '{name}' not found ({hint})")


def _referenced_by(snapshot: Snapshot, qualified: str) -> list[dict[str, Any]]:
    out = []
    for other in sorted(snapshot.tables):
        for fk in snapshot.tables[other].foreign_keys:
            if fk.ref_table == qualified:
                out.append(
                    {
                        "table": other,
                        "columns": list(fk.columns),
                        "ref_columns": list(fk.ref_columns),
                        "name": fk.name,
                        "on_delete": fk.on_delete,
                    }
                )
    return out


def _enum_types_of(snapshot: Snapshot, table: Table) -> dict[str, list[str]]:
    used = {}
    for col in table.columns:
        base = col.type.removesuffix("[]")
        for key in (base, f"public.{base}"):
            if key in snapshot.enums:
                used[key] = list(snapshot.enums[key].labels)
    return used


def _table_filter(pattern: str | None, has_column: str | None) -> Any:
    """Tables whose qualified or bare name matches ``pattern`` and that have a column matching
    ``has_column`` (same pattern rules)."""
    by_name, by_column = name_matcher(pattern), name_matcher(has_column)

    def keep(key: str, table: Table) -> bool:
        if pattern and not (by_name(key) or by_name(table.name)):
            return False
        return not has_column or any(by_column(c.name) for c in table.columns)

    return keep


def introspect(
    project: Project,
    schema: str | None = None,
    table: str | None = None,
    verbose: bool = False,
    limit: int = 200,
    offset: int = 0,
    pattern: str | None = None,
    has_column: str | None = None,
    kind: str | None = None,
    object: str | None = None,  # the argument's name on every face (shadows the builtin here)
) -> dict[str, Any]:
    """The live schema: a bounded overview (a line per table, paged), the objects of one
    ``kind`` (paged), one table in full (``table=``), or any object in full (``object=``).

    ``pattern`` keeps tables (or objects of ``kind``) whose name matches (glob or substring),
    ``has_column`` tables with a matching column. Overview keys: ``schema_hash``,
    ``server_version``, ``schemas``, ``table_count`` (in scope, after the filters; partitions
    are counted under their parent), ``counts`` (objects of the other kinds), ``offset``,
    ``returned``, ``truncated``, ``next_offset``, ``tables`` (``[{"name", "summary"}]``),
    ``enums`` (``[{"name", "labels"}]``), ``note``. Listing keys (``kind=``): ``kind``,
    ``count`` and ``objects`` (``[{"name", "summary"}]``) plus the paging keys. Detail keys
    (``table=``): ``schema_hash``, ``server_version``, ``table`` (the full table, with its
    partitioning, RLS, triggers, policies, rules and grants), ``partitions``,
    ``referenced_by``, ``enums``; (``object=``, not a table): ``kind``, ``name``, ``object``.
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise InvalidRequest(f"offset must be >= 0, got {offset}")
    if sum(x is not None for x in (table, kind, object)) > 1:
        raise InvalidRequest("give one of table=, kind= and object=, not several")
    if kind is not None:
        kind = objects.kind_argument(kind)
    tier = _tier_ahead(project)
    if object is not None:
        return {"tier": tier(), **_introspect_object(project, schema, object)}
    schemas = [schema] if schema else None
    try:
        if table and not schema and "." in table and not table.startswith('"'):
            # "audit.events": read only that schema; if it is no schema, read them all
            schemas = [table.split(".", 1)[0]]
            try:
                snap = _live(project, schemas)
            except NotFound:
                schemas = None
                snap = _live(project)
        else:
            snap = _live(project, schemas)
    except NotFound as exc:
        if schema and "schema" in str(exc):
            raise _not_found("schema", schema, _live(project).schemas) from None
        raise
    if table:
        return {"tier": tier(), **_introspect_table(project, snap, table, schemas)}
    if kind:
        return {"tier": tier(), **_list_kind(snap, kind, limit, offset, pattern)}
    result = _overview(snap, schema, verbose, limit, offset, _table_filter(pattern, has_column))
    if schemas is None:  # the whole database read: alembic_version is in it when it exists
        # whether the database is at the head of the project's migrations (None: no alembic)
        result["alembic"] = alembic_state.status(project, snap)
    return {"tier": tier(), **result}


def _tier(project: Project) -> str:
    """The header line: which tier (T1/T2/T3) this setup gives (database_use.doctor)."""
    from database_use import doctor

    return doctor.cached_header(project)


def _tier_ahead(project: Project) -> Any:
    """:func:`_tier`, started in a thread; the returned call waits for it and gives the line
    (or raises what it raised). Its role check and sandbox probe wait on the database and on
    bubblewrap, which they now do while the live read runs instead of after it."""
    import threading

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["line"] = _tier(project)
        except BaseException as exc:  # handed to the caller, who raises it
            box["error"] = exc

    worker = threading.Thread(target=work, name="database-use tier", daemon=True)
    worker.start()

    def result() -> str:
        worker.join()
        if "error" in box:
            raise box["error"]
        return box["line"]

    return result


def _introspect_table(
    project: Project, snap: Snapshot, name: str, schemas: list[str] | None
) -> dict[str, Any]:
    found = snap.table(name)
    if found is None and schemas:  # "x.y" that is not schema.table: look everywhere
        snap = _live(project)
        found = snap.table(name)
    if found is None:
        # match on bare and qualified names, suggest qualified ones
        by_bare: dict[str, list[str]] = {}
        for key, t in snap.tables.items():
            by_bare.setdefault(t.name, []).append(key)
        close: list[str] = []
        for hit in _closest(name, list(snap.tables) + list(by_bare)):
            for key in by_bare.get(hit, [hit]):
                if key not in close:
                    close.append(key)
        hint = f"closest: {', '.join(close[:5])}" if close else "none is close"
        other = objects.find(snap, name)
        if len(other) == 1:  # a function, sequence, trigger ... of that name
            kind, key, _ = other[0]
            raise NotFound(
                f"'{name}' is a {objects.singular(kind)}, not a table: ask for it as an "
                f"object, {key} (CLI --object, MCP object=)"
            )
        raise NotFound(f"table '{name}' not found ({hint})")
    return _table_detail(snap, found)


def _table_detail(snap: Snapshot, found: Table) -> dict[str, Any]:
    return {
        "schema_hash": snap.schema_hash(),
        "server_version": snap.server_version,
        "table": asdict(found),
        "partitions": [
            {"name": p.qualified_name, "bound": p.partition_bound, "partition_key": p.partition_key}
            for p in snap.partitions_of(found.qualified_name)
        ],
        "referenced_by": _referenced_by(snap, found.qualified_name),
        "enums": _enum_types_of(snap, found),
    }


def _introspect_object(project: Project, schema: str | None, name: str) -> dict[str, Any]:
    """One object of any kind in full, by name (a function by signature or bare name)."""
    if not name.strip():
        raise InvalidRequest("object= needs a name, e.g. shop.add_tax(integer) or users")
    try:
        snap = _live(project, [schema] if schema else None)
    except NotFound:
        raise _not_found("schema", schema or "", _live(project).schemas) from None
    found = objects.find(snap, name)
    if not found:
        every = [key for kind in objects.LISTED_KINDS for key, _ in objects.objects_of(snap, kind)]
        raise _not_found("object", name, every)
    if len(found) > 1:
        listed = ", ".join(f"{key} ({objects.singular(kind)})" for kind, key, _ in found[:10])
        raise InvalidRequest(f"'{name}' names {len(found)} objects: {listed}; give one of them")
    kind, key, obj = found[0]
    if kind in ("tables", "views", "partitions"):
        return _table_detail(snap, obj)
    return {
        "schema_hash": snap.schema_hash(),
        "server_version": snap.server_version,
        "kind": objects.singular(kind),
        "name": key,
        "object": objects.detail(kind, obj),
    }


def _list_kind(
    snap: Snapshot, kind: str, limit: int, offset: int, pattern: str | None
) -> dict[str, Any]:
    """One page of the objects of one kind, a line each."""
    matches = name_matcher(pattern)
    items = []
    for key, obj in objects.objects_of(snap, kind):
        if pattern and not (matches(key) or matches(getattr(obj, "name", key))):
            continue
        line = (
            table_summary(obj)
            if kind in ("tables", "views", "partitions")
            else objects.summary(kind, obj)
        )
        if kind == "partitions":
            line = f"{obj.partition_bound} of {obj.partition_of}: {line}"
        items.append({"name": key, "summary": line})
    paged = page(items, offset, limit, OVERVIEW_BUDGET, what=kind.replace("_", " "))
    note = paged["note"] or (f"{len(items)} {kind.replace('_', ' ')}; one in full with object=NAME")
    return {
        "schema_hash": snap.schema_hash(),
        "server_version": snap.server_version,
        "kind": kind,
        "count": len(items),
        "offset": paged["offset"],
        "returned": paged["returned"],
        "truncated": paged["truncated"],
        "next_offset": paged["next_offset"],
        "objects": paged["page"],
        "note": note,
    }


def _overview(
    snap: Snapshot,
    schema: str | None,
    verbose: bool,
    limit: int,
    offset: int,
    keep: Any = None,
) -> dict[str, Any]:
    # partitions are counted on their parent's line, not listed (kind=partitions lists them)
    names = sorted(
        key
        for key, t in snap.tables.items()
        if not t.is_partition and (keep is None or keep(key, t))
    )
    children: dict[str, list[str]] = {}
    for key, t in snap.tables.items():
        if t.partition_of is not None:
            children.setdefault(t.partition_of, []).append(key)
    budget = VERBOSE_BUDGET if verbose else OVERVIEW_BUDGET
    entries: list[dict[str, str]] = []
    used = 0
    for qualified in names[offset : offset + limit]:
        table = snap.tables[qualified]
        line = table_summary(table, verbose)
        if table.partition_key:
            line += _partition_note(table, children)
        entry = {"name": qualified, "summary": line}
        size = len(json.dumps(entry, ensure_ascii=False)) + 2
        if entries and used + size > budget:
            break
        if not entries and size > budget:  # one giant table: still show it, shortened
            entry["summary"] = entry["summary"][: budget - 200] + " … (use table= for all)"
        entries.append(entry)
        used += size
    enums: list[dict[str, Any]] = []
    enum_used = 0
    enums_truncated = False
    for key in sorted(snap.enums):
        item = {"name": key, "labels": list(snap.enums[key].labels)}
        enum_used += len(json.dumps(item, ensure_ascii=False)) + 2
        if enum_used > ENUM_BUDGET and not verbose:
            enums_truncated = True
            break
        enums.append(item)
    end = offset + len(entries)
    truncated = end < len(names)
    scope = f" in schema {schema}" if schema else ""
    partitions = sum(len(v) for v in children.values())
    if len(names) != len(snap.tables) - partitions:
        scope += " matching the filters"
    if not names:
        note = f"no tables{scope}"
    elif truncated:
        cut = (
            f" (the page stopped at the ~{budget // 1000} KB size budget before limit={limit})"
            if len(entries) < limit
            else ""
        )
        note = (
            f"tables {offset + 1}-{end} of {len(names)}{scope}{cut}; ask for more with "
            f"offset={end}, for one table in full with table=NAME, or narrow with "
            "pattern=, has_column= or schema="
        )
    else:
        note = (
            f"tables {offset + 1 if entries else offset}-{end} of {len(names)}{scope}; "
            "for one table in full (defaults, indexes, constraints, comments) use table=NAME"
        )
    if enums_truncated:
        note += f"; {len(snap.enums) - len(enums)} more enums not shown (use verbose)"
    counts = objects.counts(snap)
    if counts:
        note += "; list the objects of one kind with kind=KIND, one in full with object=NAME"
    return {
        "schema_hash": snap.schema_hash(),
        "server_version": snap.server_version,
        "schemas": sorted(snap.schemas),
        "table_count": len(names),
        "enum_count": len(snap.enums),
        "counts": counts,
        "offset": offset,
        "returned": len(entries),
        "truncated": truncated,
        "next_offset": end if truncated else None,
        "tables": entries,
        "enums": enums,
        "note": note,
    }


def _partition_note(table: Table, children: dict[str, list[str]]) -> str:
    """ "; RANGE (placed_at), 2 partitions (4 in the tree)" for a partitioned table's line."""
    direct = len(children.get(table.qualified_name, []))
    total, todo = 0, list(children.get(table.qualified_name, []))
    while todo:
        total += 1
        todo.extend(children.get(todo.pop(), []))
    note = f"; partitioned {table.partition_key}, {direct} partition{'s' * (direct != 1)}"
    return note + (f" ({total} in the tree)" if total != direct else "")


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------
def compare_snapshots(
    left: Snapshot,
    right: Snapshot,
    left_name: str,
    right_name: str,
    bookkeeping: tuple[str, ...] | None = None,
    db: Snapshot | None = None,
) -> dict:
    """Difference records of two snapshots; ``db`` (the live one, when known) lets a models ↔
    doc record say when the doc only mirrors the database and generate-docs cannot fix it.

    With the models on one side, ``not_modelled`` lists once per kind what the other side
    holds that models cannot declare (triggers, functions, partitions, ...): information,
    never counted as a difference, so it never fails a compare."""
    from database_use.compare.diff import BOOKKEEPING_TABLES, diff, explain_doc_follows_db

    bookkeeping = BOOKKEEPING_TABLES if bookkeeping is None else bookkeeping
    records = diff(left, right, bookkeeping=bookkeeping)
    if db is not None and {left.source, right.source} == {"models", "doc"} and records:
        models = left if left.source == "models" else right
        explain_doc_follows_db(records, diff(db, models, bookkeeping=bookkeeping))
    differences = [d.to_dict() for d in records]
    result: dict[str, Any] = {
        "left": left_name,
        "right": right_name,
        "count": len(differences),
        "differences": differences,
    }
    if "models" in (left.source, right.source):
        result["not_modelled"] = not_modelled(left, right, left_name, right_name)
    return result


def filter_differences(
    records: list[dict[str, Any]], table: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Differences of the tables matching ``table`` (glob or substring; enums have none) and of
    one object kind (``column``, ``index``...)."""
    if kind and kind not in OBJECT_KINDS:
        raise InvalidRequest(f"unknown object kind {kind!r}; use one of: {', '.join(OBJECT_KINDS)}")
    matches = name_matcher(table)
    out = []
    for record in records:
        if kind and record.get("object") != kind:
            continue
        name = record.get("table") or ""
        if table and not (matches(name) or matches(name.rsplit(".", 1)[-1])):
            continue
        out.append(record)
    return out


def compare(
    project: Project,
    left: str,
    right: str,
    *,
    table: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    budget: int | None = None,
) -> dict[str, Any]:
    """Difference records between two sources (``db`` | ``models`` | ``doc``).

    ``table`` / ``kind`` keep the differences of matching tables / of one object kind;
    ``limit``, ``offset`` and ``budget`` (bytes) page them (``count`` is all that matched,
    ``total`` all before the filters). With the live database on one side, ``alembic`` says
    whether it is at the head revision of the project's migrations (None when neither uses
    alembic).
    """
    _check_pair(left, right)
    snaps = {side: load_source(project, side) for side in (left, right)}
    db = snaps.get("db")
    if db is None:
        try:
            db = _live(project)
        except DatabaseUseError:  # no database reachable: the doc's fixes stay as they are
            db = None
    result = compare_snapshots(
        snaps[left], snaps[right], left, right, alembic_state.bookkeeping_tables(project), db
    )
    if "models" in snaps:  # how the models code ran: "sandbox", "cache" or not sandboxed
        result["models_load"] = getattr(snaps["models"], "loaded_in", None)
    if "db" in snaps:
        result["alembic"] = alembic_state.status(project, snaps["db"])
    if table or kind or limit is not None or offset or budget is not None:
        total = result["count"]
        matched = filter_differences(result["differences"], table, kind)
        paged = page(matched, offset, limit, budget, what="differences")
        result.update(
            total=total,
            count=len(matched),
            differences=paged.pop("page"),
            **{k: v for k, v in paged.items() if k != "note" or v},
        )
    return result


# ---------------------------------------------------------------------------------------------
# the doc: generate / validate
# ---------------------------------------------------------------------------------------------
def _rel(project: Project, path: Path) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _render_live(project: Project) -> tuple[Snapshot, str, bytes]:
    """The live snapshot, its hash (computed once: it is costly on large schemas), the doc."""
    from database_use.render.doc import render_doc

    snap = _live(project)
    schema_hash = snap.schema_hash()
    return snap, schema_hash, render_doc(snap, schema_hash=schema_hash).encode("utf-8")


def generate_docs(project: Project) -> dict[str, Any]:
    """Write the schema doc from the live database, only when its content changed."""
    snap, schema_hash, content = _render_live(project)
    path = project.doc_path
    old = path.read_bytes() if path.is_file() else None
    changed = old != content
    if changed:
        atomic_write(path, content)
    return {
        "path": _rel(project, path),
        "changed": changed,
        "schema_hash": schema_hash,
        "tables": sum(1 for t in snap.tables.values() if not t.is_partition),
        "partitions": sum(1 for t in snap.tables.values() if t.is_partition),
        "enums": len(snap.enums),
    }


def _finish_pending(project: Project) -> Any:
    """``changes.pipeline.finish_pending``; the apply pipeline is imported only when a
    journal is left (one directory listing tells), which validate's start-up need not pay."""
    from database_use.changes import journal

    if not journal.pending(project):
        return journal.Pending()
    from database_use.changes.pipeline import finish_pending

    return finish_pending(project)


CHANGES_NAMED = 3  # differences validate's message names before "and N more"


def what_changed(differences: list[dict[str, Any]], shown: int = CHANGES_NAMED) -> str:
    """``trigger shop.products.products_audit is in the database but not in the doc; ...``"""
    text = "; ".join(describe(d) for d in differences[:shown])
    more = len(differences) - shown
    return text + (f"; and {more} more" if more > 0 else "")


def validate(project: Project) -> dict[str, Any]:
    """Is the doc byte-identical to what generate-docs would write now? Differences if not.

    Keys: ``ok``, ``differences`` (db vs doc records), ``schema_hash`` (live), ``doc_hash``
    (the schema hash in the doc's header, else of its parsed content; null when missing),
    ``warnings``, ``doc_path``, ``message`` (one line), ``log_chain`` (the change log's hash
    chain: an edited, removed or moved past entry makes ``ok`` false and is named), and only
    when the database has strict mode's ledger, ``ledger`` (:func:`ledger.check`: a log that
    disagrees with it makes ``ok`` false; a live schema that differs from its last row warns).
    """
    pending = _finish_pending(project)  # an apply a crash left half done is finished first
    snap, live_hash, content = _render_live(project)
    path = project.doc_path
    warnings: list[str] = list(pending.warnings)
    differences: list[dict[str, Any]] = []
    doc_hash: str | None = None
    if not path.is_file():
        ok = False
        message = f"{_rel(project, path)} does not exist: run generate-docs to create it"
        warnings.append(message)
    else:
        current = path.read_bytes()
        if current == content:
            ok, doc_hash = True, live_hash
            message = f"{_rel(project, path)} is current with the live database"
        else:
            ok = False
            from database_use.sources.doc import doc_header_hash, parse_doc

            text = current.decode("utf-8", errors="replace")
            doc_hash = doc_header_hash(text)
            try:
                doc_snap = parse_doc(text)
            except DocParseError as exc:
                message = (
                    f"{_rel(project, path)} does not parse ({exc}); run generate-docs to rewrite it"
                )
                warnings.append(message)
            else:
                doc_hash = doc_hash or doc_snap.schema_hash()
                differences = compare_snapshots(snap, doc_snap, "db", "doc")["differences"]
                if differences:
                    message = (
                        f"{_rel(project, path)} is stale: {len(differences)} difference(s) "
                        f"with the live database ({what_changed(differences)}); run generate-docs"
                    )
                else:
                    message = (
                        f"{_rel(project, path)} differs from what generate-docs writes "
                        "(hand edits or an older generator) though the schema facts "
                        "match; run generate-docs"
                    )
    logged = last_logged_schema_hash(project)
    if logged and logged != live_hash:
        warnings.append(
            f"live schema changed since the last logged change (hash {live_hash}, logged "
            f"{logged}): a change nobody logged? Log it with log-change"
        )
    chain = check_log_chain(project)
    if chain is not None and not chain["ok"]:
        if ok:
            ok, message = False, chain["message"]
        else:
            warnings.append(chain["message"])
    held = ledger.check(project, live_hash)  # strict mode's record; None: there is none
    if held is not None:
        warnings.extend(held["warnings"])
        if not held["ok"]:
            if ok:
                ok, message = False, held["message"]
            else:
                warnings.append(held["message"])
    return {
        "ok": ok,
        **pending.as_dict(),
        **({"ledger": held} if held is not None else {}),
        "log_chain": chain,
        "differences": differences,
        "schema_hash": live_hash,
        "doc_hash": doc_hash,
        "warnings": warnings,
        "doc_path": _rel(project, path),
        "message": message,
    }


# ---------------------------------------------------------------------------------------------
# the doc in parts (the MCP resources): whole, one section, one table, or an index
# ---------------------------------------------------------------------------------------------
def doc_text(project: Project) -> str:
    """The generated schema doc; NotFound naming the command that creates it."""
    path = project.doc_path
    if not path.is_file():
        raise NotFound(
            f"the schema doc {_rel(project, path)} does not exist yet; run generate-docs to "
            "create it from the live database"
        )
    return path.read_text(encoding="utf-8")


def _doc_lines(text: str) -> list[tuple[str, bool]]:
    """Each line of the doc and whether it is inside a fenced code block (a view definition or
    a function body may hold lines that look like headings)."""
    out: list[tuple[str, bool]] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is None:
            out.append((line, False))
            fence = _fence_opened(line)
        else:
            out.append((line, True))
            if line.rstrip() == fence:
                fence = None
    return out


def _fence_opened(line: str) -> str | None:
    """The fence a line opens (three or more backticks, then an info word), else None."""
    line = line.rstrip()
    fence = line[: len(line) - len(line.lstrip("`"))]
    info = line[len(fence) :]
    if len(fence) < 3 or not all(ch.isalnum() or ch in "_-" for ch in info):
        return None
    return fence


def _doc_sections(text: str) -> list[tuple[str, str]]:
    """``[(title, text)]`` of the doc's ``## `` sections; the part before them is "Header"."""
    sections: list[tuple[str, list[str]]] = [("Header", [])]
    for line, fenced in _doc_lines(text):
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip("\n") + "\n") for title, lines in sections]


def _doc_tables(text: str) -> dict[str, str]:
    """Each table's (or view's, or other object's) block of the doc, by the name its ``### ``
    heading shows."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    anchor: str | None = None
    for line, fenced in _doc_lines(text):
        if fenced:
            if current is not None:
                current.append(line)
            continue
        if line.startswith("<a id="):
            anchor = line
            continue
        if line.startswith("### "):
            current = blocks.setdefault(line[4:].strip(), [])
            if anchor:
                current.append(anchor)
            current.append(line)
        elif line.startswith("## "):
            current = None
        elif current is not None:
            current.append(line)
        anchor = None
    return {name: "\n".join(lines).strip("\n") + "\n" for name, lines in blocks.items()}


def _section_key(title: str) -> str:
    """Section names match in any case and with ``-``, ``_`` or ``%20`` for the space."""
    for sep in ("%20", "-", "_"):
        title = title.replace(sep, " ")
    return " ".join(title.lower().split())


def _cut(text: str, budget: int, rest: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text
    # Room for the closing note, so the whole answer stays within the budget.
    kept = data[: budget - 500].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
    return f"{kept}\n\n… cut at the ~{budget // 1000} KB size budget ({len(data):,} bytes in all); {rest}\n"


def doc_part(
    project: Project,
    table: str | None = None,
    section: str | None = None,
    budget: int | None = ANSWER_BUDGET,
) -> str:
    """The schema doc, or one table's part of it, or one ``## `` section; each within ``budget``
    bytes (None: no limit). The whole doc over budget answers as an index: the header, the
    sections with their sizes and how to read each part."""
    text = doc_text(project)
    whole = f"the whole doc is {_rel(project, project.doc_path)}"
    if table:
        blocks = _doc_tables(text)
        bare = table.removeprefix("public.")
        found = blocks.get(table) or blocks.get(bare) or blocks.get(f"public.{bare}")
        if found is None:
            raise _not_found("table in the doc", table, blocks)
        return _cut(found, budget, whole) if budget else found
    sections = _doc_sections(text)
    if section:
        by_title = {_section_key(title): body for title, body in sections}
        found = by_title.get(_section_key(section))
        if found is None:
            raise _not_found("doc section", section, [title for title, _ in sections])
        rest = f"read one table with schema://doc/tables/{{name}}; {whole}"
        return _cut(found, budget, rest) if budget else found
    size = len(text.encode("utf-8"))
    if budget is None or size <= budget:
        return text
    lines = [
        sections[0][1].rstrip("\n"),
        "",
        f"This doc is {size:,} bytes, over the ~{budget // 1000} KB an answer may take, so "
        "here is its index. Read a part:",
        "",
    ]
    for title, body in sections[1:]:
        lines.append(
            f"- schema://doc/sections/{title.replace(' ', '%20')} ({len(body.encode('utf-8')):,} bytes)"
        )
    lines += [
        "- schema://doc/tables/{name}: one table (names: introspect, with pattern= to search)",
        f"- schema://doc/full: all of it ({size:,} bytes); {whole}",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def _load_or_error(project: Project, which: str) -> tuple[Snapshot | None, str | None]:
    from database_use.errors import DatabaseUseError
    from database_use.settings import mask_url

    try:
        return load_source(project, which), None
    except DatabaseUseError as exc:
        return None, mask_url(" ".join(str(exc).split()))


def build_report(project: Project, now: datetime | None = None) -> dict[str, Any]:
    """The report's data: the three comparisons; a source that fails becomes an error entry."""
    now = now or datetime.now(UTC)
    snaps: dict[str, Snapshot | None] = {}
    errors: dict[str, str | None] = {}
    for which in SOURCES:
        snaps[which], errors[which] = _load_or_error(project, which)
    comparisons = []
    for left, right in COMPARISONS:
        entry: dict[str, Any] = {"left": left, "right": right}
        failed = [f"{w}: {errors[w]}" for w in (left, right) if errors[w]]
        if failed:
            entry.update(error="; ".join(failed), count=None, differences=[])
        else:
            result = compare_snapshots(
                snaps[left],  # type: ignore[arg-type]
                snaps[right],  # type: ignore[arg-type]
                left,
                right,
                alembic_state.bookkeeping_tables(project),
                snaps["db"],
            )
            entry.update(error=None, count=result["count"], differences=result["differences"])
        comparisons.append(entry)
    live = snaps["db"]
    return {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "project_root": str(project.root),
        "schema_hash": live.schema_hash() if live is not None else None,
        "sources": {w: {"ok": errors[w] is None, "error": errors[w]} for w in SOURCES},
        "comparisons": comparisons,
        "summary": _report_summary(comparisons),
    }


def _report_summary(comparisons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ok": all(c["error"] is None and c["count"] == 0 for c in comparisons),
        "total_differences": sum(c["count"] or 0 for c in comparisons),
        "errors": sum(1 for c in comparisons if c["error"]),
        "comparisons": [
            {"left": c["left"], "right": c["right"], "count": c["count"], "error": c["error"]}
            for c in comparisons
        ],
    }


def write_report_files(
    data: dict[str, Any], directory: Path, stem: str, latest: str = "latest"
) -> tuple[Path, Path]:
    """Write ``data`` as ``<stem>-<time>.json``/``.md`` plus ``<latest>.json``/``.md``."""
    from database_use.render.report import render_report_markdown

    stamp = data["generated_at"].replace("-", "").replace(":", "")
    as_json = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    as_md = render_report_markdown(data).encode("utf-8")
    json_path = directory / f"{stem}-{stamp}.json"
    md_path = directory / f"{stem}-{stamp}.md"
    for path, payload in (
        (json_path, as_json),
        (md_path, as_md),
        (directory / f"{latest}.json", as_json),
        (directory / f"{latest}.md", as_md),
    ):
        atomic_write(path, payload)
    return json_path, md_path


def report(project: Project) -> dict[str, Any]:
    """All three comparisons, written as JSON + Markdown under ``.roo/reports/``."""
    data = build_report(project)
    json_path, md_path = write_report_files(data, project.reports_dir, "schema-report")
    return {
        "json_path": _rel(project, json_path),
        "markdown_path": _rel(project, md_path),
        "latest_json": _rel(project, project.reports_dir / "latest.json"),
        "latest_markdown": _rel(project, project.reports_dir / "latest.md"),
        "summary": data["summary"],
    }


# ---------------------------------------------------------------------------------------------
# the change log
# ---------------------------------------------------------------------------------------------
def log_change(
    project: Project,
    summary: str,
    details: str = "",
    tables: Iterable[str] = (),
    sql: str | None = None,
    extra: dict[str, Any] | None = None,
    record_hash: bool = False,
    not_in_db: bool = False,
) -> dict[str, Any]:
    """Append a dated entry to ``.roo/docs/pgdb_changes.md`` (created with a header if missing).

    The append is atomic (temp file + ``os.replace``, old content verified as an unchanged
    prefix), hash-chained, and never rewrites old entries; see
    :mod:`database_use.changes.changelog` for the format. ``extra`` keys: proposal_id,
    approved_by, approval_channel, schema_hash_before, schema_hash_after. With
    ``record_hash`` (the CLI's default) the live schema hash is recorded as "after" when not
    given, so ``validate`` can later tell this logged state from a change nobody logged.

    ``tables`` must exist in the live database (NotFound naming close matches, nothing
    written); ``not_in_db`` logs those that do not, marked "not in the live DB" (a table
    dropped or renamed away). An unreachable database only skips the hash and marks the
    tables "not checked" (see ``note``). Waits a few seconds at most for the log's lock
    (LockTimeout, nothing written).
    """
    from database_use.errors import DatabaseUseError
    from database_use.settings import mask_url

    summary, names, clean = changelog.validate_entry_args(summary, details, tables, sql, extra)
    pending = _finish_pending(project)  # an apply left half done goes first: the log in order
    snap = None
    unreachable = None
    if names or (record_hash and not clean.get("schema_hash_after")):
        try:
            snap = _live(project)
        except DatabaseUseError as exc:
            unreachable = mask_url(" ".join(str(exc).split()))
    table_notes: dict[str, str] = {}
    if snap is not None:
        names, table_notes = _check_tables(snap, names, not_in_db)
        if record_hash and not clean.get("schema_hash_after"):
            clean["schema_hash_after"] = snap.schema_hash()
    elif names:
        table_notes = {name: "not checked: database unreachable" for name in names}
    note = None
    if unreachable:
        note = f"schema hash not recorded ({unreachable})" if record_hash else None
        if names:
            note = (note + "; " if note else "") + (
                f"tables not checked against the live database ({unreachable})"
            )
    result = append_log_entry(
        project,
        summary,
        details=details,
        tables=names,
        sql=sql,
        extra=clean,
        table_notes=table_notes,
    )
    result["note"] = note
    result["warnings"] = pending.warnings + result["warnings"]
    if pending.finished:
        result["finished"] = pending.finished
    return result


def _check_tables(
    snap: Snapshot, names: list[str], not_in_db: bool
) -> tuple[list[str], dict[str, str]]:
    """The tables as the live database names them; unknown ones refused unless ``not_in_db``."""
    resolved: list[str] = []
    marks: dict[str, str] = {}
    for name in names:
        table = snap.table(name) or snap.table(name.replace('"', ""))
        if table is not None:
            resolved.append(table.qualified_name)
            continue
        if not not_in_db:
            by_bare: dict[str, list[str]] = {}
            for key, known in snap.tables.items():
                by_bare.setdefault(known.name, []).append(key)
            close = list(
                dict.fromkeys(
                    key
                    for hit in _closest(name, list(snap.tables) + list(by_bare))
                    for key in by_bare.get(hit, [hit])
                )
            )[:5]
            hint = f"closest: {', '.join(close)}" if close else "none is close"
            raise NotFound(
                f"table '{name}' is not in the live database ({hint}); nothing was logged. "
                "Name an existing table, or mark a dropped or renamed one as not in the "
                "live DB (CLI --not-in-db, MCP not_in_db=true)"
            )
        resolved.append(name)
        marks[name] = "not in the live DB"
    return resolved, marks


def append_log_entry(
    project: Project,
    summary: str,
    details: str = "",
    tables: Iterable[str] = (),
    sql: str | None = None,
    extra: dict[str, Any] | None = None,
    *,
    table_notes: dict[str, str] | None = None,
    when: datetime | None = None,
    unless_proposal: str | None = None,
) -> dict[str, Any]:
    """Append one chained entry as given (arguments validated, tables NOT checked against the
    database: the apply path logs its own verified table). ``unless_proposal``: nothing is
    appended when that proposal's entry is already there (``skipped``)."""
    summary, names, clean = changelog.validate_entry_args(summary, details, tables, sql, extra)
    when = when or datetime.now(UTC)
    entry = changelog.format_log_entry(summary, when, names, details or "", sql, clean, table_notes)
    path = project.changes_log_path
    done = changelog.append_entry(path, entry, unless_proposal=unless_proposal)
    return {
        "path": _rel(project, path),
        "created": done.created,
        "skipped": done.skipped,
        "logged_at": when.strftime("%Y-%m-%d %H:%M UTC"),
        "schema_hash_after": clean.get("schema_hash_after"),
        "chain": done.chain,
        "note": None,
        "warnings": done.warnings,
        "entry": entry,
    }


def last_logged_schema_hash(project: Project) -> str | None:
    """The "after" schema hash of the newest log entry that carries one (None if none)."""
    return changelog.last_after_hash(project.changes_log_path)


def check_log_chain(project: Project) -> dict[str, Any] | None:
    """The change log's hash chain (see :func:`changelog.check_chain`); None without a log."""
    parsed = changelog.read_log(project.changes_log_path)
    if parsed is None:
        return None
    checked = changelog.check_chain(parsed)
    return {
        "ok": checked.ok,
        "entries": checked.entries,
        "chained": checked.chained,
        "breaks": checked.breaks,
        "message": checked.message(),
    }
