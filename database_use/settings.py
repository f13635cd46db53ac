"""Database URL loading and masking, shared by config.py, the CLI and the MCP server."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from database_use.errors import ConfigError

DEFAULT_PORT = 5433
URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5433/DBNAME"
_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
# The look-behind makes a match start only where a scheme can start: without it a long run
# of letters (64 KB of script output) costs quadratic time before failing.
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)", re.I
)
_PASSWORD_KV = re.compile(r"(?P<head>password\s*=\s*)(?P<pw>'[^']*'|\S+)", re.I)


def mask_url(text: str) -> str:
    """Replace any password inside URLs or ``password=`` pairs in ``text`` with ``***``."""
    if not text:
        return text
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}", text)
    return _PASSWORD_KV.sub(lambda m: f"{m['head']}***", text)


def load_dotenv_file(project_root: str | Path | None) -> None:
    """Load ``.env`` under the project root into the environment (existing values win)."""
    root = Path(project_root or os.getcwd())
    env_file = root / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


def validate_url(url: str | None, variable: str = "DATABASE_URL") -> str:
    """Return ``url`` normalised to ``postgresql://``; raise ConfigError naming ``variable``."""
    if url is None or not url.strip():
        raise ConfigError(
            f"{variable} is not set; set it in .env or the environment as {URL_SHAPE}"
        )
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(
            f"{variable} is malformed ({mask_url(url)}); expected {URL_SHAPE}"
        ) from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            f"{variable} must be a PostgreSQL URL like {URL_SHAPE}, got scheme '{parts.scheme or '?'}'"
        )
    no_target = not parts.path.strip("/") and not parts.hostname
    if no_target and "dbname=" not in parts.query and "host=" not in parts.query:
        raise ConfigError(f"{variable} is malformed ({mask_url(url)}); expected {URL_SHAPE}")
    return "postgresql://" + url.split("://", 1)[1]


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a plain PostgreSQL URL: driven by psycopg 3."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def with_default_port(url: str, port: int = DEFAULT_PORT) -> str:
    """``url`` with ``port`` where it names a host but no port (libpq would use 5432)."""
    parts = urlsplit(url)
    if parts.port is not None or not parts.hostname or "port=" in parts.query:
        return url
    netloc = parts.netloc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    userinfo = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{host}:{port}"))


def describe_target(url: str) -> str:
    """``host:port/db`` of a URL, for error messages (never the password)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
        db = parts.path.lstrip("/") or "?"
        return f"{host}:{port}/{db}"
    except ValueError:
        return mask_url(url)


def database_url(project_root: str | Path | None = None, variable: str = "DATABASE_URL") -> str:
    """The validated URL from the environment or ``<project_root>/.env``."""
    load_dotenv_file(project_root)
    return validate_url(os.environ.get(variable), variable)
