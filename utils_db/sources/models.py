"""The models source: a snapshot of what ``create_all`` would build from ``models/models_*.py``.

Files are loaded by path from the project root, with the process left as it was found: the
shared ``db`` gets a fresh declarative base for the load (then its own back), ``models`` /
``models.*`` entries in ``sys.modules`` are stashed and restored, and modules of the project
imported on the way are dropped again. So one process (tests, the MCP server) can load
several projects, or the repo's own already-imported ``models`` package, without "Table
already defined" and without one load leaking into the next.

Every ``MetaData`` reachable from the loaded modules counts: ``db.Model.metadata`` and any
other declarative base, ``MetaData`` or ``Table`` a file defines. Types are compiled with the
PostgreSQL dialect, names follow the naming convention as ``create_all`` would render them.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import traceback
import types
from pathlib import Path
from typing import Any

from utils_db.errors import ModelLoadError, NotFound
from utils_db.normalize import (
    index_key,
    normalize_default,
    normalize_expression,
    normalize_type,
    quote_ident,
)
from utils_db.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    UniqueConstraint,
)

_LOCK = threading.Lock()  # sys.modules / sys.path / db are process-wide
_PACKAGE = "models"


def load_models(project_root: str | Path, *, use_cache: bool = True) -> Snapshot:
    """Snapshot of every table defined by ``<project_root>/models/models_*.py``.

    Served from ``.roo/cache/`` when no file that shaped it changed (see ``models_cache``).
    """
    root = Path(project_root).expanduser().resolve()
    models_dir = root / "models"
    files = sorted(models_dir.glob("models_*.py")) if models_dir.is_dir() else []
    if not files:
        raise NotFound(f"no models/models_*.py files under {root}")
    from utils_db.sources import models_cache

    use_cache = use_cache and models_cache.enabled()
    if use_cache and (cached := models_cache.read(root, files)) is not None:
        return cached
    with _LOCK:
        metadatas, origins, deps = _load_files(root, models_dir, files)
    snap = from_metadata(*metadatas)
    # Where each table is declared, for fixes that name the file and class (not serialised).
    snap.model_origins = {k: v for k, v in origins.items() if k in snap.tables}  # type: ignore[attr-defined]
    if use_cache:
        models_cache.write(root, files, deps, snap)
    return snap


def _load_files(
    root: Path, models_dir: Path, files: list[Path]
) -> tuple[list[Any], dict[str, tuple[str, str | None]], list[Path]]:
    from utils_db.database import db

    saved_model = db._model
    saved_path = list(sys.path)
    stashed = {
        k: v for k, v in sys.modules.items() if k == _PACKAGE or k.startswith(_PACKAGE + ".")
    }
    before = set(sys.modules)
    for key in stashed:
        del sys.modules[key]
    db._model = None  # a fresh base: the files register their tables on a new MetaData
    loaded: list[types.ModuleType] = []
    deps: list[Path] = []  # project files executed by this load: what the cache depends on
    try:
        sys.path.insert(0, str(root))
        # A bare package for models/: its __init__.py is not run (it may import an app);
        # the files are imported under their real names so cross-imports share one module.
        package = types.ModuleType(_PACKAGE)
        package.__path__ = [str(models_dir)]
        package.__file__ = str(models_dir / "__init__.py")
        sys.modules[_PACKAGE] = package
        for path in files:
            try:
                loaded.append(importlib.import_module(f"{_PACKAGE}.{path.stem}"))
            except Exception as exc:  # any import-time error of user code
                raise _load_error(exc, path, root) from None
        metadatas = _collect_metadata(loaded, db._model)
        origins = _origins(loaded, root)
    finally:
        db._model = saved_model
        sys.path[:] = saved_path
        for key in list(sys.modules):
            if key not in before and _belongs_to(sys.modules.get(key), root, key):
                file = getattr(sys.modules.get(key), "__file__", None)
                if file and Path(file).resolve().is_relative_to(root):
                    deps.append(Path(file).resolve())
                del sys.modules[key]
        for key in [k for k in sys.modules if k == _PACKAGE or k.startswith(_PACKAGE + ".")]:
            del sys.modules[key]
        sys.modules.update(stashed)
    return metadatas, origins, deps


def _origins(modules: list[types.ModuleType], root: Path) -> dict[str, tuple[str, str | None]]:
    from sqlalchemy import Table as SATable

    found: dict[str, tuple[str, str | None]] = {}
    for module in modules:
        for value in vars(module).values():
            table = getattr(value, "__table__", None) if isinstance(value, type) else value
            if not isinstance(table, SATable):
                continue
            home = sys.modules.get(getattr(value, "__module__", "") or "", module)
            file = Path(getattr(home, "__file__", None) or module.__file__ or "")
            try:
                shown = file.resolve().relative_to(root).as_posix()
            except ValueError:
                shown = file.name
            key = f"{table.schema or 'public'}.{table.name}"
            cls = value.__name__ if isinstance(value, type) else None
            found.setdefault(key, (shown, cls))
    return found


def _belongs_to(module: Any, root: Path, key: str) -> bool:
    if key == _PACKAGE or key.startswith(_PACKAGE + "."):
        return True
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().is_relative_to(root)


def _load_error(exc: BaseException, path: Path, root: Path) -> ModelLoadError:
    """One line naming the file and line of the failure inside the project, no traceback."""
    where_file, where_line = path, None
    if isinstance(exc, SyntaxError) and exc.filename:
        where_file, where_line = Path(exc.filename), exc.lineno
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename and Path(frame.filename).resolve().is_relative_to(root):
                where_file, where_line = Path(frame.filename), frame.lineno
                break
    try:
        shown = where_file.resolve().relative_to(root)
    except ValueError:
        shown = where_file
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, SyntaxError):
        detail = exc.msg
    line = f":{where_line}" if where_line else ""
    message = f"cannot load {shown}{line}: {type(exc).__name__}"
    return ModelLoadError(message + (f": {detail}" if detail else ""))


def _collect_metadata(modules: list[types.ModuleType], base: Any) -> list[Any]:
    from sqlalchemy import MetaData
    from sqlalchemy import Table as SATable

    found: list[Any] = []

    def add(metadata: Any) -> None:
        if isinstance(metadata, MetaData) and not any(m is metadata for m in found):
            found.append(metadata)

    if base is not None:
        add(base.metadata)
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, MetaData):
                add(value)
            elif isinstance(value, SATable):
                add(value.metadata)
            elif isinstance(value, type):
                add(getattr(value, "metadata", None))
                table = getattr(value, "__table__", None)
                if isinstance(table, SATable):
                    add(table.metadata)
            else:
                add(getattr(value, "metadata", None))  # a registry() or similar
    return found


# -- MetaData → Snapshot ------------------------------------------------------------------


def from_metadata(*metadatas: Any) -> Snapshot:
    """Snapshot of the tables of SQLAlchemy ``MetaData`` objects, as create_all builds them."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    ddl = dialect.ddl_compiler(dialect, None)
    snap = Snapshot(source="models")
    for metadata in metadatas:
        for sa_table in metadata.tables.values():
            if sa_table.info.get("is_view"):
                continue  # a view mapped as a Table: not something create_all builds
            table = _table(sa_table, dialect, ddl, snap)
            snap.add_table(table)
    return snap


