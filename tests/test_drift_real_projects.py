"""Real open-source projects (the ``real_projects`` tier): their own alembic migrations build
the database, their own models are compared with it, and every record the tool reports must
be real drift, checked against the catalog through SQLAlchemy's inspector (code independent
of ours).

Installed by the ``dev`` extra (pyproject.toml); run by default in ``make test``. optuna takes
about 10 s; mlflow about 30 s, most of it importing mlflow (twice: here and in the models load).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from database_use import service
from database_use.project import Project
from database_use.settings import sqlalchemy_url

pytestmark = pytest.mark.real_projects


def _alembic_upgrade(ini: Path, scripts: Path, url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ini))
    config.set_main_option("script_location", str(scripts).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    command.upgrade(config, "head")


def _project(tmp_path: Path, url: str, models_source: str) -> Project:
    root = tmp_path / "proj"
    (root / "models").mkdir(parents=True)
    (root / "models" / "models_thirdparty.py").write_text(models_source, encoding="utf-8")
    return Project(root=root, url_override=url)


def _inspect(url: str):
    engine = sa.create_engine(sqlalchemy_url(url))
    return engine, sa.inspect(engine)


def test_optuna_built_by_its_migrations(tmp_path, db_url):
    import optuna.storages._rdb as rdb

    here = Path(os.path.dirname(rdb.__file__))
    _alembic_upgrade(here / "alembic.ini", here / "alembic", db_url)
    proj = _project(
        tmp_path, db_url, "from optuna.storages._rdb.models import BaseModel  # noqa: F401\n"
    )
    result = service.compare(proj, "db", "models")
    records = {
        (r["object"], r["table"], r["name"], r["status"], r["attribute"]): r
        for r in result["differences"]
    }
    # What optuna's own migrations leave different from its models (checked below):
    assert sorted(records, key=str) == sorted(
        [
            # no migration creates trial_heartbeats (RDBStorage's create_all does, on a new db)
            ("table", "public.trial_heartbeats", "trial_heartbeats", "missing_in_db", None),
            # v3.0.0.a creates trial_values.trial_id nullable; the model says nullable=False
            ("column", "public.trial_values", "trial_id", "different", "nullable"),
            # v1.2.0.a "adds" WAITING with alter_column(type_=Enum(...)): PostgreSQL's type
            # is never altered
            ("enum", None, "public.trialstate", "different", "values"),
        ],
        key=str,
    )
    engine, inspector = _inspect(db_url)
    try:
        assert "trial_heartbeats" not in inspector.get_table_names()
        (trial_id,) = [c for c in inspector.get_columns("trial_values") if c["name"] == "trial_id"]
        assert trial_id["nullable"] is True
        labels = {e["name"]: e["labels"] for e in inspector.get_enums()}["trialstate"]
        assert "WAITING" not in labels
    finally:
        engine.dispose()
    from optuna.storages._rdb import models as optuna_models

    assert not optuna_models.TrialValueModel.__table__.c.trial_id.nullable
    assert "WAITING" in optuna_models.TrialModel.__table__.c.state.type.enums
    # the fix names optuna's own file, where the model is
    fix = records[("column", "public.trial_values", "trial_id", "different", "nullable")]["fix"]
    assert "optuna/storages/_rdb/models.py" in fix and "class TrialValueModel" in fix, fix
    # alembic_version is no drift, and the db is at the revision optuna's scripts end at
    assert result["alembic"]["db_revision"] == "v3.2.0.a"


# -- mlflow (mlflow-skinny, pinned in the dev extra: the records below are that release's) ------

MLFLOW_MODELS = """from mlflow.store.db.base_sql_model import Base  # noqa: F401
from mlflow.store.model_registry.dbmodels import models as registry  # noqa: F401
from mlflow.store.tracking.dbmodels import models as tracking  # noqa: F401
from mlflow.store.workspace.dbmodels import models as workspace  # noqa: F401
"""

# What mlflow 3.17.2's own initialisation (InitialBase.create_all, then its 68 alembic
# revisions) leaves different from its models. Each is checked against the catalog below.
MLFLOW_DRIFT = [
    # 770bee3ae1dd creates String(20); the model says String(50)
    ("column", "public.assessments", "assessment_type", "different", "type"),
    # cfd24bdc0731 turns runs.status into a non-native Enum (VARCHAR(9)); the model: String(20)
    ("column", "public.runs", "status", "different", "type"),
    # server defaults the migrations add, where the models only have a Python-side default
    ("column", "public.endpoint_model_mappings", "linkage_type", "different", "default"),
    ("column", "public.endpoints", "usage_tracking", "different", "default"),
    ("column", "public.metrics", "is_nan", "different", "default"),
    ("column", "public.metrics", "step", "different", "default"),
    ("column", "public.webhooks", "status", "different", "default"),
    # the models declare these FKs twice (ForeignKey on the column and a named
    # ForeignKeyConstraint): create_all builds two, the migration one
    ("foreign_key", "public.evaluation_dataset_records", "dataset_id", "missing_in_db", None),
    ("foreign_key", "public.evaluation_dataset_tags", "dataset_id", "missing_in_db", None),
    # 7f2a7d5fae7d creates input_tags without the model's FK to inputs
    ("foreign_key", "public.input_tags", "input_uuid", "missing_in_db", None),
    # indexes the workspace migrations create that the models do not declare
    ("index", "public.experiments", "idx_experiments_workspace", "missing_in_models", None),
    (
        "index",
        "public.experiments",
        "idx_experiments_workspace_creation_time",
        "missing_in_models",
        None,
    ),
    (
        "index",
        "public.model_version_tags",
        "idx_model_version_tags_workspace_name_version",
        "missing_in_models",
        None,
    ),
    (
        "index",
        "public.registered_model_tags",
        "idx_registered_model_tags_workspace_name",
        "missing_in_models",
        None,
    ),
    (
        "index",
        "public.registered_models",
        "idx_registered_models_workspace",
        "missing_in_models",
        None,
    ),
    # the model declares it, no migration creates it
    ("index", "public.issues", "index_issues_created_by", "missing_in_db", None),
    # the models declare Index("index_trace_…_request_id") with no column at all
    (
        "index",
        "public.trace_request_metadata",
        "index_trace_request_metadata_request_id",
        "different",
        "columns",
    ),
    ("index", "public.trace_tags", "index_trace_tags_request_id", "different", "columns"),
    # 867495a8f9d4: PRIMARY KEY (key, request_id); the models: ("request_id", "key")
    (
        "primary_key",
        "public.trace_request_metadata",
        "trace_request_metadata_pk",
        "different",
        "columns",
    ),
    ("primary_key", "public.trace_tags", "trace_tag_pk", "different", "columns"),
]


def _catalog_confirms(record: dict, inspector, metadata) -> bool:
    """The record's claim, checked with SQLAlchemy's inspector (the catalog) and the models'
    own MetaData: nothing of database-use's snapshot, normalisation or diff is used."""
    from sqlalchemy.dialects import postgresql

    pg = postgresql.dialect()
    schema, name = record["table"].split(".")
    model = metadata.tables[name]
    kind, status, attribute = record["object"], record["status"], record["attribute"]
    if kind == "column":
        (db_col,) = [c for c in inspector.get_columns(name, schema) if c["name"] == record["name"]]
        model_col = model.c[record["name"]]
        if attribute == "type":
            return db_col["type"].compile(dialect=pg) != model_col.type.compile(dialect=pg)
        if attribute == "default":
            return db_col["default"] is not None and model_col.server_default is None
    if kind == "foreign_key" and status == "missing_in_db":
        columns = record["name"].split(",")
        in_db = [
            f
            for f in inspector.get_foreign_keys(name, schema)
            if f["constrained_columns"] == columns
        ]
        in_models = [
            f for f in model.foreign_key_constraints if [c.name for c in f.columns] == columns
        ]
        return len(in_models) > len(in_db)
    if kind == "index":
        in_db = {i["name"]: i["column_names"] for i in inspector.get_indexes(name, schema)}
        in_models = {i.name: [c.name for c in i.columns] for i in model.indexes}
        if status == "missing_in_models":
            return record["name"] in in_db and record["name"] not in in_models
        if status == "missing_in_db":
            return record["name"] in in_models and record["name"] not in in_db
        if attribute == "columns":
            return in_db[record["name"]] != in_models[record["name"]]
    if kind == "primary_key" and attribute == "columns":
        in_db = inspector.get_pk_constraint(name, schema)["constrained_columns"]
        return in_db != [c.name for c in model.primary_key.columns]
    raise AssertionError(f"no catalog check for {record}")


