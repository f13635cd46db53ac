"""A cache of the models snapshot, so repeated compares skip re-executing the model files.

Executing 1,000 declarative classes costs SQLAlchemy seconds (mapper set-up), while the live
database reads in a fraction of that; agents compare again and again between model edits.
The cache (``.roo/cache/models-snapshot.json``: a line of JSON with what the snapshot depends
on, then the snapshot's JSON) is used only when everything that shaped the
snapshot is unchanged: every module file the load imported — project files by content, files
of installed packages and of the interpreter by size and modification time, so an upgraded
package or SQLAlchemy misses — the set of ``models_*.py`` files and the interpreter. A wrong
hit is worse than a miss: anything unreadable means a normal load. Model files whose tables
depend on the environment at import time should set ``DATABASE_USE_MODELS_CACHE=0``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from database_use.schema.snapshot import Snapshot

log = logging.getLogger("database_use.models_cache")

FORMAT = 4  # 4: the header line, then the snapshot


def enabled() -> bool:
    return os.environ.get("DATABASE_USE_MODELS_CACHE", "1").strip().lower() not in (
        "0",
        "no",
        "off",
        "false",
    )


def cache_path(root: Path) -> Path:
    return root / ".roo" / "cache" / "models-snapshot.json"


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _stat(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


@functools.cache
def installed_roots() -> tuple[Path, ...]:
    """Folders of installed code (site-packages, the standard library), inside the root or not."""
    import site
    import sysconfig

    found = {sys.prefix, sys.base_prefix, *site.getsitepackages()}
    found.update(p for k in ("purelib", "platlib", "stdlib") if (p := sysconfig.get_path(k)))
    return tuple(Path(p).resolve() for p in found if p)


def _fingerprint(root: Path, dep: Path, installed: tuple[Path, ...]) -> str | None:
    """Content hash for the project's own files; size and mtime for installed code."""
    if dep.is_relative_to(root) and not any(dep.is_relative_to(i) for i in installed):
        digest = _sha(dep)
        return None if digest is None else "sha256:" + digest
    stat = _stat(dep)
    return None if stat is None else "stat:" + stat


def _environment_key(root: Path, files: list[Path]) -> str:
    material = {
        "format": FORMAT,
        "root": str(root),
        "python": [sys.executable, sys.version],
        "models_files": [p.relative_to(root).as_posix() for p in files],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def read(root: Path, files: list[Path]) -> Snapshot | None:
    """The cached snapshot when every input is unchanged, else None (never raises).

    The file's first line is what the answer depends on (key, fingerprints, origins), the
    rest the snapshot: a miss (the usual case after a models edit) reads one short line."""
    path = cache_path(root)
    try:
        with path.open(encoding="utf-8") as stream:
            header = json.loads(stream.readline())
            if header.get("key") != _environment_key(root, files):
                return None
            installed = installed_roots()
            for dep, mark in header["deps"].items():
                if _fingerprint(root, Path(dep), installed) != mark:
                    return None
            snap = Snapshot.from_dict(json.loads(stream.read()))
        snap.source = "models"
        snap.model_origins = {k: tuple(v) for k, v in header["origins"].items()}  # type: ignore[attr-defined]
        return snap
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(
    root: Path, files: list[Path], deps: list[str], snap: Snapshot, raw: str | None = None
) -> None:
    """Store the snapshot with the fingerprints of what shaped it; failures only skip caching.

    ``raw``: the snapshot's JSON text already (the models child's answer, which ``snap`` was
    read from), stored as it came instead of serialising ``snap`` again."""
    path = cache_path(root)
    try:
        installed = installed_roots()
        marks: dict[str, Any] = {}
        for dep in sorted({*(str(f.resolve()) for f in files), *deps}):
            mark = _fingerprint(root, Path(dep), installed)
            if mark is None:
                log.info("models cache not written: %s cannot be read", dep)
                return  # the key cannot be known: do not cache
            marks[dep] = mark
        header = {
            "key": _environment_key(root, files),
            "deps": marks,
            "origins": getattr(snap, "model_origins", {}),
        }
        body = snap.to_compact_json() if raw is None else raw
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(header, sort_keys=True) + "\n" + body, encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        log.debug("models cache not written: %s", exc)
