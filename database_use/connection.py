"""The one shared database object, ``db``.

Models subclass ``db.Model`` (its ``metadata`` is ``db.metadata``); the app and the scripts use
``db.engine`` / ``db.session()``; read tools use ``db.readonly_connection()``, which is read-only
at the database level (``default_transaction_read_only``) with a ``statement_timeout``.
Nothing connects, and SQLAlchemy is not even imported, until something asks for it: the
introspection path runs on plain psycopg through :meth:`Database.connect`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from database_use.errors import ConnectionFailed
from database_use.redact import remember_url
from database_use.settings import (
    ENCODE_HINT,
    database_url,
    describe_target,
    mask_url,
    sqlalchemy_url,
    validate_url,
)

if TYPE_CHECKING:  # pragma: no cover
    import psycopg
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session

DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def readonly_options(statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS) -> str:
    """libpq ``options`` that make every transaction of a session read-only, with a timeout."""
    return f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)}"


def explain_connect_error(exc: BaseException, url: str) -> ConnectionFailed:
    """Turn a driver error into a one-line ConnectionFailed naming host:port/db.

    The driver's text is shown only when no known cause matches, and then masked: libpq and
    psycopg quote pieces of a malformed URL ("failed to resolve host 'ret@127.0.0.1'", "unexpected
    spaces found in \"pass word\""), which are pieces of the password."""
    remember_url(url)
    raw = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = mask_url(raw[0] if raw else type(exc).__name__)
    lowered = detail.lower()
    target = describe_target(url)
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        why = "authentication failed (check the user and password in DATABASE_URL)"
    elif "does not exist" in lowered and "database" in lowered:
        why = "the database does not exist"
    elif any(text in lowered for text in _URL_SYNTAX):
        why = f"DATABASE_URL is not a valid URL; {ENCODE_HINT}"
    elif "resolve host" in lowered or "translate host name" in lowered:
        why = (
            "the host name does not resolve (a raw @, /, # or ? in the password cuts the URL "
            f"there; {ENCODE_HINT})"
        )
    elif (
        "connection refused" in lowered
        or "could not connect" in lowered
        or "no such file" in lowered
    ):
        why = "connection refused: is PostgreSQL running and listening there?"
    elif "timeout" in lowered:
        why = "connection timed out"
    else:
        why = detail
    return ConnectionFailed(f"cannot connect to PostgreSQL at {target}: {why}")


# What libpq and psycopg say about a URL they cannot parse (they quote the offending piece).
_URL_SYNTAX = (
    "unexpected spaces found",
    "invalid percent-encoded token",
    "invalid uri",
    'missing "=" after',
    "invalid connection option",
    "unterminated quoted string",
)


class Database:
    """Holder of the declarative base, the lazily created engine and connection helpers."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._engine: Engine | None = None
        self._model: Any = None
        self.project_root: Path | None = None

    # -- configuration ---------------------------------------------------------------
    def configure(self, url: str | None = None, project_root: str | Path | None = None) -> None:
        """Point ``db`` at a database. Without ``url``: DATABASE_URL from env / .env."""
        self.dispose()
        self.project_root = Path(project_root) if project_root else None
        self._url = validate_url(url) if url else None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = database_url(self.project_root or os.getcwd())
        return self._url

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    # -- the declarative base ---------------------------------------------------------
    @property
    def Model(self) -> Any:  # noqa: N802 - the conventional name for the model base
        if self._model is None:
            from sqlalchemy import MetaData
            from sqlalchemy.orm import DeclarativeBase

            class Model(DeclarativeBase):
                metadata = MetaData(naming_convention=NAMING_CONVENTION)

            self._model = Model
        return self._model

    @property
    def metadata(self) -> MetaData:
        return self.Model.metadata

    # -- SQLAlchemy ---------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(sqlalchemy_url(self.url), pool_pre_ping=True)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        from sqlalchemy.orm import Session

        try:
            with Session(self.engine) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except Exception as exc:  # connection problems only; others pass through
            if _is_operational(exc):
                raise explain_connect_error(exc, self.url) from None
            raise

    # -- plain psycopg (fast path, used by introspection and guarded changes) ------------
    @contextmanager
    def connect(
        self,
        *,
        readonly: bool = False,
        statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
        autocommit: bool = False,
        url: str | None = None,
    ) -> Iterator[psycopg.Connection]:
        """A psycopg connection to ``url`` (default: ours); read-only at the server if asked."""
        import psycopg

        target = validate_url(url) if url else self.url
        options = (
            readonly_options(statement_timeout_ms)
            if readonly
            else (f"-c statement_timeout={int(statement_timeout_ms)}")
        )
        # libpq ignores PGOPTIONS once ``options`` is given; keep it in front so a session
        # default set by the caller's environment (the read-only script runner sets
        # default_transaction_read_only there) still applies to this connection.
        inherited = os.environ.get("PGOPTIONS", "").strip()
        if inherited:
            options = f"{inherited} {options}"
        try:
            conn = psycopg.connect(
                target,
                options=options,
                autocommit=autocommit,
                connect_timeout=10,
                application_name="database-use",
            )
        except psycopg.Error as exc:
            raise explain_connect_error(exc, target) from None
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def readonly_connection(
        self, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    ) -> Iterator[psycopg.Connection]:
        """A connection whose every transaction is read-only at the database level."""
        with self.connect(readonly=True, statement_timeout_ms=statement_timeout_ms) as conn:
            yield conn

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _is_operational(exc: BaseException) -> bool:
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, OperationalError)


db = Database()
