"""Type-bound CHECKs and dialect-conditional DDL (as in Airflow, Superset, Flask apps).

- ``Boolean(create_constraint=True)``: SQLAlchemy emits no CHECK on PostgreSQL (native boolean);
- ``Enum(native_enum=False, create_constraint=True)``: a VARCHAR plus a CHECK ... IN (...),
  which create_all does emit on PostgreSQL;
- ``Index(...).ddl_if(dialect="sqlite")`` and a ``ddl_if`` listing other dialects only;
- the same index declared twice: ``index=True`` and ``Index("ix_jobs_state")``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[bool] = mapped_column(sa.Boolean(create_constraint=True, name="ck_active"))
    paused = mapped_column(sa.Boolean(create_constraint=True), server_default=sa.false())
    state = mapped_column(
        sa.Enum(
            "queued", "running", "done", name="job_state", native_enum=False, create_constraint=True
        ),
        nullable=False,
    )
    kind = mapped_column(sa.Enum("a", "b", name="job_kind", native_enum=False, length=20))
    queue: Mapped[str] = mapped_column(sa.String(50), index=True)
    owner: Mapped[str | None] = mapped_column(sa.String(50))

    __table_args__ = (
        sa.Index("ix_jobs_queue", "queue"),  # the same index as index=True above
        sa.Index("ix_jobs_sqlite_only", "owner").ddl_if(dialect="sqlite"),
        sa.Index("ix_jobs_other_dialects", "owner", "queue").ddl_if(dialect=("mysql", "mssql")),
        sa.Index("ix_jobs_pg_only", "owner").ddl_if(dialect="postgresql"),
    )
