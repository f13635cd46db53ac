"""Media files uploaded by users of the example app."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from utils_db.database import db


class MediaKind(enum.Enum):
    image = "image"
    video = "video"
    audio = "audio"
    document = "document"


class Media(db.Model):
    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("owner_id", "path", name="uq_media_owner_id_path"),
        CheckConstraint("size_bytes >= 0", name="size_bytes_non_negative"),
        Index("ix_media_owner_id_kind", "owner_id", "kind"),
        {"comment": "Files uploaded by users"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[MediaKind] = mapped_column(Enum(MediaKind, name="media_kind"), nullable=False)
    path: Mapped[str] = mapped_column(
        Text, nullable=False, comment="Path relative to the media root"
    )
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column(
        "metadata", JSONB, nullable=True, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
