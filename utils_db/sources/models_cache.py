"""A cache of the models snapshot, so repeated compares skip re-executing the model files.

Executing 1,000 declarative classes costs SQLAlchemy seconds (mapper set-up), while the live
database reads in a fraction of that; agents compare again and again between model edits.
The cache (``.roo/cache/models-snapshot.json``) is used only when everything that shaped the
snapshot is byte-identical: every project file executed during the load (the ``models_*.py``
files and any project module they imported), the set of ``models_*.py`` files, the engine code
that builds the snapshot and SQLAlchemy's version. Anything else — a changed file, a new
models file, a corrupt cache — means a normal load. Model files whose tables depend on the
environment at import time should set ``DATABASE_USE_MODELS_CACHE=0``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from utils_db.snapshot import Snapshot

log = logging.getLogger("database_use.models_cache")

FORMAT = 1
_ENGINE_FILES = ("sources/models.py", "normalize.py", "snapshot.py", "sources/models_cache.py")


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


def _environment_key(root: Path, files: list[Path]) -> str:
    from importlib import metadata

    package = Path(__file__).resolve().parent.parent
    try:
        sqlalchemy_version = metadata.version("sqlalchemy")
    except metadata.PackageNotFoundError:  # pragma: no cover - sqlalchemy is a dependency
        sqlalchemy_version = "?"
    material = {
        "format": FORMAT,
        "root": str(root),
        "sqlalchemy": sqlalchemy_version,
        "engine": {name: _sha(package / name) for name in _ENGINE_FILES},
        "models_files": [p.relative_to(root).as_posix() for p in files],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def read(root: Path, files: list[Path]) -> Snapshot | None:
    """The cached snapshot when every input is unchanged, else None (never raises)."""
    path = cache_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != _environment_key(root, files):
            return None
        for rel, digest in data["deps"].items():
            if _sha(root / rel) != digest:
                return None
        snap = Snapshot.from_dict(data["snapshot"])
        snap.model_origins = {k: tuple(v) for k, v in data["origins"].items()}  # type: ignore[attr-defined]
        return snap
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(root: Path, files: list[Path], deps: list[Path], snap: Snapshot) -> None:
    """Store the snapshot with the hashes of what shaped it; failures only skip caching."""
    path = cache_path(root)
    try:
        digests: dict[str, Any] = {}
        for dep in sorted({*files, *deps}):
            rel = dep.resolve().relative_to(root).as_posix()
            digests[rel] = _sha(root / rel)
        data = {
            "key": _environment_key(root, files),
            "deps": digests,
            "snapshot": snap.to_dict(),
            "origins": getattr(snap, "model_origins", {}),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        log.debug("models cache not written: %s", exc)
