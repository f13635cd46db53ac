"""Vetted scripts instead of pasted SQL: list, draft, promote and run file-based scripts.

Both faces (``cli_scripts.py`` and ``mcp_server/tools_scripts.py``) call these functions.

* Canonical scripts live in ``<root>/utils_db/``; one-off drafts in ``<root>/temp/``. Nothing
  is ever written anywhere else, and no name can reach outside those two folders (the name
  is a plain identifier; symlinks are resolved and must stay inside). A name that shadows an
  importable module (``argparse``, ``sqlalchemy``...) is refused: promoted into utils_db/ it
  would run inside the person's own commands. Replacing a canonical script is for a person
  at a terminal, never for a tool.
* Scripts are described statically (``ast``): their module docstring and their argparse
  calls. Nothing is imported or executed to list them.
* ``run_script`` starts the script in the OS sandbox (:mod:`database_use.sandbox`): the
  project read-only with ``.env`` and the tool's state hidden, no HOME, its own PID namespace,
  only the URL its mode allows. Read-only runs: with ``DATABASE_READONLY_URL`` (a role that is
  checked, before every run, to have no way to write) the privileged URL never enters the
  sandbox; that is the guarantee (``readonly_enforced``). Without it the run gets the main URL
  with the session default ``default_transaction_read_only`` through ``PGOPTIONS``, which any
  script can switch off: best effort only, and the answer says so. Scripts that visibly try
  to switch it off are refused up front (a hint for careful agents, not a guard).
* Write mode needs a person's approval bound to the script's SHA-256 and its arguments
  (``database_use/approvals.py``: MCP elicitation or ``schema_inspector.py approve <id>``).
* No function here accepts SQL text to execute.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from database_use import hints, redact, sandbox
from database_use.display import escape_for_display, hidden_characters, hidden_places
from database_use.errors import ChangeRefused, InvalidRequest, NotFound, ScriptError
from database_use.project import Project
from database_use.roles import check_readonly_role
from database_use.scripts.describe import describe_source, terminal_input
from database_use.settings import (
    URL_VARIABLES,
    describe_target,
    load_dotenv_file,
    validate_url,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SCRIPT_BYTES = 256 * 1024
MAX_OUTPUT_BYTES = 64 * 1024
MAX_ARGS = 64
MAX_ARG_CHARS = 4096
DEFAULT_TIMEOUT_S = 60
MAX_TIMEOUT_S = 3600
# Each statement a read-only run sends is bounded too, so a runaway query cannot outlive
# the run by much even if the client side is killed.
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000


def _is_tool_entry_point(path: Path) -> bool:
    """A seed-named file that only hands over to the tool's CLI (``utils_db/schema_inspector.py``).

    It is the tool's face, not a project script: it is neither listed nor run as one.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    return any(
        isinstance(node, ast.ImportFrom) and (node.module or "").startswith("database_use.cli")
        for node in ast.walk(tree)
    )


# Text that shows a script trying to switch the read-only session default off or to
# replace the connection options that carry it (libpq lets an explicit ``options`` win
# over PGOPTIONS). Refused in read-only mode: such a script must go through write mode.
_BYPASS_TEXT = re.compile(
    r"transaction_read_only|read[\s_]+write|pgoptions|session_authorization|\bset\s+role\b",
    re.I,
)
_BYPASS_KEYWORDS = frozenset({"options", "connect_args"})

KIND_CANONICAL, KIND_DRAFT = "canonical", "draft"


# -- locating scripts --------------------------------------------------------------------
@dataclass(frozen=True)
class ScriptRef:
    name: str
    kind: str  # canonical | draft
    path: Path
    relpath: str


def validate_name(name: Any) -> str:
    """The script name, checked: a lower-case identifier, optionally given with ``.py``."""
    if not isinstance(name, str):
        raise InvalidRequest("script name must be a string")
    bare = name[:-3] if name.endswith(".py") else name
    if not NAME_RE.match(bare):
        raise InvalidRequest(
            f"invalid script name {name[:80]!r}: use lower-case letters, digits and _ "
            "(start with a letter, at most 64 characters); no paths, no '..'"
        )
    return bare


def _venv_site_dirs(root: Path) -> list[Path]:
    found: list[Path] = []
    for venv in (".venv", "venv", "env"):
        found += sorted((root / venv).glob("lib/python*/site-packages"))
        found += sorted((root / venv).glob("Lib/site-packages"))
    return found