def _name(constraint: Any, dialect: Any) -> str | None:
    try:
        return dialect.identifier_preparer.format_constraint(constraint, _alembic_quote=False)
    except Exception:  # an unresolvable naming-convention token: PostgreSQL names it
        return None


def _sql(element: Any, ddl: Any) -> str:
    return str(ddl.sql_compiler.process(element, include_table=False, literal_binds=True))


def _table(sa_table: Any, dialect: Any, ddl: Any, snap: Snapshot) -> Table:
    from sqlalchemy import CheckConstraint as SACheck
    from sqlalchemy import UniqueConstraint as SAUnique

    schema = sa_table.schema or "public"
    table = Table(schema=schema, name=sa_table.name, comment=sa_table.comment)
    for position, sa_column in enumerate(sa_table.columns, start=1):
        table.columns.append(_column(sa_table, sa_column, position, dialect, ddl, snap))
    pk = sa_table.primary_key
    if pk is not None and len(pk.columns):
        table.primary_key = PrimaryKey(
            columns=[c.name for c in pk.columns], name=_name(pk, dialect)
        )
    for fk in sorted(sa_table.foreign_key_constraints, key=lambda f: [c for c in f.column_keys]):
        table.foreign_keys.append(_foreign_key(fk, dialect, schema))
    for constraint in sa_table.constraints:
        if isinstance(constraint, SAUnique):
            table.unique_constraints.append(
                UniqueConstraint(
                    columns=[c.name for c in constraint.columns], name=_name(constraint, dialect)
                )
            )
        elif isinstance(constraint, SACheck):
            table.check_constraints.append(
                CheckConstraint(
                    expression=normalize_expression(_sql(constraint.sqltext, ddl)) or "",
                    name=_name(constraint, dialect),
                )
            )
    for sa_index in sorted(sa_table.indexes, key=lambda i: str(i.name or "")):
        table.indexes.append(_index(sa_index, dialect, ddl))
    return table


