"""The baseline for ``compare-db-models``: alembic's autogenerate comparison, as a whole process.

Usage: ``DATABASE_URL=... python bench/alembic_compare.py PROJECT_ROOT``

Loads every ``models/models_*.py`` under PROJECT_ROOT by file path (as the engine does), then
runs ``alembic.autogenerate.compare_metadata`` against the live database with type and
server-default comparison switched on, so alembic checks roughly what our comparer checks.
Prints the number of differences alembic found (stdout) and exits 0.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path


def load_models(project_root: Path) -> None:
    for index, path in enumerate(sorted((project_root / "models").glob("models_*.py"))):
        spec = importlib.util.spec_from_file_location(f"_bench_models_{index}", path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from database_use.settings import sqlalchemy_url, validate_url
    from utils_db.database import db

    load_models(Path(argv[0]))
    engine = create_engine(sqlalchemy_url(validate_url(os.environ.get("DATABASE_URL"))))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    print(len(differences))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
