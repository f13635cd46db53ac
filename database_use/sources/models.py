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

import ast
import importlib
import importlib.machinery
import json
import os
import re
import signal
import subprocess
import sys
import threading
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from database_use.errors import ModelLoadError, NotFound
from database_use.schema.normalize import (
    exclusion_definition,
    index_key,
    normalize_default,
    normalize_expression,
    normalize_type,
    quote_ident,
    split_top_level,
)
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ExclusionConstraint,
    ForeignKey,
    Index,
    PrimaryKey,
    Sequence,
    Snapshot,
    Table,
    UniqueConstraint,
)

_PACKAGE = "models"
CHILD_TIMEOUT_S = 600


def load_models(project_root: str | Path, *, use_cache: bool = True) -> Snapshot:
    """Snapshot of every table defined by ``<project_root>/models/models_*.py``.

    The files run in a fresh interpreter (``models_child``), never in this process: whatever
    they import — a venv inside the project, a ``src/`` layout, another SQLAlchemy — cannot
    change this process, and the same files give the same snapshot in every process.
    Served from ``.roo/cache/`` when nothing that shaped it changed (see ``models_cache``).
    A load begun by :func:`loading_ahead` for the same root is collected here.
    """
    root = Path(project_root).expanduser().resolve()
    finish = _AHEAD.pop((root, use_cache), None) or _begin(root, use_cache)
    return finish()


# Loads begun ahead of their load_models call: (root, use_cache) -> collect the snapshot.
_AHEAD: dict[tuple[Path, bool], Any] = {}


@contextmanager
def loading_ahead(
    project_root: str | Path, *, use_cache: bool = True, wanted: bool = True
) -> Iterator[None]:
    """Begin the models load of ``project_root`` now; a ``load_models`` inside collects it
    (``wanted=False``: a caller that needs no models; nothing is begun).

    The models child then runs while the caller does other work (a compare reads the live
    database meanwhile), so a cold compare waits for the slower of the two, not their sum.
    The answer is the same child's: nothing but the start moves. Whatever this cannot start
    (no models files, no sandbox) is left for ``load_models`` to raise in its turn; a load
    nobody collected is stopped on the way out, never kept for a later call.
    """
    if not wanted:
        yield
        return
    root = Path(project_root).expanduser().resolve()
    key = (root, use_cache)
    if key not in _AHEAD:
        # What cannot start here, load_models meets again and raises in its turn.
        with suppress(Exception):
            _AHEAD[key] = _begin(root, use_cache)
    try:
        yield
    finally:
        finish = _AHEAD.pop(key, None)
        if finish is not None:
            finish.discard()


def running_ahead() -> bool:
    """Whether a models child begun by :func:`loading_ahead` is still running."""
    return any(isinstance(f, _Running) and f.child.running() for f in _AHEAD.values())


class _Done:
    """A load already finished (a cache hit): collecting it returns the snapshot."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def __call__(self) -> Snapshot:
        return self.snap

    def discard(self) -> None:
        pass


class _Running:
    """A models child started: collecting it waits for its answer and builds the snapshot."""

    def __init__(self, root: Path, files: list[Path], use_cache: bool) -> None:
        self.root, self.files, self.use_cache = root, files, use_cache
        self.child = _ChildRun(root)

    def __call__(self) -> Snapshot:
        result = self.child.result()
        snap = Snapshot.from_dict(result["snapshot"])
        snap.source = "models"
        # How the models code ran, for every answer that used it: "sandbox" or "not sandboxed".
        snap.loaded_in = result["loaded_in"]  # type: ignore[attr-defined]
        # Where each table is declared, for fixes that name the file and class (not serialised).
        snap.model_origins = {  # type: ignore[attr-defined]
            k: tuple(v) for k, v in result["origins"].items() if k in snap.tables
        }
        if self.use_cache:
            from database_use.sources import models_cache

            # The child's own text: what from_dict just read, without serialising it again.
            models_cache.write(
                self.root, self.files, result["deps"], snap, raw=result["raw_snapshot"]
            )
        return snap

    def discard(self) -> None:
        self.child.stop()


def _begin(root: Path, use_cache: bool) -> _Done | _Running:
    models_dir = root / "models"
    files = sorted(models_dir.glob("models_*.py")) if models_dir.is_dir() else []
    if not files:
        raise NotFound(f"no models/models_*.py files under {root}")
    from database_use.sources import models_cache

    use_cache = use_cache and models_cache.enabled()
    if use_cache and (cached := models_cache.read(root, files)) is not None:
        cached.loaded_in = "cache"  # type: ignore[attr-defined]
        return _Done(cached)
    return _Running(root, files, use_cache)


def _child_env() -> dict[str, str]:
    """The child's environment: the models need no database credentials to be read."""
    secret = ("DATABASE_URL", "DATABASE_READONLY_URL", "TEST_DATABASE_URL", "PGPASSWORD")
    return {k: v for k, v in os.environ.items() if k not in secret and not k.startswith("PG")}


