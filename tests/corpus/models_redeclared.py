"""Constraints declared twice and primary keys in an order of their own (as MLflow's tracking
models do): a one-column FK as ``ForeignKey`` on the column *and* as a named
``ForeignKeyConstraint`` in ``__table_args__`` (create_all builds both), and a
``PrimaryKeyConstraint`` whose column order is not the class's."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Trace(Base):
    __tablename__ = "traces"
    request_id = sa.Column(sa.String(50), primary_key=True)


class TraceTag(Base):
    __tablename__ = "trace_tags"
    key = sa.Column(sa.String(250))
    value = sa.Column(sa.String(8000))
    request_id = sa.Column(
        sa.String(50), sa.ForeignKey("traces.request_id", ondelete="CASCADE"), nullable=False
    )
    __table_args__ = (
        sa.PrimaryKeyConstraint("request_id", "key", name="trace_tag_pk"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["traces.request_id"],
            name="fk_trace_tags_request_id",
            ondelete="CASCADE",
        ),
    )
