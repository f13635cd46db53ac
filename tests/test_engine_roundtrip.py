"""Live database vs models on a real PostgreSQL: create_all compares clean; every drift is seen."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import psycopg
import pytest

from database_use.compare.diff import diff
from database_use.sources.live import from_database
from database_use.sources.models import load_models


def run(url: str, statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statements)


def records(url: str, project: Path, schemas: list[str] | None = None) -> list[dict]:
    return [d.to_dict() for d in diff(from_database(url, schemas), load_models(project))]


def test_example_schema_compares_clean(example_db_url: str, project: Path) -> None:
    assert records(example_db_url, project) == []


DRIFTS = [
    (
        "add column",
        "ALTER TABLE users ADD COLUMN nickname text",
        {"object": "column", "name": "nickname", "status": "missing_in_models"},
    ),
    (
        "drop column",
        "ALTER TABLE users DROP COLUMN last_login_at",
        {"object": "column", "name": "last_login_at", "status": "missing_in_db"},
    ),
    (
        "type",
        "ALTER TABLE users ALTER COLUMN username TYPE varchar(80)",
        {
            "object": "column",
            "name": "username",
            "attribute": "type",
            "values": {"db": "character varying(80)", "models": "character varying(64)"},
        },
    ),
    (
        "nullable",
        "ALTER TABLE media ALTER COLUMN path DROP NOT NULL",
        {"object": "column", "name": "path", "attribute": "nullable"},
    ),
    (
        "default",
        "ALTER TABLE users ALTER COLUMN role SET DEFAULT 'editor'",
        {
            "object": "column",
            "name": "role",
            "attribute": "default",
            "values": {"db": "'editor'", "models": "'viewer'"},
        },
    ),
    (
        "column comment",
        "COMMENT ON COLUMN users.email IS 'where we write'",
        {"object": "column", "name": "email", "attribute": "comment"},
    ),
    (
        "table comment",
        "COMMENT ON TABLE media IS NULL",
        {"object": "table", "name": "media", "attribute": "comment"},
    ),
    (
        "fk on delete",
        "ALTER TABLE media DROP CONSTRAINT fk_media_owner_id_users; "
        "ALTER TABLE media ADD FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT",
        {
            "object": "foreign_key",
            "attribute": "on_delete",
            "values": {"db": "RESTRICT", "models": "CASCADE"},
        },
    ),
    (
        "index method",
        "DROP INDEX ix_media_owner_id_kind; "
        "CREATE INDEX ix_media_owner_id_kind ON media USING hash (owner_id)",
        {"object": "index", "name": "ix_media_owner_id_kind", "attribute": "columns"},
    ),
    (
        "partial where",
        "DROP INDEX ix_media_owner_id_kind; "
        "CREATE INDEX ix_media_owner_id_kind ON media (owner_id, kind) WHERE size_bytes > 0",
        {
            "object": "index",
            "name": "ix_media_owner_id_kind",
            "attribute": "where",
            "values": {"db": "size_bytes > 0", "models": None},
        },
    ),
    (
        "check expression",
        "ALTER TABLE media DROP CONSTRAINT ck_media_size_bytes_non_negative; "
        "ALTER TABLE media ADD CONSTRAINT ck_media_size_bytes_non_negative CHECK (size_bytes > 0)",
        {
            "object": "check_constraint",
            "attribute": "expression",
            "values": {"db": "size_bytes > 0", "models": "size_bytes >= 0"},
        },
    ),
    (
        "enum label",
        "ALTER TYPE user_role ADD VALUE 'owner'",
        {"object": "enum", "name": "public.user_role", "attribute": "values"},
    ),
    (
        "pk change",
        "ALTER TABLE media DROP CONSTRAINT pk_media; "
        "ALTER TABLE media ADD PRIMARY KEY (id, owner_id)",
        {
            "object": "primary_key",
            "attribute": "columns",
            "values": {"db": ["id", "owner_id"], "models": ["id"]},
        },
    ),
    (
        "unique dropped",
        "ALTER TABLE users DROP CONSTRAINT uq_users_email",
        {"object": "unique_constraint", "name": "uq_users_email", "status": "missing_in_db"},
    ),
    (
        "unique added",
        "ALTER TABLE users ADD UNIQUE (username)",
        {
            "object": "unique_constraint",
            "name": "users_username_key",
            "status": "missing_in_models",
        },
    ),
]


@pytest.mark.parametrize(("label", "sql", "expected"), DRIFTS, ids=[d[0] for d in DRIFTS])
def test_each_drift_is_reported(
    example_db_url: str, project: Path, label: str, sql: str, expected: dict
) -> None:
    run(example_db_url, sql)
    found = records(example_db_url, project)
    assert found, label
    first = found[0]
    for key, value in expected.items():
        assert first[key] == value, (key, found)
    assert first["authority"] == "db" and first["fix"]


def test_index_method_change_is_named(example_db_url: str, project: Path) -> None:
    run(
        example_db_url,
        "DROP INDEX ix_media_owner_id_kind; "
        "CREATE INDEX ix_media_owner_id_kind ON media USING hash (owner_id)",
    )
    found = records(example_db_url, project)
    assert any(
        r["attribute"] == "method" and r["values"] == {"db": "hash", "models": "btree"}
        for r in found
    )


def test_rename_is_hinted(example_db_url: str, project: Path) -> None:
    run(example_db_url, "ALTER TABLE users RENAME COLUMN username TO handle")
    found = records(example_db_url, project)
    assert {r["hint"] for r in found} == {"possible rename username → handle"}


def test_model_fix_names_the_file_and_line(example_db_url: str, project: Path) -> None:
    run(example_db_url, "ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
    (record,) = records(example_db_url, project)
    assert record["fix"] == (
        "in models/models_user.py:20 class User: email: Mapped[str | None] = "
        "mapped_column(String(255), unique=True, nullable=True)"
    )


ODD_MODELS = """
from decimal import Decimal
from sqlalchemy import CheckConstraint, ForeignKey, Index, MetaData, Numeric, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(schema="shop")


