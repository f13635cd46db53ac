"""Exclusion constraints on range columns with built-in GiST operator classes (as booking and
scheduling apps do: no two reservations of one room overlap)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INT4RANGE, TSRANGE, ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Reservation(Base):
    __tablename__ = "reservations"
    id: Mapped[int] = mapped_column(primary_key=True)
    during = mapped_column(TSRANGE, nullable=False)
    seats = mapped_column(INT4RANGE)
    cancelled: Mapped[bool] = mapped_column(server_default=sa.false())
    __table_args__ = (
        ExcludeConstraint(("during", "&&"), using="gist", name="ex_reservations_during"),
        ExcludeConstraint(
            ("seats", "&&"),
            using="gist",
            name="ex_reservations_seats",
            where=sa.text("NOT cancelled"),
        ),
    )
