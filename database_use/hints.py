"""The one place that writes a command the tool tells someone to run.

Every hint, next step and ``approve_command`` goes through :func:`command`, so what a person is
told to run works where they run it: the installed console script ``database-use`` (not a
seed-named file the project may not have), reached through the interpreter that has the tool,
with ``--project-root`` when the current directory is not the project's root. MCP answers are
read by an agent working in the project, so the path of a venv inside the project is given
relative to its root.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from database_use.project import Project

SCRIPT = "database-use"


def program(root: Path | None) -> str:
    """How to start the tool: ``database-use`` when that on PATH is this install, else its path
    (relative to ``root`` when given: the command is run from there)."""
    beside = Path(sys.executable).parent / SCRIPT
    found = shutil.which(SCRIPT)
    if found and (not beside.is_file() or Path(found).resolve() == beside.resolve()):
        return SCRIPT
    if beside.is_file():
        if root is not None and beside.is_relative_to(root):
            return shlex.quote(str(beside.relative_to(root)))
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m database_use"


def command(project: Project, *args: str) -> str:
    """The shell command that runs ``database-use ARGS`` on ``project`` from where it is read."""
    try:
        here = Path(os.getcwd()).resolve()
    except OSError:
        here = None
    at_root = here == project.root
    parts = [program(project.root if at_root else None), *(shlex.quote(a) for a in args)]
    if not at_root:
        parts += ["--project-root", shlex.quote(str(project.root))]
    return " ".join(parts)


def plain(*args: str) -> str:
    """``database-use ARGS`` as written into files (doc and log headers): run from the project root."""
    return " ".join([SCRIPT, *(shlex.quote(a) for a in args)])


def script(project: Project, relpath: str, *args: str) -> str:
    """The shell command a person runs in their own terminal for the project's script
    ``relpath`` (``utils_db/x.py``) with ``args``: from the project root, with the interpreter
    that has the tool (relative to the root when it is the project's own venv)."""
    python = Path(sys.executable)
    shown = (
        str(python.relative_to(project.root))
        if python.is_relative_to(project.root)
        else str(python)
    )
    parts = [shlex.quote(shown), shlex.quote(relpath), *(shlex.quote(a) for a in args)]
    try:
        at_root = Path(os.getcwd()).resolve() == project.root
    except OSError:
        at_root = False
    prefix = "" if at_root else f"cd {shlex.quote(str(project.root))} && "
    return prefix + " ".join(parts)
