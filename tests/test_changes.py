"""Real-PostgreSQL tier: propose → dry-run → approval → apply → verify → doc → log, and every refusal."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from database_use import approvals, hints, policy
from database_use.changes import (
    apply_change,
    get_change,
    list_changes,
    load_change,
    pipeline,
    prepare_approval,
    propose_column_change,
    reject_change,
)
from database_use.errors import ChangeRefused, InvalidRequest
from database_use.project import Project
from tests import person


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def columns(url: str, table: str = "users") -> dict[str, tuple]:
    rows = sql(
        url,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    )
    return {r[0]: r[1:] for r in rows}


def add_user(url: str, email: str = "a@example.com", last_login: bool = False) -> None:
    sql(
        url,
        "INSERT INTO users (email, username, pw_hashed, last_login_at) VALUES (%s, 'a', 'x', "
        + ("now()" if last_login else "NULL")
        + ")",
        (email,),
    )


def approve(proj: Project, change_id: str) -> str:
    """The person approves on their terminal: a real pty, their passphrase typed."""
    return person.approves(proj.root, change_id, proj.database_url)


def state(proj: Project) -> tuple[bytes | None, bytes | None]:
    read = lambda p: p.read_bytes() if p.exists() else None  # noqa: E731
    return read(proj.doc_path), read(proj.changes_log_path)


# -- propose ------------------------------------------------------------------------------------
def test_propose_writes_the_proposal_and_changes_nothing(
    proj: Project, example_db_url: str
) -> None:
    from database_use.sources.live import from_database

    before = from_database(proj).schema_hash()
    data = propose_column_change(proj, "users", "add", "nickname", type="varchar(40)")
    assert from_database(proj).schema_hash() == before
    assert "nickname" not in columns(example_db_url)
    stored = json.loads((proj.changes_dir / f"{data['id']}.json").read_text())
    for key in (
        "id",
        "created_at",
        "request",
        "sql",
        "sql_sha256",
        "schema_hash",
        "risk",
        "dry_run",
        "status",
    ):
        assert key in stored, key
    assert stored["status"] == "proposed" and stored["schema_hash"] == before
    assert stored["sql"] == [
        'ALTER TABLE "public"."users" ADD COLUMN "nickname" character varying(40)'
    ]
    assert stored["sql_sha256"] == approvals.content_hash(stored["sql"][0] + ";\n")
    assert stored["dry_run"]["ok"] is True
    assert data["approval"]["state"] == "none"
    assert hints.command(proj, "approve", data["id"]) in data["next_step"]
    assert list_changes(proj)["changes"][0]["status"] == "proposed"


def test_dry_run_catches_a_failing_change(proj: Project, example_db_url: str) -> None:
    add_user(example_db_url)  # last_login_at is NULL
    data = propose_column_change(proj, "users", "set_not_null", "last_login_at")
    assert data["dry_run"]["ok"] is False
    assert data["dry_run"]["sqlstate"] == "23502" and "null values" in data["dry_run"]["error"]
    assert columns(example_db_url)["last_login_at"][1] == "YES"
    with pytest.raises(ChangeRefused, match="its dry-run failed: .*null values"):
        prepare_approval(proj, data["id"])
    assert (
        approvals.approval_status(proj, "change", data["id"], data["sql_sha256"])["state"] == "none"
    )


def test_not_null_without_default_on_populated_table(proj: Project, example_db_url: str) -> None:
    add_user(example_db_url)
    data = propose_column_change(proj, "users", "add", "score", type="integer", nullable=False)
    assert "add_column_not_null_without_default" in {f["code"] for f in data["risk"]}
    assert data["dry_run"]["ok"] is False and data["table_stats"]["has_rows"] is True


def test_hostile_input_is_rejected_or_quoted(proj: Project, example_db_url: str) -> None:
    with pytest.raises(InvalidRequest):
        propose_column_change(proj, "users", "add", 'x"; DROP TABLE users; --', type="text")
    with pytest.raises(InvalidRequest):
        propose_column_change(proj, "users", "add", "x", type="text; DROP TABLE users; --")
    with pytest.raises(InvalidRequest):
        propose_column_change(proj, "users", "add", "x", type="text", default="0; DROP TABLE users")
    # A string default with quotes and a stacked statement stays one string literal.
    data = propose_column_change(
        proj, "users", "add", "motto", type="text", default="'x''; DROP TABLE users; --'"
    )
    assert data["dry_run"]["ok"] is True
    # An existing column with a hostile name (made by someone else) is quoted, never interpreted.
    sql(example_db_url, 'ALTER TABLE users ADD COLUMN "x""; DROP TABLE users; --" text')
    data = propose_column_change(proj, "users", "drop", 'x"; DROP TABLE users; --')
    approve(proj, data["id"])
    apply_change(proj, data["id"])
    cols = columns(example_db_url)
    assert 'x"; DROP TABLE users; --' not in cols and "email" in cols


# -- approve + apply ----------------------------------------------------------------------------
def test_approved_change_is_applied_verified_documented_and_logged(
    proj: Project, example_db_url: str
) -> None:
    data = propose_column_change(
        proj, "users", "add", "nickname", type="varchar(40)", comment="shown name"
    )
    with pytest.raises(ChangeRefused, match="not approved") as refused:
        apply_change(proj, data["id"])
    assert hints.command(proj, "approve", data["id"]) in str(refused.value)
    assert "nickname" not in columns(example_db_url)
    approve(proj, data["id"])
    approved = get_change(proj, data["id"])
    assert (
        approved["status"] == "approved"
        and approved["approval"]["approval"]["channel"] == "terminal"
    )
    result = apply_change(proj, data["id"])
    assert columns(example_db_url)["nickname"] == ("character varying", "YES")
    assert result["status"] == "applied" and result["verified"] is True
    applied = result["applied"]
    assert (
        applied["approved_by"] == approvals.current_user()
        and applied["approval_channel"] == "terminal"
    )
    assert applied["schema_hash_before"] == data["schema_hash"] != applied["schema_hash_after"]
    assert "nickname" in proj.doc_path.read_text()
    log = proj.changes_log_path.read_text()
    for needle in (
        data["id"],
        "nickname",
        applied["schema_hash_before"],
        applied["schema_hash_after"],
        "terminal",
        approvals.current_user(),
        'ADD COLUMN "nickname"',
    ):
        assert needle in log, needle
    from database_use import service

    assert service.last_logged_schema_hash(proj) == applied["schema_hash_after"]
    todo = result["models_todo"]
    assert todo["table"] == "public.users" and todo["column"] == "nickname"
    assert load_change(proj, data["id"])["status"] == "applied"
    # A retry runs nothing again and logs nothing again: it says it is applied.
    again = apply_change(proj, data["id"])
    assert again["ok"] is True and again["already_applied"] is True and not again["warnings"]
    assert proj.changes_log_path.read_text() == log


def test_sql_edited_after_approval_is_refused(proj: Project, example_db_url: str) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    path = proj.changes_dir / f"{data['id']}.json"
    stored = json.loads(path.read_text())
    stored["sql"] = ['ALTER TABLE "public"."users" DROP COLUMN "email"']
    path.write_text(json.dumps(stored))
    with pytest.raises(ChangeRefused, match="edited"):
        apply_change(proj, data["id"])
    # Editing the hash too does not help: the approval is bound to the approved SQL's hash.
    stored["sql_sha256"] = approvals.content_hash(stored["sql"][0] + ";\n")
    path.write_text(json.dumps(stored))
    with pytest.raises(ChangeRefused, match="changed after it was approved"):
        apply_change(proj, data["id"])
    assert "email" in columns(example_db_url)


def test_edited_proposal_cannot_be_approved(proj: Project) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    path = proj.changes_dir / f"{data['id']}.json"
    stored = json.loads(path.read_text())
    stored["sql"] = ['ALTER TABLE "public"."users" DROP COLUMN "email"']
    stored["sql_sha256"] = approvals.content_hash(stored["sql"][0] + ";\n")
    path.write_text(json.dumps(stored))
    with pytest.raises(ChangeRefused, match="edited"):
        prepare_approval(proj, data["id"])


def test_schema_changed_between_propose_and_apply_is_stale(
    proj: Project, example_db_url: str
) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    sql(example_db_url, "ALTER TABLE media ADD COLUMN sneaky integer")
    with pytest.raises(ChangeRefused, match="stale"):
        apply_change(proj, data["id"])
    assert "nickname" not in columns(example_db_url)
    assert load_change(proj, data["id"])["status"] == "stale"
    assert list_changes(proj, "stale")["count"] == 1
    with pytest.raises(ChangeRefused, match="stale"):
        apply_change(proj, data["id"])


def test_expired_approval_is_refused(proj: Project, example_db_url: str) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    person.set_up()
    policy.write_config(allow_elicitation=False, ttl_seconds=1)  # the person's own choice
    approve(proj, data["id"])
    time.sleep(1.5)
    with pytest.raises(ChangeRefused, match="expired"):
        apply_change(proj, data["id"])
    assert "nickname" not in columns(example_db_url)


def test_forged_approval_is_refused(proj: Project, example_db_url: str) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    path = approvals.record_path(proj, "change", data["id"])
    record = json.loads(path.read_text())
    record["approved_by"] = "someone-else"
    path.write_text(json.dumps(record))
    with pytest.raises(ChangeRefused, match="not validly signed"):
        apply_change(proj, data["id"])
    # A record written from scratch (no key) is refused the same way.
    record.update(approved_by=approvals.current_user(), signature="0" * 64)
    path.write_text(json.dumps(record))
    with pytest.raises(ChangeRefused, match="not validly signed"):
        apply_change(proj, data["id"])
    assert "nickname" not in columns(example_db_url)


def test_failure_inside_apply_changes_nothing_and_approval_is_used_once(
    proj: Project,
    example_db_url: str,
) -> None:
    add_user(example_db_url, last_login=True)
    data = propose_column_change(proj, "users", "set_not_null", "last_login_at")
    assert data["dry_run"]["ok"] is True
    approve(proj, data["id"])
    saved = approvals.record_path(proj, "change", data["id"]).read_text()
    from database_use import service

    service.generate_docs(proj)
    service.log_change(proj, "baseline entry")
    before = state(proj)
    add_user(example_db_url, "b@example.com", last_login=False)  # rows change, the schema does not
    with pytest.raises(ChangeRefused, match="rolled back") as failed:
        apply_change(proj, data["id"])
    assert "null values" in str(failed.value)
    assert columns(example_db_url)["last_login_at"][1] == "YES"
    assert state(proj) == before
    stored = load_change(proj, data["id"])
    assert stored["status"] == "failed" and "null values" in stored["status_reason"]
    # The model flips the status back and restores the record: the burnt approval refuses.
    stored["status"] = "approved"
    (proj.changes_dir / f"{data['id']}.json").write_text(json.dumps(stored))
    approvals.record_path(proj, "change", data["id"]).write_text(saved)
    sql(example_db_url, "UPDATE users SET last_login_at = now()")
    with pytest.raises(ChangeRefused, match="already used"):
        apply_change(proj, data["id"])
    assert columns(example_db_url)["last_login_at"][1] == "YES"


def test_failing_verification_rolls_back(proj: Project, example_db_url: str, monkeypatch) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    before = state(proj)
    monkeypatch.setattr(pipeline, "verify_expected", lambda snap, expected: ["forced mismatch"])
    with pytest.raises(ChangeRefused, match="verification failed"):
        apply_change(proj, data["id"])
    assert "nickname" not in columns(example_db_url)
    assert state(proj) == before
    assert load_change(proj, data["id"])["status"] == "failed"


def test_blocked_lock_times_out_and_changes_nothing(
    proj: Project, example_db_url: str, monkeypatch
) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    monkeypatch.setenv(pipeline.LOCK_TIMEOUT_ENV, "100")
    with psycopg.connect(example_db_url) as holder:
        holder.execute("LOCK TABLE users IN ACCESS SHARE MODE")
        with pytest.raises(ChangeRefused, match="lock") as failed:
            apply_change(proj, data["id"])
        holder.rollback()
    assert "55P03" in str(failed.value)
    assert "nickname" not in columns(example_db_url)


def test_two_applies_at_once_one_refuses(proj: Project, example_db_url: str) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    with psycopg.connect(example_db_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (pipeline.APPLY_LOCK_KEY,))
        with pytest.raises(ChangeRefused, match="another apply is running"):
            apply_change(proj, data["id"])
        assert "nickname" not in columns(example_db_url)
        other.execute("SELECT pg_advisory_unlock(%s)", (pipeline.APPLY_LOCK_KEY,))
    # The refusal did not burn the approval: once the other apply is done, this one runs.
    assert apply_change(proj, data["id"])["status"] == "applied"


def test_approval_is_bound_to_the_database(proj: Project, make_database) -> None:
    data = propose_column_change(proj, "users", "add", "nickname", type="text")
    approve(proj, data["id"])
    other = Project(root=proj.root, url_override=make_database("example"))
    with pytest.raises(ChangeRefused, match="another database"):
        apply_change(other, data["id"])


def test_reject_closes_the_change(proj: Project, example_db_url: str) -> None:
    data = propose_column_change(proj, "users", "drop", "last_login_at")
    approve(proj, data["id"])
    rejected = reject_change(proj, data["id"], "not now")
    assert rejected["status"] == "rejected"
    with pytest.raises(ChangeRefused, match="rejected"):
        apply_change(proj, data["id"])
    assert "last_login_at" in columns(example_db_url)
    assert not approvals.record_path(proj, "change", data["id"]).exists()


@pytest.mark.parametrize(
    ("action", "column", "kwargs", "check"),
    [
        ("alter_type", "username", {"type": "text"}, lambda c: c["username"][0] == "text"),
        ("rename", "last_login_at", {"new_name": "last_seen_at"}, lambda c: "last_seen_at" in c),
        ("drop_not_null", "username", {}, lambda c: c["username"][1] == "YES"),
        ("set_default", "last_login_at", {"default": "now()"}, lambda c: True),
        ("drop_default", "is_active", {}, lambda c: True),
        ("set_comment", "username", {"comment": "handle"}, lambda c: True),
        (
            "add",
            "tags",
            {"type": "text[]", "default": "'{}'::text[]"},
            lambda c: c["tags"][0] == "ARRAY",
        ),
        ("add", "kind2", {"type": "user_role", "default": "'viewer'"}, lambda c: "kind2" in c),
    ],
)
def test_every_action_applies_and_verifies(
    proj: Project, example_db_url: str, action, column, kwargs, check
) -> None:
    data = propose_column_change(proj, "users", action, column, **kwargs)
    assert data["dry_run"]["ok"], data["dry_run"]
    approve(proj, data["id"])
    result = apply_change(proj, data["id"])
    assert result["verified"] and check(columns(example_db_url))