def shadowed_module(project: Project, bare: str) -> str | None:
    """What ``bare`` would shadow as ``utils_db/<bare>.py`` or ``temp/<bare>.py``, if anything.

    A file beside a script is the first thing its imports find: a draft named ``argparse``
    promoted into utils_db/ runs inside every utility (and the person's own commands there).
    """
    if bare in sys.stdlib_module_names or bare in sys.builtin_module_names:
        return f"the standard library module {bare!r}"
    root = project.root
    if (root / bare).is_dir() or (root / f"{bare}.py").is_file():
        return f"the project's own {bare!r}"
    for site in _venv_site_dirs(root):
        if (
            (site / bare).is_dir()
            or (site / f"{bare}.py").is_file()
            or any(site.glob(f"{bare}.*.so"))
        ):
            return f"the installed module {bare!r} (in {site.relative_to(root)})"
    try:
        spec = importlib.util.find_spec(bare)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        return f"the installed module {bare!r}"
    return None


def _refuse_shadowing(project: Project, bare: str) -> None:
    what = shadowed_module(project, bare)
    if what:
        raise InvalidRequest(
            f"a script named {bare!r} would shadow {what} for every script beside it; "
            "pick another name"
        )


def _folder(project: Project, kind: str) -> Path:
    """The resolved temp/ or utils_db/ folder, which must itself stay inside the project."""
    folder = project.temp_dir if kind == KIND_DRAFT else project.scripts_dir
    root = project.root.resolve()
    resolved = folder.resolve()
    if not resolved.is_relative_to(root):
        raise InvalidRequest(
            f"{folder.name}/ resolves outside the project root; refusing to use it"
        )
    return resolved


def _inside(path: Path, folder: Path) -> bool:
    """True when ``path`` (symlinks resolved) is a regular file directly inside ``folder``."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return resolved.parent == folder and resolved.is_file()


def _split_prefix(name: str) -> tuple[str | None, str]:
    for prefix, kind in (("temp/", KIND_DRAFT), ("utils_db/", KIND_CANONICAL)):
        if isinstance(name, str) and name.startswith(prefix):
            return kind, name[len(prefix) :]
    return None, name


def resolve_script(project: Project, name: str, kind: str | None = None) -> ScriptRef:
    """Find script ``name`` (``x``, ``x.py``, ``temp/x`` or ``utils_db/x``) safely.

    A bare name that exists both as a draft and as a canonical script is ambiguous.
    """
    prefix_kind, rest = _split_prefix(name)
    bare = validate_name(rest)
    kinds = [prefix_kind or kind] if (prefix_kind or kind) else [KIND_CANONICAL, KIND_DRAFT]
    found: list[ScriptRef] = []
    for k in kinds:
        folder = _folder(project, k)
        path = folder / f"{bare}.py"
        if k == KIND_CANONICAL and _is_tool_entry_point(path):
            if len(kinds) == 1:
                raise InvalidRequest(
                    f"utils_db/{bare}.py hands over to the database-use command line; "
                    "use its own command or tool"
                )
            continue
        if not (path.exists() or path.is_symlink()):
            continue
        if not _inside(path, folder):
            raise InvalidRequest(
                f"{folder.name}/{bare}.py is a link or special file pointing outside {folder.name}/; refusing it"
            )
        found.append(ScriptRef(bare, k, path, f"{folder.name}/{bare}.py"))
    if not found:
        where = " or ".join(f"{'temp' if k == KIND_DRAFT else 'utils_db'}/" for k in kinds)
        raise NotFound(f"no script named {bare!r} in {where} (list_scripts shows what exists)")
    if len(found) > 1:
        raise InvalidRequest(
            f"{bare!r} exists both as utils_db/{bare}.py and as the draft temp/{bare}.py; "
            f"say utils_db/{bare} or temp/{bare}"
        )
    return found[0]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(ref: ScriptRef) -> bytes:
    size = ref.path.stat().st_size
    if size > MAX_SCRIPT_BYTES:
        raise ScriptError(
            f"{ref.relpath} is {size} bytes; scripts are limited to {MAX_SCRIPT_BYTES}"
        )
    return ref.path.read_bytes()


def _entry(ref: ScriptRef, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": ref.name,
        "kind": ref.kind,
        "path": ref.relpath,
        "sha256": content_hash(data),
        "size_bytes": len(data),
        "purpose": "",
        "arguments": [],
        "commands": [],
        "problem": None,
    }
    try:
        info = describe_source(data.decode("utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        entry["problem"] = (
            f"does not parse{f' (line {line})' if line else ''}: {getattr(exc, 'msg', exc)}"
        )
        return entry
    entry.update({k: info[k] for k in ("purpose", "arguments", "commands")})
    entry["has_main_guard"] = info["has_main_guard"]
    return entry


def list_scripts(project: Project) -> dict[str, Any]:
    """The canonical scripts in ``utils_db/`` and the drafts in ``temp/``, described statically."""
    scripts: list[dict[str, Any]] = []
    skipped: list[str] = []
    for kind in (KIND_CANONICAL, KIND_DRAFT):
        try:
            folder = _folder(project, kind)
        except InvalidRequest as exc:
            skipped.append(str(exc))
            continue
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            stem = path.stem
            if not NAME_RE.match(stem):
                if not stem.startswith("__"):
                    skipped.append(f"{folder.name}/{path.name}: name is not a valid script name")
                continue
            if kind == KIND_CANONICAL and _is_tool_entry_point(path):
                continue
            if not _inside(path, folder):
                skipped.append(f"{folder.name}/{path.name}: links outside {folder.name}/")
                continue
            ref = ScriptRef(stem, kind, path, f"{folder.name}/{path.name}")
            try:
                data = _read_bytes(ref)
            except (OSError, ScriptError) as exc:
                skipped.append(f"{ref.relpath}: {exc}")
                continue
            entry = _entry(ref, data)
            # A canonical file without a main guard is a library module, not a script: say so,
            # so a promoted script that lacks the guard does not vanish without a word.
            if (
                kind == KIND_CANONICAL
                and entry["problem"] is None
                and not entry.get("has_main_guard")
            ):
                skipped.append(
                    f'{ref.relpath}: no `if __name__ == "__main__":` guard, so it is read as a '
                    "library module, not a script; add the guard to list it"
                )
                continue
            entry.pop("has_main_guard", None)
            scripts.append(entry)
    return {
        "scripts": [s for s in scripts if s["kind"] == KIND_CANONICAL],
        "drafts": [s for s in scripts if s["kind"] == KIND_DRAFT],
        "skipped": skipped,
        "scripts_dir": "utils_db/",
        "drafts_dir": "temp/",
    }


def describe_script(project: Project, name: str) -> dict[str, Any]:
    """One script's description (as in :func:`list_scripts`), plus its source text."""
    ref = resolve_script(project, name)
    data = _read_bytes(ref)
    entry = _entry(ref, data)
    entry.pop("has_main_guard", None)
    entry["source"] = data.decode("utf-8", errors="replace")
    return entry