def child_argv(root: Path) -> list[str]:
    """The models child's command line (before the sandbox wraps it)."""
    # The tool's own import root goes last: the project's modules (its own utils_db/, models/)
    # and its own installed packages always win over anything beside the tool.
    tool_parent = str(Path(__file__).resolve().parents[2])
    return [
        sys.executable,
        "-c",
        "import sys; sys.path.append(sys.argv[2]); "
        "from database_use.sources.models_child import main; sys.exit(main(sys.argv[1]))",
        str(root),
        tool_parent,
    ]


class _ChildRun:
    """The models child, started at once: in a fresh interpreter, inside the sandbox (no URL,
    no network, the project read-only; see :mod:`database_use.sandbox`). A thread drains its
    output meanwhile, so a chatty models file cannot block it on a full pipe."""

    def __init__(self, root: Path) -> None:
        from database_use import sandbox  # the parent's alone: the child never imports it

        self.state = sandbox.require(root, "loading the models")
        bootstrap = child_argv(root)
        env = _child_env()
        if self.state.enabled:
            bootstrap = sandbox.command(bootstrap, sandbox.Spec(root, network=False))
            env = sandbox.environment({"PYTHONDONTWRITEBYTECODE": "1"})
        self.proc = subprocess.Popen(
            bootstrap,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own process group: stopping it reaches bubblewrap's inner process too,
            # which a kill of the outer one alone leaves behind.
            process_group=0,
        )
        self.output: tuple[bytes, bytes] | None = None
        self.timed_out = False
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        try:
            self.output = self.proc.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self._kill()
            self.proc.communicate()
        except (OSError, ValueError):  # stopped by stop(): its pipes are gone
            pass

    def _kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._kill()
        self.reader.join()

    def result(self) -> dict[str, Any]:
        self.reader.join()
        if self.timed_out:
            raise ModelLoadError(
                f"loading the models took longer than {CHILD_TIMEOUT_S} s and was stopped"
            )
        stdout, stderr = self.output or (b"", b"")
        try:
            # a line of JSON (origins and deps, or the error), then the snapshot (models_child)
            head, _, body = stdout.decode("utf-8").partition("\n")
            result = json.loads(head)
            if not isinstance(result, dict):
                raise ValueError("not an object")
            if "error" not in result:
                result["snapshot"] = json.loads(body)
                result["raw_snapshot"] = body
        except ValueError:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()
            detail = tail[-1] if tail else f"exit code {self.proc.returncode}"
            raise ModelLoadError(f"cannot load the models: {detail[:300]}") from None
        if "error" in result:
            raise ModelLoadError(result["error"])
        from database_use.sandbox import NOT_SANDBOXED

        result["loaded_in"] = "sandbox" if self.state.enabled else NOT_SANDBOXED
        return result


