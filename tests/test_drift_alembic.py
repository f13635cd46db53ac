"""An alembic-managed database: its bookkeeping table is not drift, and compare says whether
the database is at the head revision of the project's migrations (real alembic, real
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from database_use import service
from database_use.project import Project
from database_use.settings import sqlalchemy_url
from tests.test_drift_corpus import run_sql

MODELS = """import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean(create_constraint=True), server_default=sa.true())
"""

ENV = """from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

REV_1 = """import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
"""

REV_2 = """import sqlalchemy as sa
from alembic import op

revision: str = "b2"
down_revision: str | None = "a1"


def upgrade():
    op.create_index("ix_authors_name", "authors", ["name"])
    op.add_column(
        "authors", sa.Column("active", sa.Boolean, server_default=sa.true(), nullable=False)
    )
"""

REV_3 = """revision = "c3"
down_revision = ("b2",)


def upgrade():
    pass
"""


def _project(tmp_path: Path, url: str) -> Project:
    root = tmp_path / "app"
    (root / "models").mkdir(parents=True)
    (root / "models" / "models_app.py").write_text(MODELS, encoding="utf-8")
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV, encoding="utf-8")
    (versions / "a1_authors.py").write_text(REV_1, encoding="utf-8")
    (versions / "b2_active.py").write_text(REV_2, encoding="utf-8")
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n", encoding="utf-8"
    )
    return Project(root=root, url_override=url)


