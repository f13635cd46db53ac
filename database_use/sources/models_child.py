"""The models load, run in a fresh interpreter started by ``models.load_models``.

It imports the project's ``models/models_*.py`` and writes to the stdout it was started with
a line of JSON, ``{"origins", "deps"}`` or ``{"error"}``, and after the former a second
one, the snapshot. Everything the models
print goes to stderr, so their output cannot be mistaken for the answer. The interpreter then
exits without tearing down what the models built.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path


def main(root: str) -> int:
    # The load builds millions of long-lived objects (classes, mappers, tables) and frees
    # almost none: every collection the collector starts on the way walks them all for
    # nothing (about a third of the load's time at 1,000 tables). The process ends below.
    gc.disable()
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the models' own prints land on stderr
    sys.stdout = sys.stderr
    from database_use.errors import DatabaseUseError
    from database_use.sources.models import load_in_this_process

    try:
        result = load_in_this_process(Path(root))
    except DatabaseUseError as exc:
        result = {"error": exc.message}
    except BaseException as exc:  # noqa: BLE001 - the parent turns it into one line
        result = {"error": f"cannot load the models: {type(exc).__name__}: {exc}"[:500]}
    # One line of JSON (origins and deps, or the error), then the snapshot's JSON: the parent
    # stores that text in the models cache as it came, without encoding it again.
    snapshot = result.pop("snapshot", None)
    answer.write(json.dumps(result))
    if snapshot is not None:
        answer.write("\n" + snapshot)  # already JSON text
    answer.flush()
    sys.stderr.flush()
    os._exit(0)  # no teardown of millions of objects: the answer is written