def load_in_this_process(root: Path) -> dict[str, Any]:
    """Import the models files here (a fresh child interpreter) and describe what they define.

    Returns ``{"snapshot": …, "origins": …, "deps": […]}``, the snapshot as the text of its
    JSON form (``Snapshot.to_compact_json``), where ``deps`` lists every module file the load
    imported (what the cache depends on); raises :class:`ModelLoadError`.
    """
    models_dir = root / "models"
    files = sorted(models_dir.glob("models_*.py"))
    sys.path.insert(0, str(root))
    # A bare package for models/: its __init__.py is not run (it may import an app);
    # the files are imported under their real names so cross-imports share one module.
    package = types.ModuleType(_PACKAGE)
    package.__path__ = [str(models_dir)]
    package.__file__ = str(models_dir / "__init__.py")
    sys.modules[_PACKAGE] = package
    _KEPT_CODE.clear()
    sys.meta_path.insert(0, _ModelsFinder)
    loaded: list[types.ModuleType] = []
    for path in files:
        try:
            loaded.append(importlib.import_module(f"{_PACKAGE}.{path.stem}"))
        except Exception as exc:  # any import-time error of user code
            raise _load_error(exc, path, root) from None
    metadatas = _collect_metadata(loaded)
    origins = _origins(loaded, root)
    _check_references(metadatas, origins)
    snap = from_metadata(*metadatas)
    deps = sorted(
        {
            str(Path(file).resolve())
            for module in list(sys.modules.values())
            if (file := getattr(module, "__file__", None)) and Path(file).is_file()
        }
    )
    return {
        "snapshot": snap.to_compact_json(),
        "origins": {k: list(v) for k, v in origins.items() if k in snap.tables},
        "deps": deps,
    }


def _origins(
    modules: list[types.ModuleType], root: Path
) -> dict[str, tuple[str, str | None, int | None]]:
    """Where each table is declared: ``(file relative to root, class or None, line or None)``.

    A Core ``Table(...)`` instance is found in the module that holds it (``Table.__module__``
    would name SQLAlchemy's own ``schema.py``); its line is that of ``Table("name"``. Mapped
    classes a models file never names (it imports a package's declarative base) are found
    through the base's registry, in the package's own file.
    """
    from sqlalchemy import Table as SATable

    found: dict[str, tuple[str, str | None, int | None]] = {}
    registries: list[Any] = []
    lines = _SourceLines()
    shown_as: dict[Path, str] = {}  # every table of a file asks for the same path

    def shown(file: Path) -> str:
        if file not in shown_as:
            shown_as[file] = _shown(file, root)
        return shown_as[file]

    for module in modules:
        for value in vars(module).values():
            is_class = isinstance(value, type)
            registry = getattr(value, "registry", None) if is_class else None
            if registry is not None and not any(r is registry for r in registries):
                registries.append(registry)
            table = getattr(value, "__table__", None) if is_class else value
            if not isinstance(table, SATable):
                continue
            key = f"{table.schema or 'public'}.{table.name}"
            if key in found:
                continue  # the first declaration found names the table
            home = sys.modules.get(value.__module__, module) if is_class else module
            file = Path(getattr(home, "__file__", None) or module.__file__ or "")
            cls = value.__name__ if is_class else None
            found[key] = (shown(file), cls, lines.line_of(value, table, file))
    for registry in registries:
        for mapper in sorted(getattr(registry, "mappers", ()), key=lambda m: m.class_.__qualname__):
            mapped = mapper.class_
            table = getattr(mapped, "__table__", None)
            if not isinstance(table, SATable):
                continue
            key = f"{table.schema or 'public'}.{table.name}"
            if key in found:
                continue
            file = Path(getattr(sys.modules.get(mapped.__module__), "__file__", None) or "")
            found[key] = (shown(file), mapped.__name__, lines.line_of(mapped, table, file))
    return found


def _shown(file: Path, root: Path) -> str:
    """A file relative to the project root, else its full path (an installed package's)."""
    try:
        return file.resolve().relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


class _ClassLines(ast.NodeVisitor):
    """The line of every class statement of a module by ``__qualname__``, in one walk.

    The same answer as ``inspect.findsource`` gives for a class before Python 3.13 (its
    ``_ClassFinder``: the first match in the same walk order, the first decorator's line when
    decorated), which parses and walks the whole file again for every class it is asked
    about — quadratic in the number of classes per file.
    """

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.lines: dict[str, int] = {}

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack += [node.name, "<locals>"]
        self.generic_visit(node)
        del self.stack[-2:]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.stack.append(node.name)
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        self.lines.setdefault(".".join(self.stack), first)
        self.generic_visit(node)
        self.stack.pop()


