"""After COMMIT nothing reports failure; a journal written before COMMIT finishes a crashed apply.

Every attempt goes through a real face (the CLI in a subprocess, a real MCP client) against a
real PostgreSQL, and the faults are real: a second process holding the change log's lock, a
doc path that cannot be written, ``kill -9`` of the applying process at a real boundary (after
its COMMIT is visible in the database; while its ALTER waits for a table lock, before COMMIT).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from mcp import Client

from database_use import policy, service
from database_use.changes import journal, load_change, propose_column_change
from database_use.changes.changelog import check_chain, read_log
from database_use.project import Project
from mcp_server.server import build_server
from tests import person
from tests.mcp_helpers import Person
from tests.test_approval_attacks import columns

HOLD_LOCK = """
import fcntl, sys, time
fh = open(sys.argv[1], "a+b")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(3600)
"""


def hold_log_lock(proj: Project) -> subprocess.Popen:
    """A second process that takes the change log's lock and keeps it until killed."""
    lock = proj.changes_log_path.with_name(f".{proj.changes_log_path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.kill()
    holder.wait()


def cli(proj: Project, url: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        person.cli(*args, "--project-root", str(proj.root)),
        capture_output=True,
        text=True,
        env=person.child_env(url),
        timeout=120,
        **kwargs,
    )


def entries_of(proj: Project, change_id: str) -> int:
    parsed = read_log(proj.changes_log_path)
    return 0 if parsed is None else sum(1 for e in parsed.entries if e.proposal_id == change_id)


def chain_ok(proj: Project) -> bool:
    return check_chain(read_log(proj.changes_log_path)).ok


def approved_change(proj: Project, url: str, column: str = "nickname") -> str:
    change_id = propose_column_change(proj, "users", "add", column, type="varchar(40)")["id"]
    person.approves(proj.root, change_id, url)
    return change_id


def wait_for(predicate, what: str, limit: float = 60.0) -> None:
    """Poll until ``predicate()`` (a bounded wait for a real event, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


# -- 1. a failing step after COMMIT is a warning, exit 0, and the next apply finishes it ------
def test_unwritable_doc_after_commit_is_a_warning_and_apply_again_finishes(
    proj: Project, example_db_url: str
) -> None:
    change_id = approved_change(proj, example_db_url)
    proj.doc_path.parent.mkdir(parents=True, exist_ok=True)
    proj.doc_path.mkdir()  # the doc path is a folder: the doc cannot be written (even as root)
    done = cli(proj, example_db_url, "apply", change_id)
    assert done.returncode == 0, done.stderr
    assert "applied change" in done.stdout and "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "regenerating the doc failed" in warnings[0]
    assert f"apply {change_id}" in warnings[0]  # the command that finishes it
    assert "nickname" in columns(example_db_url)
    assert load_change(proj, change_id)["status"] == "applied"
    assert entries_of(proj, change_id) == 1  # the log step did not wait for the doc
    assert journal.pending(proj) == [change_id]  # kept: the doc is still to do

    proj.doc_path.rmdir()
    again = cli(proj, example_db_url, "--format", "json", "apply", change_id)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["ok"] is True and data["already_applied"] is True and data["warnings"] == []
    assert data["finished"] and "finished change" in data["finished"][0]
    assert "finished change" in again.stderr  # finished from the journal first
    assert "nickname" in proj.doc_path.read_text()
    assert journal.pending(proj) == []
    assert entries_of(proj, change_id) == 1 and chain_ok(proj)
    assert cli(proj, example_db_url, "validate").returncode == 0


@pytest.mark.anyio
async def test_agent_retrying_apply_over_mcp_while_the_log_is_locked(
    proj: Project, example_db_url: str
) -> None:
    """The agent sees a warning and retries apply_change: nothing runs twice, nothing is logged
    twice, and once the lock is free the next call that touches changes finishes the log."""
    policy.write_config(allow_elicitation=True)
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        proposed = await client.call_tool(
            "propose_column_change",
            {"table": "users", "action": "add", "column": "nickname", "type": "text"},
        )
        change_id = proposed.structured_content["id"]
    holder = hold_log_lock(proj)
    try:
        async with Client(server, elicitation_callback=Person()) as client:
            first = await client.call_tool("apply_change", {"change_id": change_id})
            assert not first.is_error, first.content
            data = first.structured_content
            assert data["ok"] is True and data["applied"] is True
            assert data["outcome"] == "applied" and data["status"] == "applied"
            assert len(data["warnings"]) == 1
            assert "change-log entry failed" in data["warnings"][0]
            assert "locked by another process" in data["warnings"][0]
            assert f"apply {change_id}" in data["warnings"][0]
            assert "nickname" in columns(example_db_url)
            assert "nickname" in proj.doc_path.read_text()
            assert entries_of(proj, change_id) == 0 and journal.pending(proj) == [change_id]
            # The agent retries: no second ALTER, no approval asked again, still a warning.
            retry = await client.call_tool("apply_change", {"change_id": change_id})
            assert not retry.is_error, retry.content
            again = retry.structured_content
            assert again["ok"] is True and again["already_applied"] is True
            assert again["warnings"] and "change-log entry failed" in again["warnings"][0]
    finally:
        release(holder)
    async with Client(server) as client:
        listed = await client.call_tool("list_changes", {})
        assert not listed.is_error
        rows = {r["id"]: r for r in listed.structured_content["changes"]}
        assert rows[change_id]["status"] == "applied"
        assert entries_of(proj, change_id) == 1 and journal.pending(proj) == []
        done = await client.call_tool("apply_change", {"change_id": change_id})
        assert done.structured_content["already_applied"] is True
        assert done.structured_content["warnings"] == []
        valid = await client.call_tool("validate", {})
        assert valid.structured_content["ok"] is True, valid.structured_content
    assert entries_of(proj, change_id) == 1 and chain_ok(proj)
    assert load_change(proj, change_id)["applied"]["approval_channel"] == "elicitation"


# -- 2. kill -9 after COMMIT: the next command finishes doc and log exactly once ---------------
@pytest.mark.parametrize(
    "next_command",
    [
        ("list-changes",),
        ("validate",),
        ("log-change", "--summary", "the next entry"),
        ("propose", "users", "add", "other_col", "--type", "text"),
    ],
    ids=lambda args: args[0],
)
def test_kill_9_after_commit_is_finished_by_the_next_command(
    proj: Project, example_db_url: str, next_command: tuple[str, ...]
) -> None:
    change_id = approved_change(proj, example_db_url)
    holder = hold_log_lock(proj)  # the apply will wait here, after its COMMIT
    try:
        applying = subprocess.Popen(
            person.cli("apply", change_id, "--project-root", str(proj.root)),
            env=person.child_env(example_db_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for(lambda: "nickname" in columns(example_db_url), "the apply's COMMIT")
        applying.send_signal(signal.SIGKILL)
        applying.wait()
        assert applying.returncode == -signal.SIGKILL  # killed mid-way, not finished on its own
    finally:
        release(holder)
    assert journal.pending(proj) == [change_id]
    assert entries_of(proj, change_id) == 0
    listed = cli(proj, example_db_url, *next_command)
    assert listed.returncode == 0, listed.stderr
    if next_command[0] != "propose":  # propose answers the new proposal only
        assert f"finished change {change_id}" in listed.stderr + listed.stdout
    assert entries_of(proj, change_id) == 1 and chain_ok(proj)
    if next_command[0] == "log-change":  # the finished entry went first: the log stays in order
        headings = [e.heading for e in read_log(proj.changes_log_path).entries]
        assert headings[-2].endswith("Add column public.users.nickname (varchar(40))")
        assert headings[-1].endswith("the next entry")
    assert load_change(proj, change_id)["status"] == "applied"
    assert "nickname" in proj.doc_path.read_text()
    assert journal.pending(proj) == []
    # Every later command leaves it alone: still one entry.
    for args in (("list-changes",), ("validate",), ("apply", change_id)):
        done = cli(proj, example_db_url, *args)
        assert done.returncode == 0, (args, done.stderr)
    assert entries_of(proj, change_id) == 1


def test_kill_9_before_commit_discards_the_journal(proj: Project, example_db_url: str) -> None:
    """Killed while its ALTER waits for a table lock: the journal exists, the transaction never
    committed; the next command sees that in the database and discards the journal."""
    change_id = approved_change(proj, example_db_url)
    with psycopg.connect(example_db_url) as blocker:
        blocker.execute("SELECT count(*) FROM users")  # holds ACCESS SHARE until rollback
        applying = subprocess.Popen(
            person.cli("apply", change_id, "--project-root", str(proj.root)),
            env=person.child_env(example_db_url, DATABASE_USE_LOCK_TIMEOUT_MS="600000"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def waiting_pid() -> int | None:
            with psycopg.connect(example_db_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'ALTER TABLE%'"
                ).fetchone()
            return row[0] if row else None

        wait_for(lambda: waiting_pid() is not None, "the apply's ALTER to wait for the lock")
        backend = waiting_pid()
        assert journal.pending(proj) == [change_id]  # written before the statements ran
        # While the apply is alive, another command leaves its journal alone.
        meanwhile = cli(proj, example_db_url, "list-changes")
        assert meanwhile.returncode == 0 and "not committed" not in meanwhile.stderr
        assert journal.pending(proj) == [change_id]
        applying.send_signal(signal.SIGKILL)
        applying.wait()
        assert applying.returncode == -signal.SIGKILL
        blocker.rollback()

    def gone() -> bool:
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            return not conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)
            ).fetchone()

    wait_for(gone, "the killed apply's backend to end")
    before = proj.changes_log_path.read_bytes() if proj.changes_log_path.exists() else None
    listed = cli(proj, example_db_url, "list-changes")
    assert listed.returncode == 0, listed.stderr
    assert "was not committed" in listed.stderr and "rolled back" in listed.stderr
    assert journal.pending(proj) == []
    assert "nickname" not in columns(example_db_url)
    assert load_change(proj, change_id)["status"] == "approved"
    after = proj.changes_log_path.read_bytes() if proj.changes_log_path.exists() else None
    assert after == before and entries_of(proj, change_id) == 0


# -- 3. a journal written by someone else is ignored --------------------------------------------
def test_a_journal_forged_into_the_project_is_ignored(proj: Project, example_db_url: str) -> None:
    """An agent writes a journal claiming its approved-but-unapplied change committed (with the
    id of a transaction that did commit): nothing is marked applied, nothing is logged."""
    policy.write_config(allow_elicitation=True)
    change_id = propose_column_change(proj, "users", "add", "nickname", type="text")["id"]
    with psycopg.connect(example_db_url) as conn:
        xid = conn.execute("SELECT txid_current()::text").fetchone()[0]
        conn.commit()
        identity = conn.execute(
            "SELECT (SELECT system_identifier FROM pg_control_system())::text, "
            "(SELECT oid FROM pg_database WHERE datname = current_database())::text"
        ).fetchone()
    proposal = load_change(proj, change_id)
    forged = {
        "version": journal.VERSION,
        "change_id": change_id,
        "database": f"{identity[0]}:{identity[1]}",
        "xid": xid,
        "sql_sha256": proposal["sql_sha256"],
        "nonce": "0" * 32,
        "expected": proposal["expected"],
        "applied": {
            "at": "2026-01-01T00:00:00+00:00",
            "approved_by": "alice",
            "approval_channel": "terminal",
            "schema_hash_before": proposal["schema_hash"],
            "schema_hash_after": "ab" * 8,
        },
        "log": {
            "summary": "Add column public.users.nickname (text)",
            "details": "",
            "tables": ["public.users"],
            "sql": proposal["sql_text"],
            "extra": {"proposal_id": change_id, "approved_by": "alice"},
        },
    }
    folder = journal.journal_dir(proj)
    folder.mkdir(parents=True)
    (folder / f"{change_id}.json").write_text(json.dumps(forged))
    listed = cli(proj, example_db_url, "list-changes")
    assert listed.returncode == 0 and "was ignored" in listed.stderr
    assert load_change(proj, change_id)["status"] == "proposed"
    assert not proj.changes_log_path.exists()
    assert "nickname" not in columns(example_db_url)


# -- 4. lock waits have a deadline ---------------------------------------------------------------
def test_log_change_gives_up_on_a_held_lock_and_writes_nothing(
    proj: Project, example_db_url: str
) -> None:
    service.log_change(proj, "baseline")
    before = proj.changes_log_path.read_bytes()
    holder = hold_log_lock(proj)
    try:
        done = cli(proj, example_db_url, "log-change", "--summary", "while locked")
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "locked by another process" in lines[0]
        assert "nothing was written" in lines[0]
        assert proj.changes_log_path.read_bytes() == before
    finally:
        release(holder)
    assert cli(proj, example_db_url, "log-change", "--summary", "after").returncode == 0
    assert chain_ok(proj)


@pytest.mark.anyio
async def test_mcp_log_change_with_a_held_lock_is_a_tool_error(
    proj: Project, example_db_url: str
) -> None:
    holder = hold_log_lock(proj)
    try:
        async with Client(build_server(proj.root, example_db_url)) as client:
            result = await client.call_tool("log_change", {"summary": "while locked"})
        assert result.is_error
        text = result.content[0].text
        assert "locked by another process" in text and "\n" not in text
    finally:
        release(holder)
    assert not proj.changes_log_path.exists()


def test_journal_write_failure_before_commit_applies_nothing(
    proj: Project, example_db_url: str
) -> None:
    """The journal cannot be written (its folder is a file): the apply stops before COMMIT."""
    change_id = approved_change(proj, example_db_url)
    folder = journal.journal_dir(proj)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    done = cli(proj, example_db_url, "apply", change_id)
    assert done.returncode == 2 and "journal could not be written" in done.stderr
    assert "nickname" not in columns(example_db_url)
    assert not proj.changes_log_path.exists()
    assert load_change(proj, change_id)["status"] == "failed"
