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


def drifted(tmp_path: Path, url: str, statements: list[str], *patterns: str) -> list[dict]:
    """db ↔ models records after create_all of the patterns and then the drift statements."""
    for pattern in patterns:
        build(url, CORPUS / f"{pattern}.py")
    run_sql(url, *statements)
    proj = make_project(tmp_path, url, *patterns)
    return service.compare(proj, "db", "models")["differences"]


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
        assert [u.nulls_not_distinct for u in projects.unique_constraints] == [True]
        assert {i.name: i.nulls_not_distinct for i in projects.indexes}["ux_projects_region"]
        audit = {i.name: i.opclasses for i in snap.tables["public.audit_log"].indexes}
        assert audit["ix_audit_log_data"] == ["jsonb_path_ops"]
        jobs = snap.tables["public.jobs"]
        # the Enum's CHECK is created on PostgreSQL, the Boolean's never
        assert [c.name for c in jobs.check_constraints] == ["job_state"]
        names = sorted(i.name for i in jobs.indexes)
        assert names == ["ix_jobs_pg_only", "ix_jobs_queue"]
        assert snap.tables["public.projects"].foreign_keys[0].ref_table == "auth.accounts"
    assert service.compare(proj, "db", "models")["differences"] == []


# -- drift: each applied by SQL to the live database, then found ------------------------------
# (at least alembic autogenerate's comparisons, plus what it misses: CHECK expressions, partial
# index WHERE, index methods, primary-key changes, enum labels, operator classes, collations)
E, P = "public.events", "public.projects"
DRIFTS = [
    (
        "table added",
        ["CREATE TABLE public.extra_things (id integer PRIMARY KEY)"],
        [("table", "public.extra_things", "extra_things", "missing_in_models", None)],
        "add class ExtraThings(db.Model) with __tablename__ = 'extra_things'",
    ),
    (
        "table removed",
        ["DROP TABLE public.settings"],
        [("table", "public.settings", "settings", "missing_in_db", None)],
        "in models/models_mixins.py:52 class Setting: remove the model class",
    ),
    (
        "column added",
        ["ALTER TABLE tags ADD COLUMN color text NOT NULL DEFAULT 'red'"],
        [("column", "public.tags", "color", "missing_in_models", None)],
        "in models/models_mixins.py:46 class Tag: add color",
    ),
    (
        "column removed",
        ["ALTER TABLE tags DROP COLUMN payload"],
        [("column", "public.tags", "payload", "missing_in_db", None)],
        "class Tag: remove payload",
    ),
    (
        "type changed",
        ["ALTER TABLE events ALTER COLUMN severity TYPE integer"],
        [("column", E, "severity", "different", "type")],
        "class Event: severity",
    ),
    (
        "nullable changed",
        ["ALTER TABLE tags ALTER COLUMN payload SET NOT NULL"],
        [("column", "public.tags", "payload", "different", "nullable")],
        "nullable=False",
    ),
    (
        "server default changed",
        ["ALTER TABLE events ALTER COLUMN severity SET DEFAULT 2"],
        [("column", E, "severity", "different", "default")],
        "server_default",
    ),
    (
        "column comment",
        ["COMMENT ON COLUMN settings.value IS 'the value'"],
        [("column", "public.settings", "value", "different", "comment")],
        "comment='the value'",
    ),
    (
        "table comment",
        ["COMMENT ON TABLE settings IS 'changed'"],
        [("table", "public.settings", "settings", "different", "comment")],
        "set the table comment to 'changed'",
    ),
    (
        "index added",
        ["CREATE INDEX ix_tags_payload ON tags (payload)"],
        [("index", "public.tags", "ix_tags_payload", "missing_in_models", None)],
        "add to __table_args__: Index('ix_tags_payload'",
    ),
    (
        "index removed",
        ["DROP INDEX ix_events_tag_id"],
        [("index", E, "ix_events_tag_id", "missing_in_db", None)],
        "remove",
    ),
    (
        "index columns changed",
        [
            "DROP INDEX ix_events_tag_id",
            "CREATE INDEX ix_events_tag_id ON events (tag_id, severity)",
        ],
        [("index", E, "ix_events_tag_id", "different", "columns")],
        "declare it as Index('ix_events_tag_id'",
    ),
    (
        "index made unique",
        ["DROP INDEX ix_events_tag_id", "CREATE UNIQUE INDEX ix_events_tag_id ON events (tag_id)"],
        [("index", E, "ix_events_tag_id", "different", "unique")],
        "unique=True",
    ),
    (
        "index method",
        [
            "DROP INDEX ix_events_tag_id",
            "CREATE INDEX ix_events_tag_id ON events USING hash (tag_id)",
        ],
        [("index", E, "ix_events_tag_id", "different", "method")],
        "postgresql_using='hash'",
    ),
    (
        "partial index WHERE",
        [
            "DROP INDEX ix_events_recent",
            "CREATE INDEX ix_events_recent ON events (created_at) WHERE severity > 4",
        ],
        [("index", E, "ix_events_recent", "different", "where")],
        "severity > 4",
    ),
    (
        "index operator class",
        [
            "DROP INDEX ix_projects_slug_pattern",
            "CREATE INDEX ix_projects_slug_pattern ON projects (slug)",
        ],
        [("index", P, "ix_projects_slug_pattern", "different", "opclass")],
        "declare it as Index('ix_projects_slug_pattern', 'slug')",
    ),
    (
        "column collation",
        ['ALTER TABLE projects ALTER COLUMN title TYPE text COLLATE "C"'],
        [("column", P, "title", "different", "collation")],
        "collation='C'",
    ),
    (
        "unique constraint NULLS NOT DISTINCT dropped",
        [
            "ALTER TABLE projects DROP CONSTRAINT uq_projects_code",
            "ALTER TABLE projects ADD CONSTRAINT uq_projects_code UNIQUE (code)",
        ],
        [("unique_constraint", P, "uq_projects_code", "different", "nulls_not_distinct")],
        "declare it as UniqueConstraint('code', name='uq_projects_code')",
    ),
    (
        "unique index NULLS NOT DISTINCT dropped",
        [
            "DROP INDEX ux_projects_region",
            "CREATE UNIQUE INDEX ux_projects_region ON projects (region)",
        ],
        [("index", P, "ux_projects_region", "different", "nulls_not_distinct")],
        "declare it as Index('ux_projects_region', 'region', unique=True)",
    ),
    (
        "unique constraint removed",
        ["ALTER TABLE tags DROP CONSTRAINT uq_tags_name"],
        [("unique_constraint", "public.tags", "uq_tags_name", "missing_in_db", None)],
        "remove UniqueConstraint('name', name='uq_tags_name')",
    ),
    (
        "unique constraint added",
        ["ALTER TABLE projects ADD CONSTRAINT uq_projects_slug UNIQUE (slug)"],
        [("unique_constraint", P, "uq_projects_slug", "missing_in_models", None)],
        "add to __table_args__: UniqueConstraint('slug', name='uq_projects_slug')",
    ),
    (
        "foreign key added",
        [
            "ALTER TABLE events ADD CONSTRAINT fk_events_severity FOREIGN KEY (severity) REFERENCES tags (id)"
        ],
        [("foreign_key", E, "fk_events_severity", "missing_in_models", None)],
        "ForeignKeyConstraint(['severity'], ['tags.id'], name='fk_events_severity')",
    ),
    (
        "foreign key removed",
        ["ALTER TABLE events DROP CONSTRAINT events_tag_id_fkey"],
        [("foreign_key", E, "tag_id", "missing_in_db", None)],
        "remove",
    ),
    (
        "foreign key on delete",
        [
            "ALTER TABLE events DROP CONSTRAINT events_tag_id_fkey",
            "ALTER TABLE events ADD CONSTRAINT events_tag_id_fkey FOREIGN KEY (tag_id)"
            " REFERENCES tags (id) ON DELETE SET NULL",
        ],
        [("foreign_key", E, "events_tag_id_fkey", "different", "on_delete")],
        "ondelete='SET NULL'",
    ),
    (
        "check expression",
        [
            "ALTER TABLE events DROP CONSTRAINT ck_events_severity",
            "ALTER TABLE events ADD CONSTRAINT ck_events_severity CHECK (severity BETWEEN 0 AND 9)",
        ],
        [("check_constraint", E, "ck_events_severity", "different", "expression")],
        "severity >= 0 AND severity <= 9",
    ),
    (
        "check NOT VALID",
        [
            "ALTER TABLE events DROP CONSTRAINT ck_events_severity",
            "ALTER TABLE events ADD CONSTRAINT ck_events_severity"
            " CHECK (severity BETWEEN 0 AND 5) NOT VALID",
        ],
        [("check_constraint", E, "ck_events_severity", "different", "validated")],
        "models cannot declare NOT VALID, so leave them as they are",
    ),
    (
        "enum label added",
        ["ALTER TYPE event_level ADD VALUE 'error'"],
        [("enum", None, "public.event_level", "different", "values")],
        "Enum('info', 'warn', 'error', name='event_level')",
    ),
    (
        "primary key changed",
        [
            "ALTER TABLE settings DROP CONSTRAINT settings_pkey",
            "ALTER TABLE settings ADD PRIMARY KEY (key, created_at)",
        ],
        [("primary_key", "public.settings", "settings_pkey", "different", "columns")],
        "make primary_key=True exactly on key, created_at",
    ),
]


