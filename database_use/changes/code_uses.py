"""Where the project's own Python code uses a name: before advice calls a rename safe.

Read with ``ast`` only (nothing is imported or run): every ``.py`` file under the project root
except virtual environments (any folder holding ``pyvenv.cfg``, and ``.venv``/``venv``/``env``
by name), ``site-packages``, caches and the tool's own ``.roo`` state. A use is an attribute
(``user.username``, ``User.username``), a keyword argument (``filter_by(username=...)``) or a
string that is exactly the name (``getattr(user, "username")``).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

SKIP_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "env",
        ".git",
        ".hg",
        ".roo",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
    }
)
MAX_FILE_BYTES = 1_000_000
MAX_FILES = 5_000


def python_files(root: Path) -> list[Path]:
    """The project's own .py files (no venvs, caches or VCS folders), sorted."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists()
        )
        found += [here / f for f in sorted(files) if f.endswith(".py")]
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def _uses_in(tree: ast.AST, name: str) -> list[int]:
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == name:
            lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg == name:
            lines.append(getattr(node, "lineno", 0) or 0)
        elif isinstance(node, ast.Constant) and node.value == name:
            lines.append(node.lineno)
    return sorted(set(lines))


def find_uses(root: Path, name: str) -> tuple[list[str], int]:
    """``(["path:line", ...], files searched)`` for the uses of ``name`` in the project's code."""
    places: list[str] = []
    files = python_files(root)
    for path in files:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        rel = path.relative_to(root).as_posix()
        places += [f"{rel}:{line}" for line in _uses_in(tree, name)]
    return places, len(files)