# The compiled code of each models file, kept while it is imported (path -> module code).
_KEPT_CODE: dict[str, types.CodeType] = {}


class _KeptCodeLoader(importlib.machinery.SourceFileLoader):
    """The standard loader of a ``models/*.py`` file, keeping the code it executes."""

    def get_code(self, fullname: str) -> types.CodeType | None:
        code = super().get_code(fullname)
        if code is not None:
            _KEPT_CODE[self.path] = code
        return code


class _ModelsFinder:
    """Finds ``models.*`` exactly as the path finder does; only the loader keeps the code."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(_PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _KeptCodeLoader(spec.loader.name, spec.loader.path)
        return spec


def _class_body_lines(code: types.CodeType, found: dict[str, int]) -> dict[str, int]:
    """``co_qualname`` → first line of every class body nested in ``code``, first one first.

    A class body's code starts at its first decorator, else at ``class`` (the compiler's
    rule, the same as ``_ClassFinder``'s); it is the only nested code without new locals.
    """
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if not const.co_flags & _CO_NEWLOCALS:
                found.setdefault(const.co_qualname, const.co_firstlineno)
            _class_body_lines(const, found)
    return found


_CO_NEWLOCALS = 0x0002  # inspect.CO_NEWLOCALS


class _SourceLines:
    """Lines of declarations, each source file read and parsed at most once per load."""

    def __init__(self) -> None:
        self._classes: dict[str, dict[str, int]] = {}
        self._kept: dict[str, dict[str, int]] = {}
        self._texts: dict[Path, str] = {}

    def _class_line(self, cls: type) -> int:
        """1-based line of ``cls``'s statement; raises as ``inspect.findsource`` does."""
        import inspect
        import linecache

        if sys.version_info >= (3, 13):  # classes carry __firstlineno__: no parse
            return inspect.findsource(cls)[1] + 1
        file = inspect.getsourcefile(cls)
        if file:
            linecache.checkcache(file)
        else:
            file = inspect.getfile(cls)
            if not (file.startswith("<") and file.endswith(">")):
                raise OSError("source code not available")
        module = inspect.getmodule(cls, file)
        text = linecache.getlines(file, module.__dict__) if module else linecache.getlines(file)
        if not text:
            raise OSError("could not get source code")
        # A models file's own compiled code answers without parsing it again.
        if file not in self._kept and file in _KEPT_CODE:
            self._kept[file] = _class_body_lines(_KEPT_CODE[file], {})
        line = self._kept.get(file, {}).get(cls.__qualname__)
        if line is not None:
            return line
        if file not in self._classes:
            finder = _ClassLines()
            finder.visit(ast.parse("".join(text)))
            self._classes[file] = finder.lines
        line = self._classes[file].get(cls.__qualname__)
        if line is None:
            raise OSError("could not find class definition")
        return line

    def line_of(self, value: Any, table: Any, file: Path) -> int | None:
        try:
            if isinstance(value, type):
                return self._class_line(value)
            if file not in self._texts:
                self._texts[file] = file.read_text(encoding="utf-8")
            text = self._texts[file]
        except (OSError, TypeError, ValueError):
            return None
        m = re.search(r"Table\(\s*[\"']" + re.escape(table.name) + r"[\"']", text)
        return text.count("\n", 0, m.start()) + 1 if m else None


def _is_project_file(file: Path, root: Path) -> bool:
    """A real file of the project's own, not of a venv or site-packages inside its root."""
    from database_use.sources.models_cache import installed_roots

    if not (file.is_absolute() and file.is_file()):
        return False
    file = file.resolve()
    return file.is_relative_to(root) and not any(file.is_relative_to(i) for i in installed_roots())


