"""The one exceptions module of database-use.

Every error the engine raises on purpose derives from :class:`DatabaseUseError`; the faces
translate them (CLI: exit code 2 or 1, MCP: ``ToolError``) and never show a traceback::

    DatabaseUseError
    ├── ConfigError            missing or malformed DATABASE_URL / TEST_DATABASE_URL
    ├── ConnectionFailed       server down, wrong password, unknown database (URL masked)
    ├── NotFound               unknown schema, table, column, change id or script
    ├── DocParseError          the schema doc does not parse (names the line)
    ├── ModelLoadError         a models_*.py file failed to import
    ├── InvalidRequest         bad arguments: hostile identifier, unknown type, bad path
    ├── ChangeRefused          guarded change not approved / stale / hash mismatch / expired
    ├── LockTimeout            a file lock (the change log) stayed held past its deadline
    └── ScriptError            a vetted script could not be drafted, promoted or run
        └── SandboxUnavailable no OS sandbox for agent-written code (names the fix)
"""

from __future__ import annotations


class DatabaseUseError(Exception):
    """Root of all errors raised on purpose by database-use. The message is one line."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class ConfigError(DatabaseUseError):
    """The configuration (a database URL) is missing or malformed."""


class ConnectionFailed(DatabaseUseError):
    """The database could not be reached or refused us."""


class NotFound(DatabaseUseError):
    """An object the caller named does not exist."""


class DocParseError(DatabaseUseError):
    """The Markdown schema doc could not be parsed; the message names the line."""


class ModelLoadError(DatabaseUseError):
    """A models_*.py file could not be imported."""


class InvalidRequest(DatabaseUseError):
    """The request itself is invalid (identifier, type, path, action)."""


class ChangeRefused(DatabaseUseError):
    """A guarded change was refused (not approved, stale, tampered, expired, used)."""


class LockTimeout(DatabaseUseError):
    """Another process held a lock (the change log's) past the deadline; nothing was written."""

    exit_code = 1


class ScriptError(DatabaseUseError):
    """A vetted script could not be drafted, promoted or run."""


class SandboxUnavailable(ScriptError):
    """Agent-written code would run without an OS sandbox and the person did not allow that."""
