"""Approval records: passphrase-signed, content- and database-bound, expiring, single-use.

The record layer alone (no database). Signing here uses :func:`approvals.unlock` with the
passphrase the test set up, which is what the person's ``approve`` command does after
reading it from their terminal; the terminal itself is tested in test_approval_attacks.py.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from database_use import approvals, policy
from database_use.errors import ChangeRefused, ConfigError, InvalidRequest

SHA = approvals.content_hash("ALTER TABLE t ADD COLUMN c integer;\n")
PASSPHRASE = "a passphrase only the person knows"
DB = "7000000000000000001:16384"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".roo").mkdir(parents=True)
    return path


@pytest.fixture
def signer():
    approvals.setup_approver(PASSPHRASE)
    return approvals.unlock(PASSPHRASE)


def grant(root: Path, signer, subject: str = "c1", **kw):
    kw.setdefault("target", DB)
    return approvals.grant(root, "change", subject, SHA, signer=signer, **kw)


def test_setup_stores_only_a_verifier_outside_the_project(root: Path, signer) -> None:
    path = approvals.approver_path()
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert root not in path.parents
    text = path.read_text()
    assert PASSPHRASE not in text
    stored = json.loads(text)
    assert set(stored) == {
        "version",
        "kdf",
        "time_cost",
        "memory_cost",
        "parallelism",
        "salt",
        "public_key",
        "created_at",
    }
    assert stored["kdf"] == "argon2id" and stored["memory_cost"] >= 64 * 1024
    with pytest.raises(ChangeRefused, match="wrong approver passphrase"):
        approvals.unlock(PASSPHRASE + "!")
    with pytest.raises(ChangeRefused, match="already set"):
        approvals.setup_approver("another passphrase")
    with pytest.raises(InvalidRequest, match="at least"):
        approvals.setup_approver("short", replace_existing=True)


def test_grant_then_verify_and_consume_once(root: Path, signer) -> None:
    granted = grant(root, signer, schema_hash="abc")
    assert granted.approved_by == approvals.current_user() and granted.channel == "terminal"
    ok = approvals.verify(root, "change", "c1", SHA, schema_hash="abc", target=DB)
    status = approvals.approval_status(root, "change", "c1", SHA, schema_hash="abc", target=DB)
    assert status["state"] == "valid"
    approvals.consume(root, ok)
    assert not approvals.record_path(root, "change", "c1").exists()  # the record is dropped
    with pytest.raises(ChangeRefused, match="already used"):
        approvals.consume(root, ok)


def test_restoring_an_old_copy_does_not_replay(root: Path, signer) -> None:
    approvals.grant(root, "script", "s1", SHA, signer=signer, target=DB)
    path = approvals.record_path(root, "script", "s1")
    saved = path.read_text()
    approvals.consume(root, approvals.verify(root, "script", "s1", SHA, target=DB))
    path.write_text(saved)
    with pytest.raises(ChangeRefused, match="already used"):
        approvals.verify(root, "script", "s1", SHA, target=DB)


def test_other_content_schema_database_or_project_is_refused(
    root: Path, tmp_path: Path, signer
) -> None:
    grant(root, signer, schema_hash="abc")
    with pytest.raises(ChangeRefused, match="changed after it was approved"):
        approvals.verify(
            root,
            "change",
            "c1",
            approvals.content_hash("DROP TABLE t;"),
            schema_hash="abc",
            target=DB,
        )
    with pytest.raises(ChangeRefused, match="another schema"):
        approvals.verify(root, "change", "c1", SHA, schema_hash="def", target=DB)
    for other_db in ("7000000000000000001:16385", "7000000000000000002:16384", None, ""):
        with pytest.raises(ChangeRefused, match="another database"):
            approvals.verify(root, "change", "c1", SHA, schema_hash="abc", target=other_db)
    other = tmp_path / "other"
    (other / ".roo" / "approvals" / "change").mkdir(parents=True)
    approvals.record_path(root, "change", "c1").replace(
        approvals.record_path(other, "change", "c1")
    )
    with pytest.raises(ChangeRefused, match="another project"):
        approvals.verify(other, "change", "c1", SHA, schema_hash="abc", target=DB)


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(content_sha256=approvals.content_hash("DROP TABLE t;")),
        lambda r: r.update(expires_at="2999-01-01T00:00:00+00:00"),
        lambda r: r.update(target="7000000000000000002:16384"),
        lambda r: r.update(channel="elicitation", approved_by="root"),
        lambda r: r.update(signature=""),
        lambda r: r.update(signature="00" * 64),
        lambda r: r.pop("signature"),
    ],
)
def test_edited_or_forged_record_is_refused(root: Path, signer, edit) -> None:
    grant(root, signer)
    path = approvals.record_path(root, "change", "c1")
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record))
    with pytest.raises(ChangeRefused):
        approvals.verify(
            root, "change", "c1", record.get("content_sha256", SHA), target=record.get("target")
        )


def test_record_signed_by_another_passphrase_is_refused(root: Path, signer) -> None:
    other = approvals._derive(  # a key the agent could make: any passphrase but the person's
        "guess guess guess", os.urandom(16), {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
    )
    grant(root, other)
    with pytest.raises(ChangeRefused, match="not validly signed"):
        approvals.verify(root, "change", "c1", SHA, target=DB)


def test_no_approver_means_no_valid_approval(root: Path) -> None:
    path = approvals.record_path(root, "change", "c1")
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    with pytest.raises(ChangeRefused):
        approvals.verify(root, "change", "c1", SHA, target=DB)


def test_expired_is_refused(root: Path, signer) -> None:
    grant(root, signer, now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(ChangeRefused, match="expired"):
        approvals.verify(root, "change", "c1", SHA, target=DB)


def test_ttl_only_from_the_persons_config(root: Path, signer, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_USE_APPROVAL_TTL", str(7 * 24 * 3600))  # no longer read
    granted = grant(root, signer)
    lifetime = datetime.fromisoformat(granted.expires_at) - datetime.fromisoformat(
        granted.approved_at
    )
    assert lifetime == timedelta(seconds=policy.DEFAULT_TTL_SECONDS)
    policy.write_config(allow_elicitation=False, ttl_seconds=60)
    granted = grant(root, signer)
    later = datetime.fromisoformat(granted.approved_at) + timedelta(seconds=61)
    with pytest.raises(ChangeRefused, match="expired"):
        approvals.verify(root, "change", "c1", SHA, target=DB, now=later)
    with pytest.raises(ConfigError):
        policy.write_config(allow_elicitation=False, ttl_seconds=7 * 24 * 3600)
    policy.config_path().write_text("[approvals]\nttl_seconds = 604800\n")
    with pytest.raises(ConfigError, match="ttl_seconds"):
        grant(root, signer)


def test_home_or_xdg_pointing_into_the_project_do_not_move_the_config(
    root: Path, signer, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "cfg"))
    monkeypatch.setenv("HOME", str(root))
    assert policy.config_dir() == policy.person_home() / ".config" / "database-use"
    grant(root, signer)  # signed and stored with the person's key, not one in the project
    assert not (root / "cfg").exists() and not (root / ".config").exists()


def test_a_home_that_holds_the_project_is_refused(signer) -> None:
    # The account's home *is* the project root: the key would be project files. Refused
    # before anything is written (the home is the real one; nothing may land there).
    with pytest.raises(ChangeRefused, match="inside the project"):
        grant(policy.person_home(), signer)


def test_world_readable_approver_file_is_refused(root: Path, signer) -> None:
    grant(root, signer)
    os.chmod(approvals.approver_path(), 0o644)
    with pytest.raises(ChangeRefused, match="readable by others"):
        approvals.verify(root, "change", "c1", SHA, target=DB)


def test_hostile_subject_ids_are_rejected(root: Path, signer) -> None:
    for bad in ("../x", "", ".hidden", "a/b", "x" * 200):
        with pytest.raises(InvalidRequest):
            grant(root, signer, subject=bad)


def test_elicited_approval_needs_the_persons_config_and_writes_nothing(root: Path) -> None:
    with pytest.raises(ChangeRefused, match="turned off"):
        approvals.elicited(root, "change", "c1", SHA, target=DB)
    policy.write_config(allow_elicitation=True)
    given = approvals.elicited(root, "change", "c1", SHA, target=DB)
    assert given.channel == "elicitation" and given.signature == ""
    assert not approvals.record_path(root, "change", "c1").exists()
    with pytest.raises(ChangeRefused, match="another database"):
        approvals.check(given, root, "change", "c1", SHA, target="1:2")