def _load_error(exc: BaseException, path: Path, root: Path) -> ModelLoadError:
    """One line naming the file and line of the failure inside the project, no traceback."""
    where_file, where_line = path, None
    if isinstance(exc, SyntaxError) and exc.filename:
        where_file, where_line = Path(exc.filename), exc.lineno
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            file = Path(frame.filename or "")
            if _is_project_file(file, root):
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


def _check_references(metadatas: list[Any], origins: dict[str, tuple]) -> None:
    """A foreign key whose column takes its type from a table the models do not define:
    ``create_all`` cannot build it and the column's type is unknown (``NullType``), so say
    where the models are broken instead of reporting a type nobody wrote."""
    from sqlalchemy.types import NullType

    for metadata in metadatas:
        for sa_table in metadata.tables.values():
            for fk in sa_table.foreign_keys:
                if not isinstance(fk.parent.type, NullType):
                    continue
                try:
                    fk.column  # noqa: B018 - resolves the target or raises
                except Exception:
                    key = f"{sa_table.schema or 'public'}.{sa_table.name}"
                    file, cls, line = (*origins.get(key, ("models/models_*.py", None)), None)[:3]
                    where = f"{file}:{line}" if line else file
                    where += f" class {cls}" if cls else ""
                    target = fk.target_fullname
                    missing = target.rsplit(".", 1)[0]
                    raise ModelLoadError(
                        f"the models are broken here: {where}: FK {sa_table.name}."
                        f"{fk.parent.name} → {target}, table {missing} not in the models"
                    ) from None


def _collect_metadata(modules: list[types.ModuleType]) -> list[Any]:
    from sqlalchemy import MetaData
    from sqlalchemy import Table as SATable

    found: list[Any] = []

    def add(metadata: Any) -> None:
        if isinstance(metadata, MetaData) and not any(m is metadata for m in found):
            found.append(metadata)

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
        for sa_sequence in _sequences(metadata):
            snap.add(_sequence(sa_sequence, dialect))
    return snap


def _sequences(metadata: Any) -> list[Any]:
    """Every ``Sequence`` create_all would create: the MetaData's own and the columns'."""
    from sqlalchemy import Sequence as SASequence

    found = {id(s): s for s in getattr(metadata, "_sequences", {}).values()}
    for sa_table in metadata.tables.values():
        for sa_column in sa_table.columns:
            if isinstance(sa_column.default, SASequence):
                found.setdefault(id(sa_column.default), sa_column.default)
    return sorted(found.values(), key=lambda s: (s.schema or "", s.name))


# The range of each integer type a sequence can have (PostgreSQL's defaults for min and max).
_SEQUENCE_RANGE = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}


def _sequence(sa_sequence: Any, dialect: Any) -> Sequence:
    """The sequence PostgreSQL creates from a ``Sequence``, spelled as the live source reads it:
    min/max None where they are the defaults for the type and the direction."""
    data_type = "bigint"
    if sa_sequence.data_type is not None:
        data_type = normalize_type(sa_sequence.data_type.compile(dialect=dialect))
    low, high = _SEQUENCE_RANGE.get(data_type, _SEQUENCE_RANGE["bigint"])
    increment = sa_sequence.increment or 1
    default_min, default_max = (1, high) if increment > 0 else (low, -1)
    min_value = None if sa_sequence.nominvalue else sa_sequence.minvalue
    max_value = None if sa_sequence.nomaxvalue else sa_sequence.maxvalue
    start = sa_sequence.start
    if start is None:
        start = (
            (min_value if min_value is not None else default_min)
            if increment > 0
            else (max_value if max_value is not None else default_max)
        )
    return Sequence(
        schema=sa_sequence.schema or "public",
        name=sa_sequence.name,
        data_type=data_type,
        start=start,
        increment=increment,
        min_value=None if min_value == default_min else min_value,
        max_value=None if max_value == default_max else max_value,
        cycle=bool(sa_sequence.cycle),
        cache=sa_sequence.cache or 1,
    )


def _name(constraint: Any, dialect: Any) -> str | None:
    try:
        return dialect.identifier_preparer.format_constraint(constraint, _alembic_quote=False)
    except Exception:  # an unresolvable naming-convention token: PostgreSQL names it
        return None


