"""Interval, JSON, JSONB and UUID server defaults in the spellings real projects use (Airflow's
``Interval`` with ``server_default="0"``, Superset/Mlflow JSON text defaults, UUID functions)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    every = mapped_column(sa.Interval, server_default="0", nullable=False)
    grace = mapped_column(sa.Interval, server_default="1 day 2 hours")
    timeout = mapped_column(sa.Interval, server_default=sa.text("'90 minutes'::interval"))
    options = mapped_column(pg.JSONB, server_default='{"retries": 3, "backoff": [1, 2]}')
    tags = mapped_column(pg.JSONB, server_default=sa.text("'[]'::jsonb"), nullable=False)
    extra = mapped_column(sa.JSON, server_default="{}")
    fixed_id = mapped_column(sa.Uuid, server_default="00000000-0000-0000-0000-000000000000")
    note = mapped_column(sa.Text, server_default="")
