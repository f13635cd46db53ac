"""Two declarative bases, a plain MetaData with Core ``Table``s, cross-schema foreign keys and
a naming convention (as in Indico's schemas, Home Assistant's recorder, Airflow's convention)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class AuthBase(DeclarativeBase):
    metadata = sa.MetaData(schema="auth", naming_convention=convention)


class AppBase(DeclarativeBase):
    pass


class Account(AuthBase):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    login: Mapped[str] = mapped_column(sa.String(50, collation="C"), index=True)


class Project(AppBase):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id = mapped_column(sa.ForeignKey(Account.id, ondelete="SET NULL"))  # across bases
    title: Mapped[str] = mapped_column(sa.Text(collation="POSIX"))
    slug: Mapped[str] = mapped_column(sa.String(80))
    code: Mapped[str | None] = mapped_column(sa.String(20))
    region: Mapped[str | None] = mapped_column(sa.String(20))
    __table_args__ = (
        sa.UniqueConstraint("code", name="uq_projects_code", postgresql_nulls_not_distinct=True),
        sa.Index("ux_projects_region", "region", unique=True, postgresql_nulls_not_distinct=True),
        sa.Index(
            "ix_projects_slug_pattern", "slug", postgresql_ops={"slug": "varchar_pattern_ops"}
        ),
        sa.Index(
            "ix_projects_title_pattern", "title", postgresql_ops={"title": "text_pattern_ops"}
        ),
    )


core = sa.MetaData()

audit_log = sa.Table(
    "audit_log",
    core,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey(Project.id)),
    sa.Column("data", sa.dialects.postgresql.JSONB, server_default="{}"),
    sa.Index(
        "ix_audit_log_data",
        "data",
        postgresql_using="gin",
        postgresql_ops={"data": "jsonb_path_ops"},
    ),
    schema="public",
)
