"""Start the database-use MCP server: ``python -m mcp_server`` or ``database-use-mcp``.

stdout belongs to the stdio transport, so everything else (logs, startup notes, errors)
goes to stderr, with any password in a database URL masked. The server starts even when
DATABASE_URL is missing or the database is down; the tools then say what is wrong.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from database_use.settings import mask_url
from mcp_server.http_auth import BearerAuth, new_token

log = logging.getLogger("database_use.mcp")

DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DEFAULT_PORT = 8000
# How long a server that is stopping waits for its tier line (the role check's connect_timeout
# is 10 s).
TIER_WAIT_S = 15.0
HTTP_PATH = "/mcp"


class MaskPasswords(logging.Filter):
    """Mask passwords in URLs / ``password=`` pairs in every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record alone
            return True
        masked = mask_url(message)
        if record.exc_info and not record.exc_text:
            # Tracebacks may quote a URL too; format them now so the mask covers them.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_url(record.exc_text)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """One stderr handler on the root logger, masking passwords (set before the SDK's own)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPasswords())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="database-use-mcp",
        description="MCP server for safe work on a PostgreSQL database behind a SQLAlchemy app. "
        "DATABASE_URL comes from the environment or <project-root>/.env.",
    )
    parser.add_argument(
        "--project-root",
        default=None,
        help="folder holding models/, .roo/, temp/ and .env (default: the current directory)",
    )
    parser.add_argument(
        "--transport",
        choices=("stdio", "streamable-http"),
        default="stdio",
        help="stdio (default; for clients that start the server) or streamable-http",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"HTTP bind address, loopback only: {', '.join(LOOPBACK)} (default {DEFAULT_HOST})",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="stderr log level (default INFO)",
    )
    return parser


def _describe_database(project) -> str:
    from database_use.errors import DatabaseUseError

    try:
        return project.masked_url
    except DatabaseUseError as exc:
        return f"not configured ({exc}); tools will report this until it is fixed"


def main(argv: Sequence[str] | None = None) -> int:
    # Start-up imports the MCP SDK (pydantic models by the hundred) and builds the tools: only
    # long-lived objects, which the collector's passes would walk for nothing (the SDK's import
    # measured 0.55 -> 0.45 s). Paused until the server runs, then resumed (see _serving).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv, was_enabled)
    finally:
        if was_enabled:
            gc.enable()


def _serving(was_enabled: bool) -> None:
    """The start-up pause ends: what start-up built is set aside (``gc.freeze``), so the
    serving process's collections walk only what requests create."""
    if was_enabled:
        gc.freeze()
        gc.enable()


def _main(argv: Sequence[str] | None, was_enabled: bool) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    root = Path(args.project_root or ".").expanduser().resolve()
    if not root.is_dir():
        log.error("--project-root %s is not a directory", root)
        return 2
    if args.transport == "streamable-http" and args.host not in LOOPBACK:
        log.error("--host %s refused: the HTTP transport binds to loopback only", args.host)
        return 2

    from database_use.connection import db
    from mcp_server.server import build_server

    # Scripts and models that use the shared `db` object find the project's .env too.
    db.configure(url=None, project_root=root)
    server = build_server(root)
    project_note = _describe_database(_project_of(root))
    _serving(was_enabled)
    tier = _tier_beside(root, args.transport)
    try:
        if args.transport == "stdio":
            log.info(
                "database-use MCP server on stdio; project %s; database %s", root, project_note
            )
            server.run()
        else:
            log.info(
                "database-use MCP server on http://%s:%d%s; project %s; database %s",
                args.host,
                args.port,
                HTTP_PATH,
                root,
                project_note,
            )
            token, token_file = new_token()
            # Shown once, for the person to give their client; also in the 0600 file.
            log.info(
                "HTTP clients must send 'Authorization: Bearer %s' (saved in %s; a new token "
                "on every start)",
                token,
                token_file,
            )
            _run_http(server, args.host, args.port, args.log_level, token)
    except KeyboardInterrupt:
        pass
    finally:
        tier.join(TIER_WAIT_S)  # a short session still gets its tier line
    return 0


def _tier_beside(root: Path, transport: str) -> threading.Thread:
    """The tier line, worked out beside the server rather than before it: it asks the database
    what DATABASE_URL's role may do (psycopg's import, a connection, one query), and neither
    ``initialize`` nor a database slow to answer should wait for that. The line is the same;
    it comes a moment later on stderr."""
    thread = threading.Thread(
        target=_log_tier, args=(root, transport), name="database-use tier line", daemon=True
    )
    thread.start()
    return thread


def _log_tier(root: Path, transport: str) -> None:
    """One line with the tier this setup gives; a warning when the guard is project code."""
    from database_use import doctor

    try:
        for level, line in doctor.startup_notes(_project_of(root), transport):
            levels = {"warning": logging.WARNING, "error": logging.ERROR}
            log.log(levels.get(level, logging.INFO), "%s", line)
    except Exception as exc:  # the tier line must never stop the server
        log.warning("tier unknown (%s: %s); run database-use doctor", type(exc).__name__, exc)


def _project_of(root: Path):
    from database_use.project import open_project

    return open_project(root)


def _run_http(server, host: str, port: int, log_level: str, token: str) -> None:
    """Serve streamable HTTP with uvicorn, logging through our stderr handler.

    The SDK's ``run("streamable-http")`` uses uvicorn's default logging config, which writes
    access lines to stdout; ``log_config=None`` keeps uvicorn on the root logger instead.
    """
    import anyio
    import uvicorn

    app = BearerAuth(server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host), token)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level=log_level.lower())
    anyio.run(uvicorn.Server(config).serve)


if __name__ == "__main__":
    sys.exit(main())
