"""The project's facts: ``[tool.database-use]`` in its ``pyproject.toml``, this repo's layout as defaults.

These are facts about one project (where its models, doc and scripts are, its default port, its
sensitive columns), never security policy: approval lifetime, key location, the sandbox and
elicitation come only from the person's own user-level config, so no key here can set them.

    [tool.database-use]
    models = "models/models_*.py"
    doc = ".roo/docs/database_schema.md"
    changelog = ".roo/docs/pgdb_changes.md"
    reports = ".roo/reports"
    drafts = "temp"
    scripts = "utils_db"
    default-port = 5433
    password-hash-column = "pw_hashed"
    sensitive-columns = ["pw_hashed"]
    preferred-utilities = ["utils_db/user_password_utils.py"]
    owner-role = "app_owner"

``owner-role`` is the NAME of the role that owns the app's tables (strict mode: the person's
own apply command logs in as it, with a password typed on their terminal). Only the name is
kept here, never a password; ``database-use roles setup`` writes it (:func:`write_owner_role`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from database_use.errors import ConfigError

TABLE = "tool.database-use"
MODELS_GLOB = "models/models_*.py"


@dataclass(frozen=True)
class ProjectConfig:
    models: str = MODELS_GLOB
    doc: str = ".roo/docs/database_schema.md"
    changelog: str = ".roo/docs/pgdb_changes.md"
    reports: str = ".roo/reports"
    drafts: str = "temp"
    scripts: str = "utils_db"
    default_port: int = 5433
    password_hash_column: str = "pw_hashed"
    sensitive_columns: tuple[str, ...] = ("pw_hashed",)
    preferred_utilities: tuple[str, ...] = (
        "utils_db/user_password_utils.py",
        "utils_db/user_management_utils.py",
        "utils_db/media_utils.py",
    )
    owner_role: str | None = None  # strict mode: the owner role's name (never its password)
    # Whether the values came from a [tool.database-use] table (False: all defaults).
    from_file: bool = field(default=False, compare=False)

    def facts(self) -> dict[str, Any]:
        """The facts as plain data, for the MCP server's instructions and answers."""
        return {
            "models": self.models,
            "doc": self.doc,
            "changelog": self.changelog,
            "reports": self.reports,
            "drafts": self.drafts,
            "scripts": self.scripts,
            "default_port": self.default_port,
            "password_hash_column": self.password_hash_column,
            "sensitive_columns": list(self.sensitive_columns),
            "preferred_utilities": list(self.preferred_utilities),
            "owner_role": self.owner_role,
            "configured_in": "pyproject.toml [tool.database-use]" if self.from_file else "defaults",
        }


_PATHS = ("models", "doc", "changelog", "reports", "drafts", "scripts")
_LISTS = ("sensitive-columns", "preferred-utilities")


def load_config(root: Path) -> ProjectConfig:
    """Read ``[tool.database-use]`` from ``<root>/pyproject.toml``; defaults where absent.

    Raises :class:`ConfigError` (one line) for an unreadable file, an unknown key or a bad value.
    """
    path = root / "pyproject.toml"
    data = read_pyproject(path)
    table = data.get("tool", {}).get("database-use")
    if table is None:
        return ProjectConfig()
    if not isinstance(table, dict):
        raise ConfigError(f"[{TABLE}] in {path.name} must be a table")
    known = {*_PATHS, "default-port", "password-hash-column", "owner-role", *_LISTS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in [{TABLE}] of {path.name}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    for key in _PATHS:
        if key in table:
            values[key] = _relative_path(table[key], key)
    if values.get("models", MODELS_GLOB) != MODELS_GLOB:
        # The models loader reads exactly this glob; accepting another value would be a lie.
        raise ConfigError(
            f"[{TABLE}] models = {values['models']!r} is not supported yet: "
            f"the models must be in {MODELS_GLOB}"
        )
    if "default-port" in table:
        port = table["default-port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(f"[{TABLE}] default-port must be a port number, got {port!r}")
        values["default_port"] = port
    if "password-hash-column" in table:
        values["password_hash_column"] = _string(
            table["password-hash-column"], "password-hash-column"
        )
    if "owner-role" in table:
        values["owner_role"] = _string(table["owner-role"], "owner-role")
    for key in _LISTS:
        if key in table:
            items = table[key]
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise ConfigError(f"[{TABLE}] {key} must be a list of strings")
            values[key.replace("-", "_")] = tuple(items)
    return ProjectConfig(**values, from_file=True)


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[{TABLE}] {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _relative_path(value: Any, key: str) -> str:
    text = _string(value, key).rstrip("/")
    parts = Path(text).parts
    if Path(text).is_absolute() or ".." in parts:
        raise ConfigError(f"[{TABLE}] {key} must be a path inside the project, got {text!r}")
    return text


def is_project(root: Path) -> bool:
    """A database-use project: ``[tool.database-use]``, a models dir matching the glob, or ``.roo/``.

    An unreadable ``pyproject.toml`` raises :class:`ConfigError` (its own message helps more).
    """
    if not root.is_dir():
        return False
    if (root / ".roo").is_dir() or any(root.glob(MODELS_GLOB)):
        return True
    return "database-use" in read_pyproject(root / "pyproject.toml").get("tool", {})


def read_pyproject(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}: {' '.join(str(exc).split())}") from None


_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*(?:\"database-use\"|database-use)\s*\]\s*(?:#.*)?$")
_OWNER_LINE = re.compile(r"^\s*owner-role\s*=")


def write_owner_role(root: Path, role: str) -> Path:
    """Set ``owner-role = "<role>"`` in ``[tool.database-use]`` of ``<root>/pyproject.toml``
    (the table added when absent; every other line kept). Atomic; checked by parsing again."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", role):
        raise ConfigError(f"owner role name {role!r} cannot be written to pyproject.toml")
    path = root / "pyproject.toml"
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; owner-role was not written")
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    line = f'owner-role = "{role}"\n'
    lines = old.splitlines(keepends=True)
    out: list[str] = []
    in_table = done = False
    for existing in lines:
        stripped = existing.strip()
        if stripped.startswith("["):
            if in_table and not done:
                out.append(line)
                done = True
            in_table = bool(_HEADER.match(existing))
        if in_table and _OWNER_LINE.match(existing):
            if not done:
                out.append(line)
                done = True
            continue
        out.append(existing)
        if in_table and _HEADER.match(existing) and not done:
            out.append(line)
            done = True
    if not done:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(("\n" if out else "") + "[tool.database-use]\n" + line)
    text = "".join(out)
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot write owner-role to {path.name}: {exc}") from None
    if parsed.get("tool", {}).get("database-use", {}).get("owner-role") != role:
        raise ConfigError(f"cannot write owner-role to {path.name} safely; add it by hand")
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".pyproject.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if old:
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