# -- drafting and promoting ----------------------------------------------------------------
def check_source(content: str, label: str = "script") -> None:
    """Raise ScriptError naming the line when ``content`` is not valid Python."""
    try:
        ast.parse(content)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        raise ScriptError(f"{label} is not valid Python: {exc.msg} at {where}") from None
    except ValueError as exc:  # e.g. NUL bytes
        raise ScriptError(f"{label} is not valid Python: {exc}") from None


def _write_new(path: Path, data: bytes, overwrite: bool) -> None:
    """Write ``path`` without following links: O_EXCL for new files, rename over old ones."""
    if path.is_symlink():
        raise InvalidRequest(
            f"{path.parent.name}/{path.name} is a symbolic link; refusing to write through it"
        )
    if not overwrite:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise ScriptError(
                f"{path.parent.name}/{path.name} already exists; pass overwrite to replace it"
            ) from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # replaces the directory entry; never writes through a link
    finally:
        if tmp.exists():
            tmp.unlink()


def draft_script(
    project: Project, name: str, content: str, overwrite: bool = False
) -> dict[str, Any]:
    """Write ``temp/<name>.py`` (and nothing else) after checking the name and the Python."""
    prefix_kind, rest = _split_prefix(name)
    if prefix_kind == KIND_CANONICAL:
        raise InvalidRequest("drafts go to temp/; use promote_script to make a draft canonical")
    bare = validate_name(rest)
    if not isinstance(content, str):
        raise InvalidRequest("content must be text")
    data = content.encode("utf-8")
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(
            f"content is {len(data)} bytes; scripts are limited to {MAX_SCRIPT_BYTES}"
        )
    _refuse_shadowing(project, bare)
    check_source(content, f"temp/{bare}.py")
    folder = _folder(project, KIND_DRAFT)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{bare}.py"
    existed = path.exists()
    _write_new(path, data, overwrite)
    ref = ScriptRef(bare, KIND_DRAFT, path, f"temp/{bare}.py")
    entry = _entry(ref, data)
    entry.pop("has_main_guard", None)
    entry["overwritten"] = existed
    return entry