@pytest.mark.parametrize(
    ("label", "statements", "expected", "fix"), DRIFTS, ids=[d[0] for d in DRIFTS]
)
def test_drift_is_found_with_its_fix(label, statements, expected, fix, tmp_path, db_url):
    records = drifted(tmp_path, db_url, statements, "models_mixins", "models_multi")
    assert _short(records) == expected, label
    assert fix in records[0]["fix"], records[0]["fix"]
    assert records[0]["authority"] == "db"


# -- fix lines that name the real place ---------------------------------------------------------


def _write_models(tmp_path: Path, url: str, text: str) -> Project:
    proj = make_project(tmp_path, url)
    (proj.root / "models" / "models_app.py").write_text(text, encoding="utf-8")
    return proj


CORE = """import sqlalchemy as sa

metadata = sa.MetaData()

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
)
"""


def test_core_table_fix_names_the_project_file_and_line(tmp_path, db_url):
    proj = _write_models(tmp_path, db_url, CORE)
    build(db_url, proj.root / "models" / "models_app.py")
    run_sql(db_url, "ALTER TABLE notes ADD COLUMN title text")
    (record,) = service.compare(proj, "db", "models")["differences"]
    assert record["fix"].startswith("in models/models_app.py:5 Table('notes'): add title"), record
    assert "schema.py" not in record["fix"]


