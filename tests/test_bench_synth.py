"""The benchmark's synthetic schema: its DDL and its models describe the same schema.

Functional checks only (no timings): if the generator's two outputs drifted apart, the
benchmark would time a comparison that reports differences instead of a clean one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.run import Timing, build_rows, build_schema, markdown_table, write_project
from bench.synth import ddl_batches, models_files, models_source, plan_schema
from tests.conftest import REPO_ROOT

N_TABLES = 12  # enough for every feature of the mix: enums, gin, partial, 2 FKs, uniques


def _child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["DATABASE_URL"] = url
    return env


@pytest.fixture
def synthetic(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    plan = plan_schema(N_TABLES)
    build_schema(db_url, plan)
    # Several models files, with foreign keys between them, as a real project splits models.
    return db_url, write_project(tmp_path / "bench_project", plan, per_file=5)


def test_plan_is_deterministic_and_covers_the_mix() -> None:
    first, second = plan_schema(40), plan_schema(40)
    assert models_source(first) == models_source(second)
    files = models_files(first, per_file=15)  # split files together declare every table
    assert list(files) == ["models_bench_0000.py", "models_bench_0001.py", "models_bench_0002.py"]
    assert sum(src.count("__tablename__") for src in files.values()) == 40
    assert list(ddl_batches(first)) == list(ddl_batches(second))
    indexes = [ix for t in first.tables for ix in t.indexes]
    assert any(ix.method == "gin" for ix in indexes)
    assert any(ix.where for ix in indexes)
    assert any(len(t.foreign_keys) == 2 for t in first.tables)
    assert any(len(cols) > 1 for t in first.tables for cols in t.uniques)
    assert any(c.kind == "enum" for t in first.tables for c in t.columns)
    counts = first.counts()
    assert counts["tables"] == 40 and counts["enums"] >= 2
    # Foreign keys only point backwards, so tables can be created in plan order.
    position = {t.name: i for i, t in enumerate(first.tables)}
    assert all(
        position[fk.target] < position[t.name] for t in first.tables for fk in t.foreign_keys
    )


def test_ddl_builds_every_planned_object(synthetic: tuple[str, Path]) -> None:
    url, _ = synthetic
    counts = plan_schema(N_TABLES).counts()
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone()[0]
        fks = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'").fetchone()[0]
        enums = conn.execute("SELECT count(*) FROM pg_type WHERE typtype = 'e'").fetchone()[0]
        comments = conn.execute(
            "SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid"
            " WHERE d.objsubid = 0 AND c.relkind = 'r'"
        ).fetchone()[0]
    assert (tables, fks, enums, comments) == (
        N_TABLES,
        counts["foreign_keys"],
        counts["enums"],
        N_TABLES,
    )


def test_alembic_finds_models_equal_to_the_database(synthetic: tuple[str, Path]) -> None:
    url, root = synthetic
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "alembic_compare.py"), str(root)],
        env=_child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


def test_engine_finds_models_equal_to_the_database(synthetic: tuple[str, Path]) -> None:
    url, root = synthetic
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "utils_db" / "schema_inspector.py"),
            "compare-db-models",
            "--format",
            "json",
            "--project-root",
            str(root),
        ],
        env=_child_env(url),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(proc.stdout)
    assert data.get("differences") == [], json.dumps(data, indent=1)[:3000]
    assert proc.returncode == 0, proc.stderr


def test_report_marks_unmet_targets_and_skips_failed_commands() -> None:
    timings = [
        Timing("pg_dump --schema-only", 1000, [1.0, 1.0], [0, 0]),
        Timing("alembic compare_metadata", 1000, [3.0], [0]),
        Timing("introspect", 1000, [2.0], [0]),
        Timing("generate-docs", 1000, [1.1], [0]),
        Timing("compare-db-models", 1000, [0.2], [0]),
        Timing("validate", 1000, [0.1], [2], note="exit 2: boom", failed=True),
    ]
    rows = {r.command: r for r in build_rows(timings)}
    assert rows["introspect"].ratio == 2.0 and rows["introspect"].met is False
    assert rows["generate-docs"].met is True
    assert rows["compare-db-models vs alembic"].met is True
    assert rows["validate"].ratio is None and rows["validate"].met is None
    table = markdown_table(list(rows.values()))
    assert "**NO**" in table and "**FAILED**" in table and "exit 2: boom" in table