def promote_script(
    project: Project, name: str, overwrite: bool = False, *, by_person: bool = False
) -> dict[str, Any]:
    """Move the draft ``temp/<name>.py`` to ``utils_db/<name>.py`` so it becomes canonical.

    Replacing an existing canonical script needs ``by_person`` (the CLI at a terminal): a vetted
    utility is never replaced from a tool.
    """
    prefix_kind, rest = _split_prefix(name)
    if prefix_kind == KIND_CANONICAL:
        raise InvalidRequest("only drafts in temp/ can be promoted")
    ref = resolve_script(project, rest, KIND_DRAFT)
    _refuse_shadowing(project, ref.name)
    if (
        overwrite
        and not by_person
        and (_folder(project, KIND_CANONICAL) / f"{ref.name}.py").exists()
    ):
        raise ChangeRefused(
            f"utils_db/{ref.name}.py is a vetted script; only a person replaces it, in a terminal: "
            + hints.command(project, "promote-script", ref.name, "--overwrite")
        )
    data = _read_bytes(ref)
    check_source(data.decode("utf-8", errors="replace"), ref.relpath)
    target_dir = _folder(project, KIND_CANONICAL)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{ref.name}.py"
    existed = target.exists()
    _write_new(target, data, overwrite)
    ref.path.unlink()
    dest = ScriptRef(ref.name, KIND_CANONICAL, target, f"utils_db/{ref.name}.py")
    entry = _entry(dest, data)
    has_guard = entry.pop("has_main_guard", False)
    entry["overwritten"] = existed
    entry["from"] = ref.relpath
    entry["warnings"] = (
        []
        if has_guard
        else ['no `if __name__ == "__main__":` guard: list_scripts treats it as a library module']
    )
    return entry


# -- running ---------------------------------------------------------------------------------
def person_only(
    project: Project, name: str, args: Sequence[str] | None = ()
) -> dict[str, Any] | None:
    """When this run needs the person's own terminal (a password prompt, stdin), what to tell.

    A run through a tool has no terminal and an empty stdin, by design: a password never
    passes through an agent. So such a run is answered before anything is asked or approved
    (an approval must not be spent on a run that cannot work) with the command the person
    types in their own terminal. The arguments shown drop ``--password-stdin``: the person is
    prompted instead, so no password goes through a pipe, a file or a command line.
    """
    ref = resolve_script(project, name)
    argv = _check_args(args)
    source = _read_bytes(ref).decode("utf-8", errors="replace")
    try:
        reason = terminal_input(source, argv)
    except (SyntaxError, ValueError):
        return None  # run_script reports the syntax error itself
    if reason is None:
        return None
    shown = [a for a in argv if a != "--password-stdin"]
    command = hints.script(project, ref.relpath, *shown)
    return {
        "path": ref.relpath,
        "reason": reason,
        "command": command,
        "message": (
            f"person-only: {ref.relpath} {' '.join(argv)} needs a terminal ({reason}), and a "
            "tool run has none (no stdin, by design: passwords never pass through the agent). "
            f"Ask the person to run it in their own terminal: {command}"
        ),
    }


def readonly_bypass(source: str) -> list[str]:
    """Places where a script visibly tries to leave the read-only session default."""
    findings: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _BYPASS_TEXT.search(node.value)
            if match:
                findings.append(f"line {node.lineno}: text {match.group(0)!r}")
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in _BYPASS_KEYWORDS:
                    findings.append(f"line {node.lineno}: connection argument {kw.arg}=")
        elif isinstance(node, ast.Attribute) and node.attr in ("read_only", "set_read_only"):
            findings.append(f"line {node.lineno}: attribute .{node.attr}")
    return findings


