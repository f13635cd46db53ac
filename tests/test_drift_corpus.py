"""The corpus of real-world model patterns (tests/corpus/models_*.py) on a real PostgreSQL.

Each pattern: ``create_all`` builds the database, then db ↔ models compares clean, twice (cold
and from the models cache). Then a table of drifts, each applied by SQL to the live database,
must be found with the right object, attribute and fix line.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from database_use import service
from database_use.project import Project
from database_use.settings import sqlalchemy_url
from database_use.sources.models import _collect_metadata

CORPUS = Path(__file__).resolve().parent / "corpus"
PATTERNS = sorted(p.stem for p in CORPUS.glob("models_*.py"))


def _import(path: Path):
    name = f"_corpus_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def build(url: str, pattern_file: Path) -> None:
    """create_all every MetaData the file defines, after creating the schemas they use."""
    from sqlalchemy import create_engine

    metadatas = _collect_metadata([_import(pattern_file)])
    for metadata in metadatas:
        for table in metadata.tables.values():
            # index=True plus Index("ix_…") of that name: create_all itself fails on it (the
            # second CREATE INDEX), so projects with it build the database with migrations,
            # which create the index once; do the same here.
            names: set[str] = set()
            for index in sorted(table.indexes, key=lambda i: (str(i.name), id(i))):
                if index.name in names:
                    table.indexes.discard(index)
                names.add(index.name)
    schemas = {t.schema for m in metadatas for t in m.tables.values() if t.schema}
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for schema in sorted(schemas - {"public"}):
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for metadata in metadatas:
            metadata.create_all(engine)
    finally:
        engine.dispose()


def make_project(tmp_path: Path, url: str, *patterns: str) -> Project:
    root = tmp_path / "proj"
    (root / "models").mkdir(parents=True, exist_ok=True)
    for sub in (".roo/docs", ".roo/reports", ".roo/changes", "temp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        shutil.copy(CORPUS / f"{pattern}.py", root / "models" / f"{pattern}.py")
    return Project(root=root, url_override=url)


def run_sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _short(records: list[dict]) -> list[tuple]:
    return [(r["object"], r["table"], r["name"], r["status"], r["attribute"]) for r in records]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_create_all_compares_clean(pattern, tmp_path, db_url):
    build(db_url, CORPUS / f"{pattern}.py")
    proj = make_project(tmp_path, db_url, pattern)
    cold = service.compare(proj, "db", "models")
    assert _short(cold["differences"]) == []
    warm = service.compare(proj, "db", "models")  # from the models cache
    assert _short(warm["differences"]) == []
    # and the doc generated from that database round-trips exactly
    service.generate_docs(proj)
    assert _short(service.compare(proj, "db", "doc")["differences"]) == []
    assert _short(service.compare(proj, "models", "doc")["differences"]) == []


def test_corpus_features_reach_both_sides(tmp_path, db_url):
    """The clean compares above are not vacuous: the new facts are on both sides."""
    build(db_url, CORPUS / "models_multi.py")
    build(db_url, CORPUS / "models_type_checks.py")
    proj = make_project(tmp_path, db_url, "models_multi", "models_type_checks")
    for side in ("db", "models"):
        snap = service.load_source(proj, side)
        projects = snap.tables["public.projects"]
        assert projects.column("title").collation == "POSIX"
        assert snap.tables["auth.accounts"].column("login").collation == "C"
        ops = {i.name: i.opclasses for i in projects.indexes}
        assert ops["ix_projects_slug_pattern"] == ["varchar_pattern_ops"]
        assert ops["ix_projects_title_pattern"] == ["text_pattern_ops"]
        audit = {i.name: i.opclasses for i in snap.tables["public.audit_log"].indexes}
        assert audit["ix_audit_log_data"] == ["jsonb_path_ops"]
        jobs = snap.tables["public.jobs"]
        # the Enum's CHECK is created on PostgreSQL, the Boolean's never
        assert [c.name for c in jobs.check_constraints] == ["job_state"]
        names = sorted(i.name for i in jobs.indexes)
        assert names == ["ix_jobs_pg_only", "ix_jobs_queue"]
        assert snap.tables["public.projects"].foreign_keys[0].ref_table == "auth.accounts"
    assert service.compare(proj, "db", "models")["differences"] == []
