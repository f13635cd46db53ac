"""The append-only change log ``.roo/docs/pgdb_changes.md`` and atomic file writes.

Pure file work (no database): validating and formatting entries, appending them atomically
under a lock, and reading back the newest logged schema hash. ``database_use.service.log_change``
is the function the faces call.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from database_use.display import escape_for_display
from database_use.errors import InvalidRequest, LockTimeout


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
    - Chain: `<sha256>`

    ```sql
    <the SQL that was run>
    ```

    Free-text details.

Only the summary line is required. The schema hash is the live database's structure hash
(`introspect` shows it); `validate` warns when the live hash differs from the newest logged
"after" hash — a change nobody logged. The chain value is the SHA-256 of the previous entry's
chain value (for the first chained entry: of all the text above it) and of this entry, so
`validate` reports an entry that was edited, removed or moved.
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


def _clean_text(text: str) -> str:
    # One line separator (\n), every other invisible or terminal-controlling character shown
    # as an escape: what the parser splits on is then exactly what a reader sees as a line.
    return escape_for_display(text.replace("\r\n", "\n"))


def _fence(sql: str) -> str:
    sql = _clean_text(sql)
    fence = "```"
    while fence in sql:
        fence += "`"
    return f"{fence}sql\n{sql.strip()}\n{fence}"


# A details line that a Markdown reader or our parser could take for structure: a heading
# (ATX or setext underline), a code fence (``` or ~~~, which would swallow what follows),
# an HTML block (<!-- … with no end hides the rest of the file), or a metadata bullet.
_STRUCTURAL = re.compile(r"^(?:#|```|~~~|<|- (?:Schema hash|Chain|Proposal|Tables)\b)")
_SETEXT = re.compile(r"^(?:=+|-+)\s*$")


def _escape_details(details: str) -> str:
    """Details as plain text inside the entry: no line of it can open, close or forge one."""
    lines = []
    for line in _clean_text(details).strip().split("\n"):
        stripped = line.lstrip()
        if _STRUCTURAL.match(stripped) or _SETEXT.match(stripped):
            line = "\\" + stripped
        lines.append(line.rstrip())
    return "\n".join(lines)


def format_log_entry(
    summary: str,
    when: datetime,
    tables: list[str],
    details: str = "",
    sql: str | None = None,
    extra: dict[str, str] | None = None,
    table_notes: dict[str, str] | None = None,
) -> str:
    """One entry of pgdb_changes.md without its chain line (see LOG_HEADER for the format);
    :func:`append_entry` adds the chain line. ``table_notes`` marks tables, e.g. "not in the
    live DB"."""
    extra = extra or {}
    table_notes = table_notes or {}
    lines = [f"## {when.strftime('%Y-%m-%d %H:%M')} UTC — {summary}"]
    if tables:
        lines.append(
            "- Tables: "
            + ", ".join(
                f"`{t}`" + (f" ({table_notes[t]})" if t in table_notes else "") for t in tables
            )
        )
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
    text = escape_for_display("\n".join(lines))
    if body:
        text += "\n\n" + "\n\n".join(body)
    return text + "\n"


# -- the lock --------------------------------------------------------------------------------
LOCK_WAIT_SECONDS = 5.0
_LOCK_POLL_SECONDS = 0.05