class Order(Base):
    __tablename__ = "Order"
    __table_args__ = (
        CheckConstraint("total BETWEEN 0 AND 1000000"),
        CheckConstraint("\\"select\\" IN ('a', 'b')"),
        Index("ix_order_tags", "tags", postgresql_using="gin"),
        Index("ix_order_open", "total", postgresql_where=text("total > 0"), postgresql_include=["select"]),
        Index("ix_order_lower", text("lower(\\"select\\")")),
        {"comment": "Orders, quoted"},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    select: Mapped[str] = mapped_column("select", String(1), server_default="a")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default=text("'{}'"))
    extra: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"), comment="it's")


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column("order", ForeignKey("shop.Order.id", ondelete="SET NULL"))
"""


def test_own_base_quoted_reserved_identifiers_and_schema_round_trip(
    db_url: str, project: Path
) -> None:
    (project / "models" / "models_shop.py").write_text(
        textwrap.dedent(ODD_MODELS), encoding="utf-8"
    )
    module = types.ModuleType("odd_models_for_create_all")  # the same file, built for real
    sys.modules[module.__name__] = module  # SQLAlchemy resolves annotations via sys.modules
    try:
        exec(compile(ODD_MODELS, "models_shop.py", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    namespace = module.__dict__
    from sqlalchemy import create_engine

    from database_use.settings import sqlalchemy_url

    run(db_url, "CREATE SCHEMA shop")
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        namespace["Base"].metadata.create_all(engine)
    finally:
        engine.dispose()
    models = load_models(project)
    assert {"shop.Order", "shop.user"} <= set(models.tables)
    shop_only = [
        r
        for r in records(db_url, project, schemas=["shop"])
        if r["table"] in ("shop.Order", "shop.user")
    ]
    assert shop_only == []
    run(
        db_url,
        'ALTER TABLE shop."Order" DROP CONSTRAINT "Order_select_check"; '
        "ALTER TABLE shop.\"Order\" ADD CHECK (\"select\" IN ('a', 'b', 'c'))",
    )
    changed = [r for r in records(db_url, project, schemas=["shop"]) if r["table"] == "shop.Order"]
    assert sorted(r["status"] for r in changed) == ["missing_in_db", "missing_in_models"]


def test_create_all_of_own_base_file_from_ddl(db_url: str, project: Path) -> None:
    """A hand-written DDL with alias spellings compares clean against an equivalent model."""
    (project / "models" / "models_note.py").write_text(
        textwrap.dedent("""
        from datetime import datetime
        from sqlalchemy import DateTime, Integer, String, Boolean, text
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Note(Base):
            __tablename__ = "note"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            title: Mapped[str] = mapped_column(String(120), nullable=False, server_default="untitled")
            done: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), nullable=False)
            at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("CURRENT_TIMESTAMP"))
    """),
        encoding="utf-8",
    )
    run(
        db_url,
        """
        CREATE TABLE note (
            id serial4 CONSTRAINT note_pkey PRIMARY KEY,
            title varchar(120) NOT NULL DEFAULT 'untitled'::character varying,
            done bool NOT NULL DEFAULT 'f',
            at timestamptz NOT NULL DEFAULT now()
        )
    """,
    )
    found = [r for r in records(db_url, project) if r["table"] == "public.note"]
    assert found == []