def test_an_index_declared_without_columns_is_named_as_such(tmp_path, db_url):
    # create_all cannot build it (CREATE INDEX ... ON notes ()): the database comes from a
    # migration that created the index on its column, as MLflow's do
    proj = _write_models(
        tmp_path,
        db_url,
        CORE.replace(
            'sa.Column("body", sa.Text),',
            'sa.Column("body", sa.Text),\n    sa.Index("ix_notes_body"),',
        ),
    )
    run_sql(
        db_url,
        "CREATE TABLE notes (id serial PRIMARY KEY, body text)",
        "CREATE INDEX ix_notes_body ON notes (body)",
    )
    (record,) = service.compare(proj, "db", "models")["differences"]
    assert _short([record]) == [("index", "public.notes", "ix_notes_body", "different", "columns")]
    assert record["values"] == {"db": ["body"], "models": []}
    assert (
        record["fix"]
        == "in models/models_app.py:5 Table('notes'): declare it as Index('ix_notes_body', 'body')"
    )
    assert (
        record["hint"] == "the models declare this index with no column: create_all cannot build it"
    )


def test_fk_to_a_table_the_models_lack_is_one_models_error(tmp_path, db_url):
    from database_use.errors import ModelLoadError

    text = """import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id = mapped_column(sa.ForeignKey("teams.id"))
"""
    proj = _write_models(tmp_path, db_url, text)
    with pytest.raises(ModelLoadError) as caught:
        service.compare(proj, "db", "models")
    assert str(caught.value) == (
        "the models are broken here: models/models_app.py:9 class User: "
        "FK users.team_id → teams.id, table teams not in the models"
    )


