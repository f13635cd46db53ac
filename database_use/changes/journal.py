"""The apply journal: a durable note, written before COMMIT, that change X is being applied.

``apply_change`` writes ``.roo/changes/journal/<id>.json`` (temp file, fsync, rename, fsync of
the folder) inside its transaction, before running the SQL, and completes it (the schema hash
after, so the log entry is whole) right before COMMIT. It holds ``<id>.lock`` (an ``flock``)
while it works, so the lock is free exactly when the applying process has ended. After
COMMIT it records the status, regenerates the doc and appends the log entry; only when all
three succeeded is the journal removed. A journal left behind (the process was killed, or a
step failed) is finished by the next command that touches changes.

How a leftover journal is told apart — committed or not — without writing anything outside
the change: the journal holds the apply transaction's id (``txid_current()``), and
PostgreSQL's own ``txid_status()`` answers ``committed``, ``aborted`` or ``in progress``
for it. Where the server no longer remembers it (a very old id: NULL), the live schema is
compared with the journal's hashes and the plan's expected state (the verify step): the
"after" hash or the expected state present means committed, the "before" hash means not.
Before acting on a journal at all, it must name the database it was written for (identity)
and an approval that the used-ledger (in the person's config dir, outside the project)
records as spent on this change — a journal written into the project by anyone else is
ignored.

Like the proposal file and the log, the journal is a project file and not a trust anchor: code
that can write the project could edit a kept journal's log text, as it could edit the log
itself. What it cannot do through a journal is make a change count as applied that did not
commit, or reach the database: finishing only records the status, regenerates the doc from
the live schema and appends a validated, escaped log entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from database_use import approvals
from database_use.changes.plan import verify_expected
from database_use.errors import DatabaseUseError
from database_use.project import Project

VERSION = 1
Outcome = Literal["committed", "aborted", "running", "unknown"]


def journal_dir(project: Project) -> Path:
    return project.changes_dir / "journal"


@dataclass
class Pending:
    """What ``pipeline.finish_pending`` did: applies it finished, and problems it left in place."""

    finished: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in (("finished", self.finished), ("warnings", self.warnings)) if v}


def pending(project: Project) -> list[str]:
    """Change ids with a journal left (cheap: one directory listing)."""
    folder = journal_dir(project)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("chg-*.json"))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock(path: Path) -> Any | None:
    """The open lock file at ``path`` locked by us, or None when another process holds it."""
    import fcntl

    while True:
        fh = open(path, "a+b")  # noqa: SIM115 - held for the life of the Journal
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return None
        try:  # the holder may have removed the file just before we locked it: retry on the new one
            if os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino:
                return fh
        except FileNotFoundError:
            pass
        fh.close()


@dataclass
class Journal:
    """One change's journal, its lock held by this process until :meth:`release`."""

    path: Path
    lock_path: Path
    lock: Any

    def read(self) -> dict[str, Any]:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a journal of this version")
        if data.get("change_id") != self.path.stem:
            raise ValueError("names another change")
        return data

    def write(self, record: dict[str, Any]) -> None:
        """Durably (temp file, fsync, rename, fsync of the folder) replace the record."""
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(record, indent=2) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.path.parent)

    def remove(self) -> None:
        """The work is done: delete the journal (and its lock file), then let go."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        _fsync_dir(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            self.lock_path.unlink()
        self.release()

    def release(self) -> None:
        """Let go of the lock, keeping the journal for the next command."""
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def _paths(project: Project, change_id: str) -> tuple[Path, Path]:
    folder = journal_dir(project)
    return folder / f"{change_id}.json", folder / f"{change_id}.lock"


def begin(project: Project, change_id: str, record: dict[str, Any]) -> Journal:
    """Take the change's journal lock and write its first record (OSError when impossible)."""
    path, lock_path = _paths(project, change_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(lock_path)
    if lock is None:
        raise OSError(f"the journal of {change_id} is held by another process")
    journal = Journal(path, lock_path, lock)
    try:
        journal.write({**record, "version": VERSION, "change_id": change_id})
    except BaseException:
        journal.release()
        raise
    return journal


def claim(project: Project, change_id: str) -> Journal | None:
    """The leftover journal of ``change_id``, locked; None when a live process holds it or
    it is gone."""
    path, lock_path = _paths(project, change_id)
    lock = _lock(lock_path)
    if lock is None:
        return None
    journal = Journal(path, lock_path, lock)
    if not path.is_file():
        journal.release()
        return None
    return journal


# -- committed or not? -------------------------------------------------------------------------
def trusted(project: Project, record: dict[str, Any], proposal: dict[str, Any]) -> str | None:
    """Why this journal must not be acted on (None: it is the apply's own)."""
    if record.get("sql_sha256") != proposal.get("sql_sha256"):
        return "it does not match the proposal's SQL"
    used = approvals.used_record(str(record.get("nonce") or ""))
    if (
        not used
        or used.get("kind") != "change"
        or used.get("subject_id") != proposal.get("id")
        or used.get("project") != str(Path(project.root).resolve())
    ):
        return "it names no approval that was spent on this change"
    return None


def outcome(project: Project, record: dict[str, Any]) -> tuple[Outcome, str]:
    """Did the journal's transaction commit? (the answer, and a few words on how we know)."""
    import psycopg

    from database_use.sources.live import load_live

    try:
        with project.connect(readonly=True) as conn:
            if approvals.database_identity(conn) != record.get("database"):
                return "unknown", "the journal was written for another database"
            row = conn.execute("SELECT txid_status(%s::bigint)", (str(record["xid"]),)).fetchone()
            status = row[0] if row else None
            live = load_live(conn)
            conn.rollback()
    except DatabaseUseError as exc:
        return "unknown", f"the database could not be asked ({exc.message})"
    except (psycopg.Error, KeyError, ValueError, TypeError) as exc:
        return "unknown", f"the database could not be asked ({type(exc).__name__})"
    applied = record.get("applied") or {}
    if status == "committed":
        return "committed", "its transaction committed"
    if status == "aborted":
        return "aborted", "its transaction was rolled back"
    if status == "in progress":
        return "running", "its transaction is still open"
    # The server no longer knows the id: judge by the schema itself.
    live_hash = live.schema_hash()
    if applied.get("schema_hash_after") and live_hash == applied["schema_hash_after"]:
        return "committed", "the live schema has the state it produced"
    if live_hash == applied.get("schema_hash_before"):
        return "aborted", "the live schema is still the state before it"
    if applied.get("schema_hash_after") and not verify_expected(live, record["expected"]):
        return "committed", "the live schema has the change it made"
    return "unknown", "the live schema matches neither the state before nor after it"
