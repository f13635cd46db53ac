"""The seed-named entry point of this project: ``python utils_db/schema_inspector.py <command>``.

It only hands over to the installed tool (``database-use``, package ``database_use``); the
commands, options and exit codes are the tool's (``database-use --help``).
"""

import os  # noqa: I001 - os and sys are loaded before any file of this folder can be
import sys

# Run as a file, Python puts this folder first on sys.path; its modules must not shadow
# installed ones (a script here named like a library would otherwise win). Nothing but the
# interpreter's own already-loaded modules is imported before this line.
_here = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _here]

try:
    from database_use.cli.main import entry
except ImportError:  # the tool is not installed in this interpreter
    sys.exit(
        f"database-use is not installed for {sys.executable}: see README, 'Use it in your project'"
    )

if __name__ == "__main__":
    entry()