def _alembic_sees(url: str, metadata) -> set[tuple]:
    """``(object, table, name)`` of every difference alembic's autogenerate finds."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "compare_server_default": True}
            found = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    finally:
        engine.dispose()
    seen = set()
    for entry in found:
        for op in entry if isinstance(entry, list) else [entry]:
            kind = op[0]
            if kind.startswith("modify_"):
                seen.add(("column", f"public.{op[2]}", op[3]))
            elif kind.endswith("_index"):
                seen.add(("index", f"public.{op[1].table.name}", op[1].name))
            elif kind.endswith("_fk"):
                fk = op[1]
                label = fk.name or ",".join(c.name for c in fk.columns)
                seen.add(("foreign_key", f"public.{fk.table.name}", label))
            else:
                seen.add((kind, repr(op)[:80], None))  # a kind this mapping does not know
    return seen


def test_mlflow_built_by_its_own_initialisation(tmp_path, db_url):
    from alembic.script import ScriptDirectory
    from mlflow.store.db import utils as mlflow_db

    # what mlflow's SqlAlchemyStore runs on a new database: its initial models' create_all,
    # then ``alembic upgrade heads`` through its own migration scripts
    engine = sa.create_engine(sqlalchemy_url(db_url))
    try:
        mlflow_db._initialize_tables(engine)
    finally:
        engine.dispose()
    proj = _project(tmp_path, db_url, MLFLOW_MODELS)
    result = service.compare(proj, "db", "models")
    records = {
        (r["object"], r["table"], r["name"], r["status"], r["attribute"]): r
        for r in result["differences"]
    }
    assert sorted(records, key=str) == sorted(MLFLOW_DRIFT, key=str)

    from mlflow.store.db.base_sql_model import Base
    from mlflow.store.model_registry.dbmodels import models as _registry  # noqa: F401
    from mlflow.store.tracking.dbmodels import models as _tracking  # noqa: F401
    from mlflow.store.workspace.dbmodels import models as _workspace  # noqa: F401

    engine, inspector = _inspect(db_url)
    try:
        unconfirmed = [
            key for key, r in records.items() if not _catalog_confirms(r, inspector, Base.metadata)
        ]
        # the check can say no: a column that is the same on both sides is not confirmed
        same = {"object": "column", "table": "public.experiments", "name": "name"}
        assert not _catalog_confirms(
            {**same, "status": "different", "attribute": "type"}, inspector, Base.metadata
        )
    finally:
        engine.dispose()
    assert unconfirmed == []
    # every difference alembic's autogenerate sees is among ours (ours adds the key orders and
    # the FKs declared twice, which alembic does not compare)
    ours = {key[:3] for key in records}
    alembic_sees = _alembic_sees(db_url, Base.metadata)
    assert ("column", "public.runs", "status") in alembic_sees  # it did compare
    assert alembic_sees - ours == set()
    # the fixes name mlflow's own files and classes
    fix = records[("column", "public.assessments", "assessment_type", "different", "type")]["fix"]
    assert "mlflow/store/tracking/dbmodels/models.py" in fix and "class SqlAssessments" in fix, fix
    assert "String(20)" in fix, fix
    # a constraint the models declare twice: drop the copy, do not create a second one
    dup = records[("foreign_key", "public.input_tags", "input_uuid", "missing_in_db", None)]
    assert dup["hint"] is None  # declared once, and missing in the database
    for table in ("evaluation_dataset_records", "evaluation_dataset_tags"):
        dup = records[("foreign_key", f"public.{table}", "dataset_id", "missing_in_db", None)]
        assert dup["hint"] == f"a copy of fk_{table}_dataset_id on models", dup
        assert "declared twice" in dup["fix"] and "remove the extra declaration" in dup["fix"]
    ix = records[
        ("index", "public.trace_tags", "index_trace_tags_request_id", "different", "columns")
    ]
    assert ix["hint"].startswith("the models declare this index with no column"), ix
    pk = records[("primary_key", "public.trace_tags", "trace_tag_pk", "different", "columns")]
    assert "PrimaryKeyConstraint('key', 'request_id', name='trace_tag_pk')" in pk["fix"], pk
    # alembic_version is no drift, and the db is at the head of mlflow's own scripts
    script = ScriptDirectory.from_config(mlflow_db._get_alembic_config(""))
    assert [result["alembic"]["db_revision"]] == list(script.get_heads())
