"""Approval records: signed, content-bound, expiring, single-use (no database needed)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from database_use import approvals
from database_use.errors import ChangeRefused, ConfigError

SHA = approvals.content_hash("ALTER TABLE t ADD COLUMN c integer;\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".roo").mkdir(parents=True)
    return path


def test_grant_then_verify_and_consume_once(root: Path) -> None:
    granted = approvals.grant(root, "change", "c1", SHA, channel="terminal", schema_hash="abc")
    assert granted.approved_by == approvals.current_user()
    key = approvals.key_path()
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    assert root not in key.parents
    ok = approvals.verify(root, "change", "c1", SHA, schema_hash="abc")
    assert ok.channel == "terminal"
    assert (
        approvals.approval_status(root, "change", "c1", SHA, schema_hash="abc")["state"] == "valid"
    )
    approvals.consume(root, ok)
    with pytest.raises(ChangeRefused, match="already used"):
        approvals.verify(root, "change", "c1", SHA, schema_hash="abc")
    with pytest.raises(ChangeRefused, match="already used"):
        approvals.consume(root, ok)


def test_restoring_an_old_copy_does_not_replay(root: Path) -> None:
    approvals.grant(root, "script", "s1", SHA, channel="elicitation")
    path = approvals.record_path(root, "script", "s1")
    saved = path.read_text()
    approvals.verify_and_consume(root, "script", "s1", SHA)
    path.write_text(saved)
    with pytest.raises(ChangeRefused, match="already used"):
        approvals.verify_and_consume(root, "script", "s1", SHA)


def test_other_content_schema_or_project_is_refused(root: Path, tmp_path: Path) -> None:
    approvals.grant(root, "change", "c1", SHA, channel="terminal", schema_hash="abc")
    with pytest.raises(ChangeRefused, match="changed after it was approved"):
        approvals.verify(
            root, "change", "c1", approvals.content_hash("DROP TABLE t;"), schema_hash="abc"
        )
    with pytest.raises(ChangeRefused, match="another schema"):
        approvals.verify(root, "change", "c1", SHA, schema_hash="def")
    other = tmp_path / "other"
    (other / ".roo" / "approvals" / "change").mkdir(parents=True)
    approvals.record_path(root, "change", "c1").replace(
        approvals.record_path(other, "change", "c1")
    )
    with pytest.raises(ChangeRefused, match="another project"):
        approvals.verify(other, "change", "c1", SHA, schema_hash="abc")


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.update(content_sha256=approvals.content_hash("DROP TABLE t;")),
        lambda r: r.update(expires_at="2999-01-01T00:00:00+00:00"),
        lambda r: r.update(channel="terminal", approved_by="root"),
        lambda r: r.update(signature=""),
        lambda r: r.pop("signature"),
    ],
)
def test_edited_or_forged_record_is_refused(root: Path, edit) -> None:
    approvals.grant(root, "change", "c1", SHA, channel="elicitation", ttl=60)
    path = approvals.record_path(root, "change", "c1")
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record))
    with pytest.raises(ChangeRefused):
        approvals.verify(root, "change", "c1", record.get("content_sha256", SHA))


def test_record_signed_with_another_key_is_refused(
    root: Path, private_home: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(private_home / "attacker"))
    approvals.grant(root, "change", "c1", SHA, channel="terminal")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(private_home / ".config"))
    approvals.grant(root, "change", "other", SHA, channel="terminal")  # the real key exists
    with pytest.raises(ChangeRefused, match="not validly signed"):
        approvals.verify(root, "change", "c1", SHA)


def test_no_key_means_no_valid_approval(root: Path) -> None:
    path = approvals.record_path(root, "change", "c1")
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    with pytest.raises(ChangeRefused):
        approvals.verify(root, "change", "c1", SHA)


def test_expired_is_refused(root: Path) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    approvals.grant(root, "change", "c1", SHA, channel="terminal", now=past)
    with pytest.raises(ChangeRefused, match="expired"):
        approvals.verify(root, "change", "c1", SHA)


def test_ttl_from_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(approvals.TTL_ENV, "1")
    granted = approvals.grant(root, "change", "c1", SHA, channel="terminal")
    later = datetime.fromisoformat(granted.approved_at) + timedelta(seconds=2)
    with pytest.raises(ChangeRefused, match="expired"):
        approvals.verify(root, "change", "c1", SHA, now=later)
    monkeypatch.setenv(approvals.TTL_ENV, "soon")
    with pytest.raises(ConfigError):
        approvals.grant(root, "change", "c1", SHA, channel="terminal")


def test_key_inside_project_or_world_readable_is_refused(root: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "cfg"))
    with pytest.raises(ChangeRefused, match="inside the project"):
        approvals.grant(root, "change", "c1", SHA, channel="terminal")


def test_world_readable_key_is_refused(root: Path) -> None:
    approvals.grant(root, "change", "c1", SHA, channel="terminal")
    os.chmod(approvals.key_path(), 0o644)
    with pytest.raises(ChangeRefused, match="readable by others"):
        approvals.verify(root, "change", "c1", SHA)


def test_hostile_subject_ids_are_rejected(root: Path) -> None:
    from database_use.errors import InvalidRequest

    for bad in ("../x", "", ".hidden", "a/b", "x" * 200):
        with pytest.raises(InvalidRequest):
            approvals.grant(root, "change", bad, SHA, channel="terminal")
    with pytest.raises(InvalidRequest):
        approvals.grant(root, "change", "ok", SHA, channel="tool-argument")  # type: ignore[arg-type]


def test_terminal_confirmation_refuses_a_pipe() -> None:
    import io

    with pytest.raises(ChangeRefused, match="interactive terminal"):
        approvals.confirm_on_terminal("approve?", stdin=io.StringIO("yes\n"), stdout=io.StringIO())
