"""Database URL loading and masking, shared by config.py, the CLI and the MCP server."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from database_use import redact
from database_use.errors import ConfigError

DEFAULT_PORT = 5433
URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5433/DBNAME"
_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
ENCODE_HINT = (
    "percent-encode these characters in the user and password: @ → %40, : → %3A, / → %2F, "
    "# → %23, ? → %3F, % → %25, space → %20"
)


def mask_url(text: str) -> str:
    """``text`` with every known database password (any form, any malformed URL), passwords
    inside URLs, ``password=`` values and password hashes replaced by ``***``.

    See :mod:`database_use.redact`: the known passwords are those of every URL that went
    through :func:`validate_url` in this process."""
    return redact.mask_secrets(text)


#: What the tool takes from a project's ``.env``: database URLs and nothing else (DESIGN's
#: threat model: ``.env`` is a project file an agent can write, so it must not reach debug
#: switches, timeouts, ``PYTHONPATH``/``LD_PRELOAD`` for child processes or any policy).
URL_VARIABLES = ("DATABASE_URL", "DATABASE_READONLY_URL")


def load_dotenv_file(project_root: str | Path | None, only: tuple[str, ...] | None = None) -> None:
    """Load ``.env`` under the project root into the environment (existing values win).

    ``only`` limits what is taken to those names (the tool passes :data:`URL_VARIABLES`); the
    example app's own ``config.py`` loads the whole file, as apps do.
    """
    root = Path(project_root or os.getcwd())
    env_file = root / ".env"
    if not env_file.is_file():
        return
    if only is None:
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
        return
    from dotenv import dotenv_values

    for name, value in dotenv_values(env_file).items():
        if name in only and value is not None and name not in os.environ:
            os.environ[name] = value


def validate_url(url: str | None, variable: str = "DATABASE_URL") -> str:
    """Return ``url`` normalised to ``postgresql://``; raise ConfigError naming ``variable``."""
    if url is None or not url.strip():
        raise ConfigError(
            f"{variable} is not set; set it in .env or the environment as {URL_SHAPE}"
        )
    redact.remember_url(url)  # first: even a URL refused below never shows its password
    url = url.strip()
    raw_chars = _raw_special_characters(url)
    if raw_chars:
        raise ConfigError(
            f"{variable} is malformed ({mask_url(url)}): the user or password holds {raw_chars}; "
            f"{ENCODE_HINT}"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(
            f"{variable} is malformed ({mask_url(url)}); expected {URL_SHAPE} ({ENCODE_HINT})"
        ) from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            f"{variable} must be a PostgreSQL URL like {URL_SHAPE}, got scheme '{parts.scheme or '?'}'"
        )
    no_target = not parts.path.strip("/") and not parts.hostname
    if no_target and "dbname=" not in parts.query and "host=" not in parts.query:
        raise ConfigError(f"{variable} is malformed ({mask_url(url)}); expected {URL_SHAPE}")
    return "postgresql://" + url.split("://", 1)[1]


# host[:port][,host[:port]...], IPv6 in brackets, or nothing (a unix socket given in the query).
_HOSTPORT = re.compile(
    r"((\[[0-9A-Fa-f:.]+\]|[\w.-]+)(:\d*)?)?(,(\[[0-9A-Fa-f:.]+\]|[\w.-]+)(:\d*)?)*"
)


def _raw_special_characters(url: str) -> str | None:
    """What in the user or password of ``url`` a parser would read differently (a raw ``@``,
    ``/``, ``#``, ``?``, ``%`` or space), or None. The userinfo is read up to the last ``@``
    unless that ``@`` clearly sits in the path or the query of a well-formed URL."""
    if "://" not in url:
        return None
    rest = url.split("://", 1)[1]
    if "@" not in rest:
        return None
    parsed, _, hostport = urlsplit(url).netloc.rpartition("@")
    userinfo = rest.rsplit("@", 1)[0]
    if _HOSTPORT.fullmatch(hostport):
        userinfo = parsed  # a well-formed authority: a later '@' is the path's or the query's
    found = [f"a raw '{ch}'" for ch in "@/#?" if ch in userinfo]
    if any(ch.isspace() for ch in userinfo):
        found.append("a space")
    if re.search(r"%(?![0-9A-Fa-f]{2})", userinfo):
        found.append("a raw '%'")
    return ", ".join(found) or None


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
    # A variable named on purpose (``url:STAGING_DATABASE_URL``) is a URL too, if it is named so.
    extra = (variable,) if variable.endswith(("_URL", "_URI")) else ()
    load_dotenv_file(project_root, only=URL_VARIABLES + extra)
    return validate_url(os.environ.get(variable), variable)