class _Sink:
    """One output stream of a run: the first ``limit`` bytes kept, the rest counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit - self.kept
        if room > 0:
            self.chunks.append(chunk[:room])
            self.kept += min(room, len(chunk))

    def result(self, secrets: Sequence[str]) -> tuple[str, bool, int]:
        text = b"".join(self.chunks).decode("utf-8", errors="replace")
        return redact.script_output(text, secrets), self.total > self.kept, self.total


# After the script has gone, what is still in the pipes is read for at most this long: a
# process that escaped the run (only possible without the sandbox and its reaper) may hold
# them open forever, and the run's answer must not wait for it.
_DRAIN_S = 2.0
_STOP_GRACE_S = 5.0


def _collect(
    proc: subprocess.Popen[bytes], timeout: float, limit: int, reaped: bool
) -> tuple[_Sink, _Sink, bool]:
    """Read stdout and stderr until the run ends (or its timeout), never blocking on a pipe."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _Sink(limit), _Sink(limit)
    sinks = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    selector = selectors.DefaultSelector()
    for fd in sinks:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    drain_until: float | None = None
    timed_out = False
    try:
        while selector.get_map():
            now = time.monotonic()
            if drain_until is None and proc.poll() is not None:
                drain_until = now + _DRAIN_S
            elif drain_until is None and now >= deadline:
                timed_out = True
                _stop(proc, reaped)
                drain_until = time.monotonic() + _DRAIN_S
            elif drain_until is not None and now >= drain_until:
                break
            until = drain_until if drain_until is not None else deadline
            for key, _ in selector.select(timeout=max(0.0, min(0.2, until - now))):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    sinks[key.fd].add(chunk)
                else:
                    selector.unregister(key.fd)
    finally:
        selector.close()
        if proc.poll() is None:  # an error or KeyboardInterrupt while reading
            _stop(proc, reaped)
        proc.stdout.close()
        proc.stderr.close()
    proc.wait()
    return out, err, timed_out


def _readonly_url(project: Project) -> str | None:
    load_dotenv_file(project.root, only=URL_VARIABLES)
    value = os.environ.get("DATABASE_READONLY_URL")
    return validate_url(value, "DATABASE_READONLY_URL") if value else None


def _engine_root() -> Path:
    return Path(__file__).resolve().parents[2]


def script_environment(
    project: Project, url: str, *, write: bool, statement_timeout_ms: int
) -> dict[str, str]:
    """The child's environment: the project URL, import paths, and the read-only options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_"))}
    env.pop("TEST_DATABASE_URL", None)
    paths = [str(project.root.resolve()), str(_engine_root())]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env.update(
        {
            "DATABASE_URL": url,
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ litter in temp/ or utils_db/
            "PGAPPNAME": "database-use-script",
            "DATABASE_USE_SCRIPT_MODE": "write" if write else "read-only",
        }
    )
    options = f"-c statement_timeout={int(statement_timeout_ms)}"
    if not write:
        options = f"-c default_transaction_read_only=on {options}"
    env["PGOPTIONS"] = options
    return env


_SANDBOX_ENV = (
    "DATABASE_URL",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PGAPPNAME",
    "DATABASE_USE_SCRIPT_MODE",
    "PGOPTIONS",
)


def _socket_dirs(url: str) -> list[Path]:
    """Unix-socket directories the URL may use (``/tmp`` and ``/run`` are empty in the sandbox)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        hosts = str(conninfo_to_dict(url).get("host") or "").split(",")
    except Exception:  # a URL psycopg cannot parse fails later with its own message
        hosts = []
    dirs = [Path(h) for h in hosts if h.startswith("/")]
    dirs += [Path("/run/postgresql"), Path("/var/run/postgresql")]
    return [d.resolve() for d in dict.fromkeys(dirs) if d.is_dir()]


def _check_args(args: Sequence[str] | None) -> list[str]:
    if args is None:
        return []
    if isinstance(args, str | bytes):
        raise InvalidRequest("args must be a list of strings (no shell parsing is done)")
    out = [a for a in args]
    if len(out) > MAX_ARGS:
        raise InvalidRequest(f"at most {MAX_ARGS} arguments")
    for a in out:
        if not isinstance(a, str):
            raise InvalidRequest("every argument must be a string")
        if "\x00" in a or len(a) > MAX_ARG_CHARS:
            raise InvalidRequest("an argument contains a NUL byte or is too long")
    return out


def _stop(proc: subprocess.Popen[bytes], reaped: bool) -> None:
    """End a run and everything it started.

    Sandboxed, ``proc`` is bwrap: SIGKILL to its group ends the PID namespace's init, and the
    kernel kills every process inside. Under the reaper (no sandbox), SIGTERM lets it kill every
    descendant first, wherever they moved their session; SIGKILL to the group is the fallback.
    """
    if reaped:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_STOP_GRACE_S)
            return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.wait()