def _column(
    sa_table: Any, sa_column: Any, position: int, dialect: Any, ddl: Any, snap: Snapshot
) -> Column:
    try:
        type_text = normalize_type(sa_column.type.compile(dialect=dialect))
    except Exception:  # a type PostgreSQL cannot hold (NullType...): show it, do not crash
        type_text = type(sa_column.type).__name__.lower()
    _collect_enum(sa_column.type, snap)
    column = Column(
        name=sa_column.name,
        type=type_text,
        nullable=bool(sa_column.nullable),
        comment=sa_column.comment,
        position=position,
    )
    if sa_column.identity is not None:
        column.identity = "always" if sa_column.identity.always else "by default"
    elif sa_column.computed is not None:
        column.generated = normalize_expression(_sql(sa_column.computed.sqltext, ddl))
    else:
        default = ddl.get_column_default_string(sa_column)
        if default is None and _is_serial(sa_column, ddl):
            # create_all renders SERIAL: PostgreSQL then holds nextval of <table>_<col>_seq
            seq = quote_ident(f"{sa_table.name}_{sa_column.name}_seq"[:63])
            prefix = (
                ""
                if (sa_table.schema or "public") == "public"
                else quote_ident(sa_table.schema) + "."
            )
            default = f"nextval('{prefix}{seq}'::regclass)"
        column.default = normalize_default(default, type_text) if default is not None else None
    return column


def _is_serial(sa_column: Any, ddl: Any) -> bool:
    if not sa_column.primary_key or sa_column.table._autoincrement_column is not sa_column:
        return False
    try:
        spec = ddl.get_column_specification(sa_column)
    except Exception:
        return False
    return bool(re.search(r"\b(?:BIG|SMALL)?SERIAL\b", spec))


def _collect_enum(sa_type: Any, snap: Snapshot) -> None:
    from sqlalchemy import Enum as SAEnum

    sa_type = getattr(sa_type, "item_type", None) or sa_type  # ARRAY(Enum)
    impl = getattr(sa_type, "impl", None)
    if not isinstance(sa_type, SAEnum) and isinstance(impl, SAEnum):
        sa_type = impl  # a TypeDecorator over an Enum
    if isinstance(sa_type, SAEnum) and sa_type.native_enum and sa_type.name:
        schema = sa_type.schema or "public"
        if f"{schema}.{sa_type.name}" not in snap.enums:
            snap.add_enum(EnumType(schema=schema, name=sa_type.name, labels=list(sa_type.enums)))


def _foreign_key(fk: Any, dialect: Any, schema: str) -> ForeignKey:
    columns = [e.parent.name for e in fk.elements]
    ref_columns: list[str] = []
    ref_table = ""
    for element in fk.elements:
        try:
            target = element.column
            ref_table = f"{target.table.schema or 'public'}.{target.table.name}"
            ref_columns.append(target.name)
        except Exception:  # the referenced table is not in this MetaData: use the spec
            parts = element.target_fullname.split(".")
            ref_table = ".".join(parts[:-1]) if len(parts) > 2 else f"public.{parts[0]}"
            ref_columns.append(parts[-1])
    return ForeignKey(
        columns=columns,
        ref_table=ref_table,
        ref_columns=ref_columns,
        name=_name(fk, dialect),
        on_delete=(fk.ondelete or "NO ACTION").upper(),
        on_update=(fk.onupdate or "NO ACTION").upper(),
        deferrable=bool(fk.deferrable),
        initially_deferred=(fk.initially or "").upper() == "DEFERRED",
    )


def _index(sa_index: Any, dialect: Any, ddl: Any) -> Index:
    options = sa_index.dialect_options["postgresql"]
    keys = [index_key(_sql(expr, ddl)) for expr in sa_index.expressions]
    where = options.get("where")
    include = [c if isinstance(c, str) else c.name for c in (options.get("include") or [])]
    return Index(
        columns=keys,
        name=_name(sa_index, dialect),
        unique=bool(sa_index.unique),
        method=(options.get("using") or "btree").lower(),
        where=normalize_expression(_sql(where, ddl) if not isinstance(where, str) else where)
        if where is not None
        else None,
        include=include,
    )
