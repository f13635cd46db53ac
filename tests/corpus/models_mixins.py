"""Mixins, ``__table_args__`` as a dict and as a tuple ending in a dict, custom TypeDecorators
(as in Flask-AppBuilder, Indico, CKAN)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column


class JSONEncoded(sa.types.TypeDecorator):
    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class UTCDateTime(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True


class Base(DeclarativeBase):
    pass


class TimestampMixin:
    created_at = mapped_column(UTCDateTime, server_default=sa.func.now(), nullable=False)
    updated_at = mapped_column(UTCDateTime, onupdate=sa.func.now())


class NamedMixin:
    name: Mapped[str] = mapped_column(sa.String(100))

    @declared_attr.directive
    def __table_args__(cls):
        return (sa.UniqueConstraint("name", name=f"uq_{cls.__tablename__}_name"),)


class Tag(NamedMixin, TimestampMixin, Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    payload = mapped_column(JSONEncoded)


class Setting(TimestampMixin, Base):
    __tablename__ = "settings"
    __table_args__ = {"comment": "key/value settings"}
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value = mapped_column(JSONEncoded, comment="JSON text")


class Event(TimestampMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint("severity BETWEEN 0 AND 5", name="ck_events_severity"),
        sa.Index("ix_events_recent", "created_at", postgresql_where=sa.text("severity > 3")),
        {"comment": "audit events"},
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    severity: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    tag_id = mapped_column(sa.ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    happened_on = mapped_column(sa.Date, server_default=sa.text("CURRENT_DATE"))
    level = mapped_column(sa.Enum("info", "warn", name="event_level"), server_default="info")
    expires = mapped_column(sa.DateTime, default=dt.datetime.now)