@contextmanager
def file_lock(path: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """An advisory lock beside ``path`` so two writers in different processes take turns.

    Waits at most ``wait`` seconds: a process that holds the lock forever (hung, stopped)
    makes this raise :class:`LockTimeout` instead of blocking the caller forever."""
    lock_path = path.with_name(f".{path.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: rely on the prefix check alone
            yield
            return
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{path.name} is locked by another process (waited {wait:g} s); "
                        "nothing was written: try again when that process has finished "
                        f"(the lock is {lock_path.name} beside it)"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- parsing and the chain --------------------------------------------------------------------
_CHAIN_LINE = re.compile(r"^- Chain: `(?P<value>[0-9a-f]{64})`\s*$")
_PROPOSAL = re.compile(r"^- Proposal: `(?P<id>[^`]+)`")


@dataclass
class Entry:
    """One parsed entry: its 1-based number, its lines, and what its metadata block says."""

    number: int
    lines: list[str]
    chain: str | None = None
    proposal_id: str | None = None
    schema_hash_after: str | None = None

    @property
    def heading(self) -> str:
        return self.lines[0]

    def canonical(self) -> str:
        """The entry's text without its chain line: what its chain value covers."""
        return "\n".join(line for line in self.lines if not _CHAIN_LINE.match(line)).rstrip()


@dataclass
class ParsedLog:
    preamble: list[str]
    entries: list[Entry]
    open_fence: str | None  # the fence left open at the end (a broken older entry)

    def text_before(self, entry: Entry) -> str:
        lines = list(self.preamble)
        for other in self.entries:
            if other is entry:
                break
            lines.extend(other.lines)
        return "\n".join(lines).rstrip()


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n")


def parse_log(text: str) -> ParsedLog:
    """Split the log into its preamble and entries (a ``## `` line outside a fence starts one).

    Only the bullet block right under a heading is metadata; details come after a blank line
    and are escaped when written (see :func:`_escape_details`), so they cannot start, end or
    forge an entry."""
    preamble: list[str] = []
    entries: list[Entry] = []
    in_fence: str | None = None
    for line in _normalize(text).split("\n"):
        stripped = line.rstrip()
        if stripped.startswith("```"):  # indented fences (the header's example) do not count
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            if in_fence is None:
                in_fence = fence
            elif stripped == in_fence:
                in_fence = None
        if in_fence is None and line.startswith("## "):
            entries.append(Entry(number=len(entries) + 1, lines=[line]))
        elif entries:
            entries[-1].lines.append(line)
        else:
            preamble.append(line)
    for entry in entries:
        for line in entry.lines[1:]:
            if not line.startswith("- "):
                break
            if match := _CHAIN_LINE.match(line):
                entry.chain = match["value"]
            elif match := _PROPOSAL.match(line):
                entry.proposal_id = match["id"]
            elif (match := _HASH_LINE.match(line)) and match["after"]:
                entry.schema_hash_after = match["after"]
    return ParsedLog(preamble, entries, in_fence)


def chain_link(previous: str, canonical: str) -> str:
    """The chain value of an entry: SHA-256 over the previous value and the entry's text."""
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


def _genesis(text_before: str) -> str:
    return hashlib.sha256(text_before.encode("utf-8")).hexdigest()


@dataclass
class ChainCheck:
    """What :func:`check_chain` found. ``breaks``: ``{"entry", "heading", "reason"}``."""

    entries: int
    chained: int
    unchained_before: int  # entries written before the chain started (older versions)
    head: str | None
    breaks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def message(self) -> str:
        if not self.breaks:
            if not self.chained:
                return "the change log has no chained entries yet; the next entry starts the chain"
            start = (
                f" (the chain starts at entry {self.unchained_before + 1}; the "
                f"{self.unchained_before} older entries above it are covered as one block)"
                if self.unchained_before
                else ""
            )
            return f"the change log's chain is intact: {self.chained} chained entries{start}"
        first = self.breaks[0]
        more = f" (+{len(self.breaks) - 1} more)" if len(self.breaks) > 1 else ""
        return (
            f"the change log's chain is broken at entry {first['entry']} "
            f"({first['heading']!r}): {first['reason']}{more}; restore the file from version "
            "control (git diff shows the edit)"
        )


def check_chain(parsed: ParsedLog) -> ChainCheck:
    """Walk the chain: an edited, removed or reordered entry breaks it where it happened.

    Each chained entry's value must equal :func:`chain_link` of the previous entry's stored
    value and its own text; the first chained entry links to the SHA-256 of all text above it
    (the header and any entries an older version wrote, which start the chain as one block).
    After a break the walk goes on from the stored value, so one edit gives one break."""
    entries = parsed.entries
    first = next((i for i, e in enumerate(entries) if e.chain), None)
    if first is None:
        return ChainCheck(len(entries), 0, len(entries), None)
    result = ChainCheck(len(entries), 0, first, None)
    previous = _genesis(parsed.text_before(entries[first]))
    for entry in entries[first:]:
        heading = entry.heading[:120]
        if entry.chain is None:
            result.breaks.append(
                {
                    "entry": entry.number,
                    "heading": heading,
                    "reason": "it has no chain line (added by hand or by an older version)",
                }
            )
            continue
        result.chained += 1
        if chain_link(previous, entry.canonical()) != entry.chain:
            result.breaks.append(
                {
                    "entry": entry.number,
                    "heading": heading,
                    "reason": "its chain value does not match: this entry was edited, or an "
                    "entry before it was edited, removed or moved",
                }
            )
        previous = entry.chain
    result.head = previous
    return result


def _with_chain(entry: str, value: str) -> str:
    """``entry`` with its chain line as the last line of the metadata block."""
    lines = entry.split("\n")
    at = 1
    while at < len(lines) and lines[at].startswith("- "):
        at += 1
    lines.insert(at, f"- Chain: `{value}`")
    return "\n".join(lines)


@dataclass
class Appended:
    created: bool
    chain: str | None  # the new entry's chain value (None when skipped)
    skipped: bool = False  # an entry of this proposal was already there
    warnings: list[str] = field(default_factory=list)


def append_entry(
    path: Path, entry: str, *, unless_proposal: str | None = None, wait: float = LOCK_WAIT_SECONDS
) -> Appended:
    """Append ``entry`` (from :func:`format_log_entry`) with its chain line to the log at
    ``path`` (created with LOG_HEADER).

    The full new content goes to a temp file and replaces the old one atomically, after
    checking that the old content is an unchanged prefix of it: old entries are never touched.
    ``unless_proposal``: append nothing when an entry of that proposal is already there (a
    finished apply logs exactly once). A broken chain does not stop the append (the record of
    a change that happened matters more, and the break stays reported where it is); the
    answer warns about it. Waits at most ``wait`` seconds for the lock (LockTimeout)."""
    with file_lock(path, wait):
        old = path.read_bytes() if path.is_file() else b""
        head = old if old else LOG_HEADER.encode("utf-8")
        parsed = parse_log(head.decode("utf-8", errors="replace"))
        if unless_proposal and any(e.proposal_id == unless_proposal for e in parsed.entries):
            return Appended(created=False, chain=None, skipped=True)
        checked = check_chain(parsed)
        warnings = [] if checked.ok else [checked.message()]
        sep = b"\n" if head.endswith(b"\n") else b"\n\n"
        if parsed.open_fence:  # an older entry left a fence open: close it, or it swallows ours
            sep += parsed.open_fence.encode() + b"\n\n"
        prefix = head + sep
        previous = checked.head or _genesis(
            _normalize(prefix.decode("utf-8", errors="replace")).rstrip()
        )
        canonical = Entry(0, entry.rstrip("\n").split("\n")).canonical()
        value = chain_link(previous, canonical)
        new = prefix + _with_chain(entry, value).encode("utf-8")
        if not new.startswith(old):  # pragma: no cover - guards the invariant itself
            raise InvalidRequest("refusing to write the change log: the append would alter it")
        # Re-read just before the swap: a writer that ignores our lock must not lose entries.
        latest = path.read_bytes() if path.is_file() else b""
        if latest != old:
            raise InvalidRequest(f"{path.name} changed while appending; try again")
        atomic_write(path, new)
    return Appended(created=not old, chain=value, warnings=warnings)


def read_log(path: Path) -> ParsedLog | None:
    if not path.is_file():
        return None
    return parse_log(path.read_text(encoding="utf-8", errors="replace"))


def last_after_hash(path: Path) -> str | None:
    """The "after" schema hash of the newest log entry that carries one (None if none)."""
    parsed = read_log(path)
    if parsed is None:
        return None
    latest = None
    for entry in parsed.entries:
        if entry.schema_hash_after:
            latest = entry.schema_hash_after
    return latest


def has_proposal_entry(path: Path, proposal_id: str) -> bool:
    """Whether the log already holds an entry of ``proposal_id``."""
    parsed = read_log(path)
    return parsed is not None and any(e.proposal_id == proposal_id for e in parsed.entries)