def run_script(
    project: Project,
    name: str,
    args: Sequence[str] | None = (),
    timeout: float = DEFAULT_TIMEOUT_S,
    write: bool = False,
    approval: Any = None,
    *,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    output_limit: int = MAX_OUTPUT_BYTES,
) -> dict[str, Any]:
    """Run a canonical script or a draft as a subprocess; read-only at the database by default.

    ``write=True`` needs ``approval``: an approval granted by a person for this script's
    content hash and these arguments (see :func:`request_write`); it is checked
    against the file as it is right now and used once.
    """
    ref = resolve_script(project, name)
    argv = _check_args(args)
    needs = person_only(project, ref.relpath, argv)
    if needs:  # before any approval is checked or used: it could not work anyway
        raise ScriptError(needs["message"])
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        raise InvalidRequest("timeout must be a number of seconds") from None
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise InvalidRequest(f"timeout must be between 1 and {MAX_TIMEOUT_S} seconds")
    data = _read_bytes(ref)
    digest = content_hash(data)
    source = data.decode("utf-8", errors="replace")
    check_source(source, ref.relpath)
    state = sandbox.require(project.root, "run_script")
    approval_info: dict[str, Any] | None = None
    readonly_enforced: bool | None = None
    if write:
        approval_info = consume_write_approval(project, ref, digest, argv, approval)
        url = project.database_url
        guard = "write mode (approved)"
    else:
        findings = readonly_bypass(source)
        if findings:
            raise ScriptError(
                f"{ref.relpath} tries to leave the read-only default ({'; '.join(findings[:3])}); "
                "run it in write mode with a person's approval instead"
            )
        ro = _readonly_url(project)
        if ro:
            role = check_readonly_role(ro)
            url, readonly_enforced = ro, state.enabled
            guard = f"read-only role {role!r} (DATABASE_READONLY_URL, checked: cannot write)"
        else:
            url, readonly_enforced = project.database_url, False
            guard = (
                "read-only is best effort without DATABASE_READONLY_URL "
                "(a session default the script can switch off)"
            )
        if not state.enabled:  # the main URL sits in .env and in our environment
            readonly_enforced = False
    env = script_environment(project, url, write=write, statement_timeout_ms=statement_timeout_ms)
    command = [sys.executable, str(ref.path), *argv]
    reaped = False
    if state.enabled:
        env = sandbox.environment({k: env[k] for k in _SANDBOX_ENV if k in env})
        extra = [Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        spec = sandbox.Spec(project.root, network=True, extra_ro=extra + _socket_dirs(url))
        command = sandbox.command(command, spec)
    else:
        command, reaped = sandbox.unsandboxed(command)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            cwd=str(project.root),
            env=env,
            stdin=subprocess.DEVNULL,  # no prompts: passwords are never fed through a tool
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group and session, away from the server's
        )
    except OSError as exc:
        raise ScriptError(f"could not start {ref.relpath}: {exc}") from None
    out, err, timed_out = _collect(proc, timeout, output_limit, reaped)
    duration = time.monotonic() - started
    secrets = [url, project.database_url]
    stdout, out_cut, out_total = out.result(secrets)
    stderr, err_cut, err_total = err.result(secrets)
    if timed_out:
        stderr += f"\n[database-use] killed after {timeout:g} s (timeout)\n"
    return {
        "name": ref.name,
        "kind": ref.kind,
        "path": ref.relpath,
        "sha256": digest,
        "args": argv,
        "mode": "write" if write else "read-only",
        "guard": guard,
        "sandboxed": state.enabled,
        "sandbox": state.label,
        "readonly_enforced": readonly_enforced,
        "exit_code": proc.returncode,
        "ok": proc.returncode == 0 and not timed_out,
        "timed_out": timed_out,
        "duration_s": round(duration, 3),
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": out_cut,
        "stderr_truncated": err_cut,
        "stdout_bytes": out_total,
        "stderr_bytes": err_total,
        "approval": approval_info,
    }


# -- write approvals (utils_db/approvals.py) --------------------------------------------------
# A person approves one run: this file (its SHA-256, checked again right before the run), with
# exactly these arguments, against this database. The approval's subject id is derived from
# the path, the arguments and the hash, so a changed script or other arguments need a new
# approval; the request record only tells the approve command what to show.
REQUEST_ID_RE = re.compile(r"^script-[a-z][a-z0-9_]{0,63}-[0-9a-f]{16}$")


def _requests_dir(project: Project) -> Path:
    return project.root / ".roo" / "script_requests"


def request_id(ref: ScriptRef, argv: Sequence[str], digest: str) -> str:
    key = json.dumps([ref.relpath, list(argv), digest], separators=(",", ":"))
    return f"script-{ref.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _target(project: Project) -> str:
    return describe_target(project.database_url)


def _identity(project: Project) -> str:
    """The database's own identity (system_identifier:oid): what an approval is bound to."""
    from database_use import approvals

    with project.connect(readonly=True) as conn:
        identity = approvals.database_identity(conn)
        conn.rollback()
    return identity


