"""The seed-named entry point of this project: ``python utils_db/schema_inspector.py <command>``.

It only hands over to the installed tool (``database-use``, package ``database_use``); the
commands, options and exit codes are the tool's (``database-use --help``).
"""

import sys
from pathlib import Path

# Run as a file, Python puts this folder first on sys.path; its modules must not shadow
# installed ones (a script here named like a library would otherwise win).
_here = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _here]

try:
    from database_use.cli.main import main
except ImportError:  # the tool is not installed in this interpreter
    sys.exit(
        f"database-use is not installed for {sys.executable}: see README, 'Use it in your project'"
    )

if __name__ == "__main__":
    sys.exit(main())