def _sql(element: Any, ddl: Any) -> str:
    return str(ddl.sql_compiler.process(element, include_table=False, literal_binds=True))


@lru_cache(maxsize=1)
def _sa() -> Any:
    """SQLAlchemy's classes the reading tests against, imported once (not per column)."""
    from sqlalchemy import CheckConstraint, Enum, UniqueConstraint
    from sqlalchemy.dialects.postgresql import ExcludeConstraint

    return types.SimpleNamespace(
        CheckConstraint=CheckConstraint,
        Enum=Enum,
        ExcludeConstraint=ExcludeConstraint,
        UniqueConstraint=UniqueConstraint,
    )


def _table(sa_table: Any, dialect: Any, ddl: Any, snap: Snapshot) -> Table:
    sa = _sa()
    SACheck, SAUnique, ExcludeConstraint = (
        sa.CheckConstraint,
        sa.UniqueConstraint,
        sa.ExcludeConstraint,
    )
    schema = sa_table.schema or "public"
    table = Table(schema=schema, name=sa_table.name, comment=sa_table.comment)
    partition_by = sa_table.dialect_options["postgresql"].get("partition_by")
    if partition_by:
        table.kind = "partitioned table"
        table.partition_key = partition_key(str(partition_by))
    for position, sa_column in enumerate(sa_table.columns, start=1):
        table.columns.append(_column(sa_table, sa_column, position, dialect, ddl, snap))
    pk = sa_table.primary_key
    if pk is not None and len(pk.columns):
        table.primary_key = PrimaryKey(
            columns=[c.name for c in pk.columns], name=_name(pk, dialect), comment=_comment(pk)
        )
    for fk in sorted(sa_table.foreign_key_constraints, key=lambda f: [c for c in f.column_keys]):
        table.foreign_keys.append(_foreign_key(fk, dialect, schema))
    for constraint in sa_table.constraints:
        if not _created(constraint, ddl):
            continue
        if isinstance(constraint, ExcludeConstraint):
            table.exclusion_constraints.append(
                ExclusionConstraint(
                    definition=exclusion_definition(str(ddl.process(constraint))),
                    name=_name(constraint, dialect),
                    comment=_comment(constraint),
                )
            )
        elif isinstance(constraint, SAUnique):
            table.unique_constraints.append(
                UniqueConstraint(
                    columns=[c.name for c in constraint.columns],
                    name=_name(constraint, dialect),
                    nulls_not_distinct=bool(
                        constraint.dialect_options["postgresql"].get("nulls_not_distinct")
                    ),
                    comment=_comment(constraint),
                )
            )
        elif isinstance(constraint, SACheck):
            table.check_constraints.append(
                CheckConstraint(
                    expression=normalize_expression(_sql(constraint.sqltext, ddl)) or "",
                    name=_name(constraint, dialect),
                    comment=_comment(constraint),
                )
            )
    seen: set[str] = set()
    for sa_index in sorted(sa_table.indexes, key=lambda i: str(i.name or "")):
        if not _index_created(sa_index, ddl):
            continue
        index = _index(sa_index, dialect, ddl)
        if index.name and index.name in seen:
            continue  # index=True and Index("ix_…") of the same name: one index in the database
        seen.add(index.name or "")
        table.indexes.append(index)
    return table


def _comment(constraint: Any) -> str | None:
    """A constraint's ``comment=`` (SQLAlchemy 2.0+; older releases have none)."""
    return getattr(constraint, "comment", None) or None


def partition_key(text: str) -> str:
    """``postgresql_partition_by`` as PostgreSQL spells the key: ``range(a,b)`` → ``RANGE (a, b)``."""
    m = re.fullmatch(r"\s*(\w+)\s*\((.*)\)\s*", text, re.S)
    if not m:
        return " ".join(text.split())
    keys = ", ".join(" ".join(k.split()) for k in split_top_level(m[2]))
    return f"{m[1].upper()} ({keys})"


