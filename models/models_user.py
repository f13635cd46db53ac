"""Users of the example app. Passwords are stored hashed (argon2id) in ``pw_hashed``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Enum, Identity, String, text
from sqlalchemy.orm import Mapped, mapped_column

from utils_db.database import db


class UserRole(enum.Enum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = {"comment": "People who can sign in to the app"}

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    pw_hashed: Mapped[str] = mapped_column(
        String(255), nullable=False, comment="argon2id hash; never the plain password"
    )
    role: Mapped[UserRole] = mapped_column(
        Enum(UserRole, name="user_role"), nullable=False, server_default=text("'viewer'")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