@pytest.mark.parametrize(
    ("statements", "expected", "fix"),
    [
        (
            ["ALTER TABLE reservations DROP CONSTRAINT ex_reservations_during"],
            [
                (
                    "exclusion_constraint",
                    "public.reservations",
                    "ex_reservations_during",
                    "missing_in_db",
                    None,
                )
            ],
            "remove ExcludeConstraint(('during', '&&'), using='gist', name='ex_reservations_during')",
        ),
        (
            [
                "ALTER TABLE reservations DROP CONSTRAINT ex_reservations_seats",
                "ALTER TABLE reservations ADD CONSTRAINT ex_reservations_seats"
                " EXCLUDE USING gist (seats WITH &&)",
            ],
            [
                (
                    "exclusion_constraint",
                    "public.reservations",
                    "ex_reservations_seats",
                    "different",
                    "expression",
                )
            ],
            "declare it as ExcludeConstraint(('seats', '&&'), using='gist', "
            "name='ex_reservations_seats')",
        ),
    ],
    ids=["exclusion dropped", "exclusion WHERE dropped"],
)
def test_exclusion_constraint_drift(statements, expected, fix, tmp_path, db_url):
    records = drifted(tmp_path, db_url, statements, "models_exclusion")
    assert _short(records) == expected
    assert fix in records[0]["fix"], records[0]["fix"]


T = "public.trace_tags"


@pytest.mark.parametrize(
    ("statements", "expected", "fix", "hint"),
    [
        (
            # what a migration that creates the FK once leaves
            ["ALTER TABLE trace_tags DROP CONSTRAINT trace_tags_request_id_fkey"],
            [("foreign_key", T, "request_id", "missing_in_db", None)],
            "in models/models_redeclared.py:21 class TraceTag: this foreign key is declared "
            "twice (a copy of fk_trace_tags_request_id): create_all builds each copy, the db "
            "holds it once; remove the extra declaration",
            "a copy of fk_trace_tags_request_id on models",
        ),
        (
            # the database holds a third copy: drop it there, declare nothing more
            [
                "ALTER TABLE trace_tags ADD CONSTRAINT trace_tags_again FOREIGN KEY (request_id)"
                " REFERENCES traces (request_id) ON DELETE CASCADE"
            ],
            # (the copies pair up in name order: the one left over is reported)
            [("foreign_key", T, "trace_tags_request_id_fkey", "missing_in_models", None)],
            "the db holds this foreign key 3 times (trace_tags_request_id_fkey is a copy of "
            "fk_trace_tags_request_id), the models declare it twice: drop the redundant copy",
            "a copy of fk_trace_tags_request_id on db",
        ),
        (
            [
                "ALTER TABLE trace_tags DROP CONSTRAINT trace_tag_pk",
                "ALTER TABLE trace_tags ADD CONSTRAINT trace_tag_pk PRIMARY KEY (key, request_id)",
            ],
            [("primary_key", T, "trace_tag_pk", "different", "columns")],
            "the column order differs: declare PrimaryKeyConstraint('key', 'request_id', "
            "name='trace_tag_pk') in __table_args__",
            None,
        ),
    ],
    ids=["FK declared twice, created once", "FK held twice by the db", "primary key order"],
)
def test_redeclared_constraints_and_key_order(statements, expected, fix, hint, tmp_path, db_url):
    records = drifted(tmp_path, db_url, statements, "models_redeclared")
    assert _short(records) == expected
    assert fix in records[0]["fix"], records[0]["fix"]
    if hint is None:
        assert records[0]["hint"] is None
    else:
        assert hint in records[0]["hint"], records[0]["hint"]