def _created(constraint: Any, ddl: Any) -> bool:
    """Whether CREATE TABLE on PostgreSQL emits this constraint, decided as SQLAlchemy does.

    Type-bound CHECKs (``Boolean(create_constraint=True)``, a non-native ``Enum``) carry a
    create rule: PostgreSQL gets the Enum's CHECK but never the Boolean's (a native boolean).
    ``ddl_if`` on a constraint is honoured the same way. CREATE TABLE leaves out a constraint
    that compiles to None, which only a custom compiler does: one of SQLAlchemy's own classes
    with no ``@compiles`` on it or a base is not compiled to learn it (its visitors always
    return text; compiling every constraint was a fifth of the reading).
    """
    try:
        if not constraint._should_create_for_compiler(ddl):
            return False
        kind = type(constraint)
        if kind.__module__.startswith("sqlalchemy.") and not hasattr(kind, "_compiler_dispatcher"):
            return True
        return ddl.process(constraint) is not None
    except Exception:  # not compilable on its own (an odd custom constraint): keep it
        return True


def _index_created(sa_index: Any, ddl: Any) -> bool:
    """False for an index ``create_all`` skips on PostgreSQL (``ddl_if(dialect="sqlite")``)."""
    from sqlalchemy.schema import CreateIndex

    condition = getattr(sa_index, "_ddl_if", None)
    if condition is None:
        return True
    try:
        return bool(condition._should_execute(CreateIndex(sa_index), sa_index, None, compiler=ddl))
    except Exception:  # a callable that needs a live connection: assume it runs
        return True


def _column(
    sa_table: Any, sa_column: Any, position: int, dialect: Any, ddl: Any, snap: Snapshot
) -> Column:
    try:
        compiled = sa_column.type.compile(dialect=dialect)
        # String(collation=...) compiles to 'VARCHAR(20) COLLATE "C"': the collation is its own fact
        if "COLLATE" in compiled:
            compiled = _COLLATE.sub("", compiled)
        type_text = normalize_type(compiled)
    except Exception:  # a type PostgreSQL cannot hold (NullType...): show it, do not crash
        type_text = type(sa_column.type).__name__.lower()
    _collect_enum(sa_column.type, snap)
    column = Column(
        name=sa_column.name,
        type=type_text,
        nullable=bool(sa_column.nullable),
        comment=sa_column.comment,
        position=position,
        collation=_collation(sa_column.type),
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


_COLLATE = re.compile(r'\s+COLLATE\s+(?:"[^"]+"|\S+)$')


def _collation(sa_type: Any) -> str | None:
    collation = getattr(sa_type, "collation", None)
    if collation is None:
        collation = getattr(getattr(sa_type, "impl", None), "collation", None)  # TypeDecorator
    return str(collation) if collation else None


def _is_serial(sa_column: Any, ddl: Any) -> bool:
    if not sa_column.primary_key or sa_column.table._autoincrement_column is not sa_column:
        return False
    try:
        spec = ddl.get_column_specification(sa_column)
    except Exception:
        return False
    return bool(re.search(r"\b(?:BIG|SMALL)?SERIAL\b", spec))


def _collect_enum(sa_type: Any, snap: Snapshot) -> None:
    SAEnum = _sa().Enum
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
        comment=_comment(fk),
    )


def _index(sa_index: Any, dialect: Any, ddl: Any) -> Index:
    options = sa_index.dialect_options["postgresql"]
    keys = [index_key(_sql(expr, ddl)) for expr in sa_index.expressions]
    where = options.get("where")
    include = [c if isinstance(c, str) else c.name for c in (options.get("include") or [])]
    ops = options.get("ops") or {}
    opclasses = [
        str(ops.get(getattr(expr, "key", None), ops.get(getattr(expr, "name", None), "")) or "")
        for expr in sa_index.expressions
    ]
    return Index(
        columns=keys,
        name=_name(sa_index, dialect),
        unique=bool(sa_index.unique),
        method=(options.get("using") or "btree").lower(),
        where=normalize_expression(_sql(where, ddl) if not isinstance(where, str) else where)
        if where is not None
        else None,
        include=include,
        opclasses=opclasses if any(opclasses) else [],
        nulls_not_distinct=bool(options.get("nulls_not_distinct")),
    )
