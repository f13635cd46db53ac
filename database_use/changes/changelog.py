"""The append-only change log ``.roo/docs/pgdb_changes.md`` and atomic file writes.

Pure file work (no database): validating and formatting entries, appending them atomically
under a lock, and reading back the newest logged schema hash. ``database_use.service.log_change``
is the function the faces call.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from database_use.errors import InvalidRequest


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            with suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


LOG_HEADER = """\
# PostgreSQL schema change log

Every change to the live database's schema, oldest first. Entries are appended by
`database-use log-change`, the `log_change` MCP tool and applied guarded
changes; the file is append-only: old entries are never rewritten.

Entry format:

    ## YYYY-MM-DD HH:MM UTC — one-line summary
    - Tables: `schema.table`, ...
    - Proposal: `<id>` · approved by `<person>` via `<channel>`
    - Schema hash: `<before>` → `<after>`

    ```sql
    <the SQL that was run>
    ```

    Free-text details.

Only the summary line is required. The schema hash is the live database's structure hash
(`introspect` shows it); `validate` warns when the live hash differs from the newest logged
"after" hash — a change nobody logged.
"""

MAX_SUMMARY = 200
MAX_DETAILS = 20_000
MAX_SQL = 100_000
EXTRA_KEYS = (
    "proposal_id",
    "approved_by",
    "approval_channel",
    "schema_hash_before",
    "schema_hash_after",
)
_IDENT_PART = r'(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|"[^"`\n\r]{1,63}")'
_TABLE_NAME = re.compile(rf"^{_IDENT_PART}(?:\.{_IDENT_PART})?$")
_HEX = re.compile(r"^[0-9a-f]{8,64}$")
_SAFE_VALUE = re.compile(r"^[^\n\r`]{1,200}$")
_HASH_LINE = re.compile(
    r"^- Schema hash: (?:`(?P<before>[0-9a-f]+)`)? ?→ ?(?:`(?P<after>[0-9a-f]+)`)?\s*$"
)


def validate_entry_args(
    summary: str, details: str, tables: Iterable[str], sql: str | None, extra: dict[str, Any] | None
) -> tuple[str, list[str], dict[str, str]]:
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidRequest("the change summary is empty; say in one line what changed")
    summary = summary.strip()
    if "\n" in summary or "\r" in summary:
        raise InvalidRequest("the change summary must be a single line (put the rest in details)")
    if len(summary) > MAX_SUMMARY:
        raise InvalidRequest(
            f"the change summary is {len(summary)} characters; keep it under "
            f"{MAX_SUMMARY} and put the rest in details"
        )
    if len(details or "") > MAX_DETAILS:
        raise InvalidRequest(f"details are longer than {MAX_DETAILS} characters")
    if sql is not None and len(sql) > MAX_SQL:
        raise InvalidRequest(f"the SQL is longer than {MAX_SQL} characters")
    names = []
    for name in tables or ():
        if not isinstance(name, str) or not _TABLE_NAME.match(name.strip()):
            raise InvalidRequest(f"'{name}' is not a plausible table name (schema.table)")
        names.append(name.strip())
    clean: dict[str, str] = {}
    for key, value in (extra or {}).items():
        if key not in EXTRA_KEYS:
            raise InvalidRequest(f"unknown log field '{key}'; known: {', '.join(EXTRA_KEYS)}")
        if value is None or value == "":
            continue
        value = str(value).strip()
        pattern = _HEX if key.startswith("schema_hash") else _SAFE_VALUE
        if not pattern.match(value):
            raise InvalidRequest(f"log field {key} has an unusable value")
        clean[key] = value
    return summary, names, clean


def _fence(sql: str) -> str:
    fence = "```"
    while fence in sql:
        fence += "`"
    return f"{fence}sql\n{sql.strip()}\n{fence}"


def _escape_details(details: str) -> str:
    # A details line must not look like an entry heading or a metadata bullet of the log,
    # or it could forge an entry (or a schema hash) that last_logged_schema_hash would read.
    lines = []
    for line in details.strip().splitlines():
        if line.lstrip().startswith("#") or line.startswith("- Schema hash"):
            line = "\\" + line.lstrip()
        lines.append(line.rstrip())
    return "\n".join(lines)


def format_log_entry(
    summary: str,
    when: datetime,
    tables: list[str],
    details: str = "",
    sql: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """One entry of pgdb_changes.md (see LOG_HEADER for the format)."""
    extra = extra or {}
    lines = [f"## {when.strftime('%Y-%m-%d %H:%M')} UTC — {summary}"]
    if tables:
        lines.append("- Tables: " + ", ".join(f"`{t}`" for t in tables))
    if extra.get("proposal_id") or extra.get("approved_by"):
        bits = []
        if extra.get("proposal_id"):
            bits.append(f"Proposal: `{extra['proposal_id']}`")
        if extra.get("approved_by"):
            approved = f"approved by `{extra['approved_by']}`"
            if extra.get("approval_channel"):
                approved += f" via `{extra['approval_channel']}`"
            bits.append(approved)
        lines.append("- " + " · ".join(bits))
    elif extra.get("approval_channel"):
        lines.append(f"- Approval channel: `{extra['approval_channel']}`")
    before, after = extra.get("schema_hash_before"), extra.get("schema_hash_after")
    if before or after:
        left = f"`{before}` " if before else ""
        right = f" `{after}`" if after else ""
        lines.append(f"- Schema hash: {left}→{right}")
    body = []
    if sql and sql.strip():
        body.append(_fence(sql))
    if details and details.strip():
        body.append(_escape_details(details))
    text = "\n".join(lines)
    if body:
        text += "\n\n" + "\n\n".join(body)
    return text + "\n"


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An advisory lock beside ``path`` so two writers in different processes take turns."""
    lock_path = path.with_name(f".{path.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: rely on the prefix check alone
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def append_entry(path: Path, entry: str) -> bool:
    """Append ``entry`` to the log at ``path`` (created with LOG_HEADER); True if created.

    The full new content goes to a temp file and replaces the old one atomically, after
    checking that the old content is an unchanged prefix of it: old entries are never touched.
    """
    with _file_lock(path):
        old = path.read_bytes() if path.is_file() else b""
        head = old if old else LOG_HEADER.encode("utf-8")
        sep = b"\n" if head.endswith(b"\n") else b"\n\n"
        new = head + sep + entry.encode("utf-8")
        if not new.startswith(old):  # pragma: no cover - guards the invariant itself
            raise InvalidRequest("refusing to write the change log: the append would alter it")
        # Re-read just before the swap: a writer that ignores our lock must not lose entries.
        latest = path.read_bytes() if path.is_file() else b""
        if latest != old:
            raise InvalidRequest(f"{path.name} changed while appending; try again")
        atomic_write(path, new)
    return not old


def _entries(text: str) -> list[list[str]]:
    entries: list[list[str]] = []
    in_fence = None
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped.startswith("```"):  # indented fences (the header's example) do not count
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            if in_fence is None:
                in_fence = fence
            elif stripped == in_fence:
                in_fence = None
        if in_fence is None and line.startswith("## "):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    return entries


def last_after_hash(path: Path) -> str | None:
    """The "after" schema hash of the newest log entry that carries one (None if none)."""
    if not path.is_file():
        return None
    latest = None
    for entry in _entries(path.read_text(encoding="utf-8", errors="replace")):
        # Only the bullet block right under the heading is metadata; details come later.
        for line in entry[1:]:
            if not line.startswith("- "):
                break
            match = _HASH_LINE.match(line)
            if match and match["after"]:
                latest = match["after"]
    return latest