def _upgrade(proj: Project, url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(proj.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    command.upgrade(config, "head")


def test_alembic_managed_db_compares_clean_and_at_head(tmp_path, db_url):
    proj = _project(tmp_path, db_url)
    _upgrade(proj, db_url)
    live = service.load_source(proj, "db")
    assert "public.alembic_version" in live.tables  # the bookkeeping table is there ...
    result = service.compare(proj, "db", "models")
    assert result["differences"] == []  # ... and not drift
    assert result["alembic"] == {
        "db_revision": "b2",
        "heads": ["b2"],
        "at_head": True,
        "scripts": "migrations",
    }
    # a new revision file the database has not run yet
    (proj.root / "migrations" / "versions" / "c3_next.py").write_text(REV_3, encoding="utf-8")
    assert service.compare(proj, "models", "db")["alembic"]["at_head"] is False
    assert service.compare(proj, "db", "models")["alembic"]["heads"] == ["c3"]


def test_bookkeeping_tables_are_configurable(tmp_path, db_url):

    proj = _project(tmp_path, db_url)
    _upgrade(proj, db_url)
    run_sql(db_url, "CREATE TABLE schema_migrations (version text PRIMARY KEY)")
    records = service.compare(proj, "db", "models")["differences"]
    assert [(r["table"], r["status"]) for r in records] == [
        ("public.schema_migrations", "missing_in_models")
    ]
    proj.bookkeeping_tables = ("alembic_version", "schema_migrations")  # the Project hook
    assert service.compare(proj, "db", "models")["differences"] == []
    proj.bookkeeping_tables = ()  # nothing is bookkeeping: alembic_version is drift again
    records = service.compare(proj, "db", "models")["differences"]
    assert {r["table"] for r in records} == {"public.alembic_version", "public.schema_migrations"}


def test_no_alembic_anywhere_gives_none(proj):
    result = service.compare(proj, "db", "models")
    assert result["alembic"] is None and result["differences"] == []


def test_models_doc_says_when_generate_docs_cannot_fix_it(proj):

    run_sql(proj.url_override, "ALTER TABLE users ADD COLUMN nickname text")
    service.generate_docs(proj)  # the doc follows the live database
    records = service.compare(proj, "models", "doc")["differences"]
    assert [(r["name"], r["status"]) for r in records] == [("nickname", "missing_in_models")]
    assert "generate-docs cannot fix this" in records[0]["fix"]
    assert "compare-db-models" in records[0]["fix"]


def _noop(revision: str, down: str, extra: str = "") -> str:
    return f"revision = {revision!r}\ndown_revision = {down}\n{extra}\n\ndef upgrade():\n    pass\n"


BRANCHES = {
    # two branches off b2, merged again by m5
    "c3": _noop("c3", '"b2"'),
    "d4": _noop("d4", '"b2"'),
    "m5": _noop("m5", '("c3", "d4")'),
    # a second line of migrations that depends on the merge: alembic_version then keeps only
    # n7, though `alembic heads` lists m5 too (a revision only depended on stays a head)
    "n6": _noop("n6", "None", 'branch_labels = ("audit",)\ndepends_on = "m5"'),
    "n7": _noop("n7", '"n6"'),
}


def test_head_detection_follows_merges_and_depends_on(tmp_path, db_url):
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    proj = _project(tmp_path, db_url)
    for revision, text in BRANCHES.items():
        (proj.root / "migrations" / "versions" / f"{revision}.py").write_text(text, "utf-8")
    config = Config(str(proj.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(db_url))
    alembic_heads = sorted(ScriptDirectory.from_config(config).get_heads())
    assert alembic_heads == ["m5", "n7"]  # alembic's own answer, for the one below

    command.upgrade(config, "c3")  # one branch of the fork only
    state = service.compare(proj, "db", "models")["alembic"]
    assert state["heads"] == alembic_heads and state["at_head"] is False
    assert state["db_revision"] == "c3"

    command.upgrade(config, "d4")  # both branches, not merged yet
    state = service.compare(proj, "db", "models")["alembic"]
    assert sorted(state["db_revision"]) == ["c3", "d4"] and state["at_head"] is False

    command.upgrade(config, "heads")
    state = service.compare(proj, "db", "models")["alembic"]
    assert state["db_revision"] == "n7"  # what alembic stored: m5 is implied by depends_on
    assert state["at_head"] is True

    # a revision the database records but the scripts lack (scripts behind the database)
    run_sql(db_url, "UPDATE alembic_version SET version_num = 'zz9'")
    state = service.compare(proj, "db", "models")["alembic"]
    assert state["db_revision"] == "zz9" and state["at_head"] is False


def test_models_doc_cannot_fix_when_the_models_are_ahead_but_can_when_only_the_doc_is_old(proj):
    run_sql(proj.url_override, "ALTER TABLE users DROP COLUMN last_login_at")
    service.generate_docs(proj)  # the doc follows the live database: no last_login_at
    (record,) = service.compare(proj, "models", "doc")["differences"]
    assert (record["name"], record["status"]) == ("last_login_at", "missing_in_doc")
    assert "generate-docs cannot fix this" in record["fix"]
    # the database catches up with the models: now only the doc is old, and regenerating it
    # is the fix
    run_sql(proj.url_override, "ALTER TABLE users ADD COLUMN last_login_at timestamptz")
    assert service.compare(proj, "db", "models")["differences"] == []
    (record,) = service.compare(proj, "models", "doc")["differences"]
    assert (record["name"], record["status"]) == ("last_login_at", "missing_in_doc")
    assert record["fix"].startswith("run generate-docs"), record["fix"]


def test_introspect_and_the_command_line_say_where_the_database_stands(
    tmp_path, db_url, capsys, monkeypatch
):
    from database_use.cli import main as cli

    proj = _project(tmp_path, db_url)
    _upgrade(proj, db_url)
    assert service.introspect(proj)["alembic"]["at_head"] is True
    # a schema-filtered overview may not see alembic_version: it says nothing rather than
    # something wrong
    assert "alembic" not in service.introspect(proj, schema="public")
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["--project-root", str(proj.root)]
    assert cli.main([*args, "compare-db-models"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("db vs models: no differences")
    assert "alembic: database at revision b2; head b2 in migrations (at head)" in out
    (proj.root / "migrations" / "versions" / "c3_next.py").write_text(REV_3, encoding="utf-8")
    assert cli.main([*args, "introspect"]) == 0
    out = capsys.readouterr().out
    assert "alembic: database at revision b2; head c3 in migrations (NOT at head: " in out