def request_write(project: Project, name: str, args: Sequence[str] | None = ()) -> dict[str, Any]:
    """Record that a write-mode run of ``name`` with ``args`` awaits a person's approval."""
    ref = resolve_script(project, name)
    argv = _check_args(args)
    needs = person_only(project, ref.relpath, argv)
    if needs:  # nothing to approve: a tool run of it cannot work
        raise ScriptError(needs["message"])
    data = _read_bytes(ref)
    digest = content_hash(data)
    hidden = hidden_places(data.decode("utf-8", errors="replace"))
    hidden += [f"argument {i}" for i, a in enumerate(argv, 1) if hidden_places(a)]
    if hidden:
        raise ChangeRefused(
            f"{ref.relpath} holds control or invisible characters ({'; '.join(hidden[:3])}): a "
            "person could not see what they approve; write them as escapes (\\x1b) instead"
        )
    rid = request_id(ref, argv, digest)
    record = {
        "id": rid,
        "name": ref.name,
        "kind": ref.kind,
        "path": ref.relpath,
        "args": argv,
        "sha256": digest,
        "target": _target(project),
        "database": _identity(project),
    }
    folder = _requests_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{rid}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, folder / f"{rid}.json")
    return {
        **record,
        "approve_command": hints.command(project, "approve-script", rid),
        "status": _status(project, record),
    }


def _status(project: Project, record: dict[str, Any]) -> dict[str, Any]:
    from database_use import approvals

    return approvals.approval_status(
        project, "script", record["id"], record["sha256"], target=record.get("database")
    )


def load_request(project: Project, rid: str) -> dict[str, Any]:
    """A pending write request, checked against the script as it is now on disk."""
    if not isinstance(rid, str) or not REQUEST_ID_RE.match(rid):
        raise InvalidRequest(
            f"invalid script approval id {str(rid)[:80]!r} (expected script-NAME-HEX16)"
        )
    path = _requests_dir(project) / f"{rid}.json"
    try:
        record = json.loads(path.read_text())
        name, argv = record["path"], _check_args(record["args"])
    except FileNotFoundError:
        raise NotFound(
            f"no pending script approval {rid}; run the script in write mode to ask again"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, InvalidRequest):
        raise ScriptError(f"the script approval request {rid} is malformed; ask again") from None
    ref = resolve_script(project, name)
    data = _read_bytes(ref)
    digest = content_hash(data)
    # Recompute the id from what will be shown: an edited record cannot smuggle other args in.
    if request_id(ref, argv, digest) != rid:
        raise ChangeRefused(
            f"{ref.relpath} or its arguments changed since approval {rid} was requested; ask again"
        )
    return {
        "id": rid,
        "name": ref.name,
        "kind": ref.kind,
        "path": ref.relpath,
        "args": argv,
        "sha256": digest,
        "target": _target(project),
        "database": _identity(project),
        "source": data.decode("utf-8", errors="replace"),
    }


# Lines a person must read before a write run: SQL, sessions, connections, commits. Matched
# loosely on purpose (``dict.update`` shows too): showing a line too many is cheap.
_DB_LINE = re.compile(
    r"\b(insert|update|delete|drop|alter|create|truncate|grant|revoke|merge|copy|select|"
    r"execute|executemany|commit|flush|rollback|session|connect|engine|cursor)\b|\btext\(",
    re.I,
)
_WHOLE_UP_TO = 40  # a script this short is shown whole
_DB_LINES_SHOWN = 80


