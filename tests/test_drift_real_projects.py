"""Real open-source projects (the ``real_projects`` tier): their own alembic migrations build
the database, their own models are compared with it, and every record the tool reports must
be real drift, checked against the catalog through SQLAlchemy's inspector (code independent
of ours).

Installed by the ``dev`` extra (pyproject.toml); run by default in ``make test`` (about 15 s).
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
