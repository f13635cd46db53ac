"""The example app's models: importing this package loads every ``models_*.py`` beside it."""

from __future__ import annotations

import importlib
from pathlib import Path

for _path in sorted(Path(__file__).parent.glob("models_*.py")):
    importlib.import_module(f"{__name__}.{_path.stem}")