def approval_text(request: dict[str, Any]) -> str:
    """What a person reads before approving a write-mode run (deterministic: no clock inside).

    The mode, the command, the size and hash, then the source: whole when short, otherwise the
    lines that touch the database (SQL, sessions, commits) with their numbers, and where to
    read the whole file (the approval covers all of it). Control, escape, bidi and zero-width
    characters are escaped, and counted in a warning."""
    lines = request["source"].split("\n")  # as Python numbers lines: a lone CR stays visible
    if lines and lines[-1] == "":
        lines.pop()
    numbered = [(n, line) for n, line in enumerate(lines, 1)]
    path = request["path"]
    if len(lines) <= _WHOLE_UP_TO:
        body = f"--- {path} ---\n" + "\n".join(f"{n:4d}  {line}" for n, line in numbered)
    else:
        touching = [(n, line) for n, line in numbered if _DB_LINE.search(line)]
        shown = "\n".join(f"{n:4d}  {line}" for n, line in touching[:_DB_LINES_SHOWN])
        more = (
            f"\n      ... {len(touching) - _DB_LINES_SHOWN} more such lines"
            if len(touching) > _DB_LINES_SHOWN
            else ""
        )
        body = (
            f"--- lines of {path} that touch the database ({len(touching)} of {len(lines)}) ---\n"
            f"{shown or '      (none found by name: read the file)'}{more}\n"
            f"The approval covers the whole file: read all of it in {path} before approving."
        )
    command = " ".join(["python", path, *[subprocess.list2cmdline([a]) for a in request["args"]]])
    hidden = hidden_characters(request["source"]) + sum(
        hidden_characters(a) for a in request["args"]
    )
    warning = (
        f"WARNING: the script or its arguments contain {hidden} invisible or terminal-control "
        "characters (shown escaped below, e.g. \\x1b); a trustworthy script has none.\n"
        if hidden
        else ""
    )
    size = len(request["source"].encode("utf-8"))
    return escape_for_display(
        f"Run {path} in WRITE mode against {request['target']} "
        f"(identity {request.get('database')})?\n"
        f"It may change data: the read-only guard is off for this one run.\n{warning}"
        f"Command: {command}\n"
        f"Size: {len(lines)} lines, {size:,} bytes; SHA-256: {request['sha256']}\n"
        f"{body}\n--- end ---"
    )


def grant_request(
    project: Project, rid: str, signer: Any, approved_by: str | None = None
) -> dict[str, Any]:
    """Record a person's yes for request ``rid``, signed with the key their passphrase unlocked
    (only the terminal face has one)."""
    from database_use import approvals

    request = load_request(project, rid)
    appr = approvals.grant(
        project,
        "script",
        rid,
        request["sha256"],
        signer=signer,
        target=request["database"],
        approved_by=approved_by,
    )
    return {"id": rid, "path": request["path"], "args": request["args"], "approval": appr.to_dict()}


def consume_write_approval(
    project: Project, ref: ScriptRef, digest: str, argv: Sequence[str], approval: Any
) -> dict[str, Any]:
    """Check and use a person's approval for a write-mode run; fail closed without one."""
    from database_use import approvals

    rid = request_id(ref, argv, digest)
    if approval is not None and getattr(approval, "subject_id", rid) != rid:
        raise ChangeRefused(f"the approval given is for {approval.subject_id}, not for {rid}")
    try:
        given = approval if approval is not None else approvals.load(project, "script", rid)
        appr = approvals.check(given, project, "script", rid, digest, target=_identity(project))
        approvals.consume(project, appr)
    except ChangeRefused as exc:
        request_write(project, ref.relpath, argv)
        raise ChangeRefused(
            f"write mode for {ref.relpath} needs a person's approval of this exact file and these "
            f"arguments ({exc.message}); a person can approve request {rid} by running: "
            f"{hints.command(project, 'approve-script', rid)}"
        ) from None
    with contextlib.suppress(OSError):
        (_requests_dir(project) / f"{rid}.json").unlink()
    return {"id": rid, **appr.to_dict()}


def elicited_write_approval(project: Project, rid: str) -> Any:
    """The person accepted request ``rid`` in the MCP client's dialog: an in-memory approval
    for :func:`run_script` in that same call (refused unless the person's config allows it)."""
    from database_use import approvals

    request = load_request(project, rid)
    return approvals.elicited(project, "script", rid, request["sha256"], target=request["database"])


def record_decline(project: Project, rid: str, seen: bool = True) -> dict[str, Any]:
    """A "no" to request ``rid`` in the client's dialog: the dialog does not ask again (other
    content or arguments make a new request). ``seen``: the person sent the form; otherwise the
    client declined by itself, which some do without showing anything."""
    from datetime import UTC, datetime

    load_request(project, rid)
    record = {
        "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "by": "the person at the MCP client" if seen else "the MCP client",
        "channel": "elicitation",
        "seen": seen,
    }
    (_requests_dir(project) / f"{rid}.declined").write_text(json.dumps(record) + "\n")
    return record


def decline_of(project: Project, rid: str) -> dict[str, Any] | None:
    """The recorded decline of request ``rid`` (None when nobody declined it)."""
    if not was_declined(project, rid):
        return None
    try:
        data = json.loads((_requests_dir(project) / f"{rid}.declined").read_text())
    except (OSError, ValueError):
        data = None
    return data if isinstance(data, dict) else {"seen": True, "by": "the person", "at": "?"}


def was_declined(project: Project, rid: str) -> bool:
    return (
        REQUEST_ID_RE.match(rid) is not None
        and (_requests_dir(project) / f"{rid}.declined").exists()
    )
