"""Person approvals: signed, content-bound, expiring, single-use records.

Used by guarded column changes (subject kind ``"change"``) and by vetted scripts run in
write mode (subject kind ``"script"``). An approval says: *this person*, through *this
channel*, allowed *this exact content* (its SHA-256) of *this subject*, planned against
*this schema* (changes), in *this project*, until *this time*, once.

Threat model: the agent (a model) can edit any file of the project and call every tool,
with any arguments. So:

- No tool argument can approve anything. Only two channels create records:
  ``"elicitation"`` (the MCP client asked the person and the person accepted) and
  ``"terminal"`` (a person ran ``schema_inspector.py approve <id>`` on an interactive
  terminal and typed the code shown; see :func:`confirm_on_terminal`).
- Records live in the project (``.roo/approvals/<kind>/<subject_id>.json``) but are signed
  with HMAC-SHA256 under a per-user key kept OUTSIDE the project
  (``$XDG_CONFIG_HOME/database-use/approval.key``, else ``~/.config/database-use/approval.key``,
  created 0600). Edited, unsigned or forged records are refused.
- "Used once" is recorded in a ledger next to the key (``.../database-use/used/<nonce>``),
  created atomically, so restoring an old copy of a record cannot replay it.
- Everything fails closed: a missing key, a key inside the project, a key readable by
  others, an unreadable record, a bad TTL... → refused (:class:`ChangeRefused`).

Limit (documented, not hidden): the scheme protects against a model that edits project
files. A process running shell commands as the same OS user can read the key itself; the
real boundary there is the OS account, as for any file-based secret.

API (both subject kinds)::

    sha = content_hash(sql_text)                      # hex SHA-256 of str/bytes
    appr = grant(project, "change", change_id, sha,   # a person said yes (face code only)
                 channel="terminal", schema_hash=h)
    appr = verify(project, "change", change_id, sha, schema_hash=h)  # raises ChangeRefused
    consume(project, appr)                            # burn it (raises if already used)
    appr = verify_and_consume(project, "script", script_id, sha)     # both at once
    approval_status(project, kind, subject_id, sha, schema_hash=h)   # dict, never raises
    revoke(project, kind, subject_id)                 # drop the record (e.g. on reject)
    ok = confirm_on_terminal(text)                    # TTY + typed random code, else False/raise

``schema_hash`` is optional (scripts pass ``None``); when the record holds one, ``verify``
must be given the same value. ``target`` (optional, e.g. ``host:port/db``) binds the approval
to one database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from database_use.errors import ChangeRefused, ConfigError, InvalidRequest

log = logging.getLogger("database_use.approvals")

SubjectKind = Literal["change", "script"]
Channel = Literal["elicitation", "terminal"]
KINDS: tuple[str, ...] = ("change", "script")
CHANNELS: tuple[str, ...] = ("elicitation", "terminal")
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 7 * 24 * 3600
TTL_ENV = "DATABASE_USE_APPROVAL_TTL"
RECORD_VERSION = 1
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read and type


@dataclass(frozen=True)
class Approval:
    """One signed approval record (all fields are covered by ``signature``)."""

    kind: str
    subject_id: str
    content_sha256: str
    schema_hash: str | None
    project: str
    target: str | None
    approved_by: str
    channel: str
    approved_at: str
    expires_at: str
    nonce: str
    version: int = RECORD_VERSION
    signature: str = ""

    def payload(self) -> bytes:
        data = asdict(self)
        data.pop("signature")
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("signature")
        data.pop("nonce")
        return data


# -- small helpers ------------------------------------------------------------------------
def content_hash(content: str | bytes) -> str:
    """Hex SHA-256 of ``content`` (str is UTF-8 encoded)."""
    raw = content.encode() if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()


def current_user() -> str:
    """The OS user running this process (from the password database, not the environment)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # pragma: no cover - non-POSIX fallback
        import getpass

        return getpass.getuser()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def ttl_seconds() -> int:
    """Approval lifetime: ``DATABASE_USE_APPROVAL_TTL`` seconds (1..7 days), default one hour."""
    raw = os.environ.get(TTL_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_TTL_SECONDS
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{TTL_ENV} must be a number of seconds, got {raw!r}") from None
    if not 1 <= value <= MAX_TTL_SECONDS:
        raise ConfigError(f"{TTL_ENV} must be between 1 and {MAX_TTL_SECONDS} seconds, got {value}")
    return value


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidRequest(
            f"unknown approval subject kind {kind!r} (expected one of {', '.join(KINDS)})"
        )


def _check_subject_id(subject_id: str) -> None:
    # Subject ids become file names: keep them boring.
    if (
        not subject_id
        or len(subject_id) > 120
        or not all(c.isalnum() or c in "-_." for c in subject_id)
        or subject_id.startswith(".")
    ):
        raise InvalidRequest(f"invalid approval subject id {subject_id!r}")


def _project_root(project: Any) -> Path:
    # A Project, or a plain path (note: Path itself has a ``.root`` attribute: "/").
    root = project if isinstance(project, str | os.PathLike) else project.root
    return Path(root).resolve()


# -- the key and the used ledger (outside the project) -------------------------------------
def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/database-use`` (absolute only), else ``~/.config/database-use``."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "database-use"


def key_path() -> Path:
    return config_dir() / "approval.key"


def _ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _load_key(project: Any, *, create: bool) -> bytes:
    path = key_path()
    root = _project_root(project)
    resolved = path.parent.resolve() if path.parent.exists() else path.parent.absolute()
    if resolved == root or root in resolved.parents:
        raise ChangeRefused(
            f"the approval key directory {path.parent} is inside the project; "
            "set XDG_CONFIG_HOME/HOME to a directory outside it"
        )
    if not path.exists():
        if not create:
            raise ChangeRefused("no approval key exists yet, so no approval can be valid")
        _ensure_private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.info("created the approval key %s", path)
    try:
        stat = path.stat()
        if stat.st_mode & 0o077:
            raise ChangeRefused(
                f"the approval key {path} is readable by others; run: chmod 600 {path}"
            )
        if hasattr(os, "getuid") and stat.st_uid != os.getuid():
            raise ChangeRefused(f"the approval key {path} belongs to another user")
        key = bytes.fromhex(path.read_text().strip())
    except ChangeRefused:
        raise
    except (OSError, ValueError):
        raise ChangeRefused(f"the approval key {path} is unreadable or malformed") from None
    if len(key) < 32:
        raise ChangeRefused(f"the approval key {path} is too short")
    return key


def _sign(key: bytes, approval: Approval) -> str:
    return hmac.new(key, approval.payload(), hashlib.sha256).hexdigest()


def _ledger_path(nonce: str) -> Path:
    return config_dir() / "used" / nonce


# -- records ----------------------------------------------------------------------------
def approvals_dir(project: Any) -> Path:
    return _project_root(project) / ".roo" / "approvals"


def record_path(project: Any, kind: str, subject_id: str) -> Path:
    _check_kind(kind)
    _check_subject_id(subject_id)
    return approvals_dir(project) / kind / f"{subject_id}.json"


def grant(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    channel: Channel,
    schema_hash: str | None = None,
    target: str | None = None,
    approved_by: str | None = None,
    ttl: int | None = None,
    now: datetime | None = None,
) -> Approval:
    """Record that a person approved ``content_sha256`` of ``subject_id`` (face code only).

    Call this ONLY after a person said yes through ``channel``; never from a tool argument.
    Replaces an earlier record of the same subject.
    """
    _check_kind(kind)
    _check_subject_id(subject_id)
    if channel not in CHANNELS:
        raise InvalidRequest(f"unknown approval channel {channel!r}")
    if len(content_sha256) != 64 or not all(c in "0123456789abcdef" for c in content_sha256):
        raise InvalidRequest("content_sha256 must be a lower-case hex SHA-256")
    key = _load_key(project, create=True)
    moment = now or _now()
    approval = Approval(
        kind=kind,
        subject_id=subject_id,
        content_sha256=content_sha256,
        schema_hash=schema_hash,
        project=str(_project_root(project)),
        target=target,
        approved_by=approved_by or current_user(),
        channel=channel,
        approved_at=_iso(moment),
        expires_at=_iso(moment + timedelta(seconds=ttl or ttl_seconds())),
        nonce=secrets.token_hex(16),
    )
    signed = Approval(**{**asdict(approval), "signature": _sign(key, approval)})
    path = record_path(project, kind, subject_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(signed), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return signed


def load(project: Any, kind: str, subject_id: str) -> Approval:
    """The signed record of ``subject_id``, signature verified (ChangeRefused otherwise)."""
    path = record_path(project, kind, subject_id)
    if not path.is_file():
        raise ChangeRefused(f"no approval recorded for {kind} {subject_id}")
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or set(raw) != {f for f in Approval.__dataclass_fields__}:
            raise ValueError("unexpected fields")
        approval = Approval(**raw)
    except (OSError, ValueError, TypeError):
        raise ChangeRefused(f"the approval record of {kind} {subject_id} is malformed") from None
    key = _load_key(project, create=False)
    if not isinstance(approval.signature, str) or not hmac.compare_digest(
        approval.signature.encode(), _sign(key, approval).encode()
    ):
        raise ChangeRefused(
            f"the approval record of {kind} {subject_id} is not validly signed "
            "(edited or forged); a person must approve again"
        )
    return approval


def verify(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    schema_hash: str | None = None,
    target: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """The valid, unused approval for exactly this content; ChangeRefused naming why not."""
    approval = load(project, kind, subject_id)
    label = f"{kind} {subject_id}"
    if (
        approval.version != RECORD_VERSION
        or approval.kind != kind
        or approval.subject_id != subject_id
    ):
        raise ChangeRefused(f"the approval record of {label} belongs to another subject")
    if approval.project != str(_project_root(project)):
        raise ChangeRefused(f"the approval of {label} was given in another project")
    if approval.channel not in CHANNELS:
        raise ChangeRefused(f"the approval of {label} came through an unknown channel")
    if not hmac.compare_digest(approval.content_sha256, content_sha256):
        raise ChangeRefused(
            f"the content of {label} changed after it was approved (SHA-256 differs); "
            "a person must approve the new content"
        )
    if (
        approval.schema_hash is not None or schema_hash is not None
    ) and approval.schema_hash != schema_hash:
        raise ChangeRefused(f"the approval of {label} was given for another schema state")
    if approval.target is not None and approval.target != target:
        raise ChangeRefused(f"the approval of {label} was given for another database")
    try:
        expires = datetime.fromisoformat(approval.expires_at)
    except ValueError:
        raise ChangeRefused(f"the approval of {label} has a malformed expiry") from None
    if (now or _now()) >= expires:
        raise ChangeRefused(
            f"the approval of {label} expired at {approval.expires_at}; approve again"
        )
    if _ledger_path(approval.nonce).exists():
        raise ChangeRefused(f"the approval of {label} was already used; approve again")
    return approval


def consume(project: Any, approval: Approval) -> None:
    """Burn ``approval`` (atomically; a second consumer gets ChangeRefused)."""
    path = _ledger_path(approval.nonce)
    _ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ChangeRefused(
            f"the approval of {approval.kind} {approval.subject_id} was already used; approve again"
        ) from None
    with os.fdopen(fd, "w") as handle:
        handle.write(
            json.dumps(
                {
                    "kind": approval.kind,
                    "subject_id": approval.subject_id,
                    "used_at": _iso(_now()),
                    "project": approval.project,
                }
            )
            + "\n"
        )


def verify_and_consume(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    schema_hash: str | None = None,
    target: str | None = None,
) -> Approval:
    """:func:`verify` then :func:`consume`: what an apply/run does right before acting."""
    approval = verify(
        project, kind, subject_id, content_sha256, schema_hash=schema_hash, target=target
    )
    consume(project, approval)
    return approval


def approval_status(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    schema_hash: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """``{"state": "none"|"valid"|"refused", "reason", "approval"}`` — for listings; never raises."""
    try:
        if not record_path(project, kind, subject_id).is_file():
            return {"state": "none", "reason": "not approved", "approval": None}
        approval = verify(
            project, kind, subject_id, content_sha256, schema_hash=schema_hash, target=target
        )
    except ChangeRefused as exc:
        return {"state": "refused", "reason": exc.message, "approval": None}
    except (InvalidRequest, ConfigError) as exc:
        return {"state": "refused", "reason": exc.message, "approval": None}
    return {"state": "valid", "reason": None, "approval": approval.to_dict()}


def revoke(project: Any, kind: SubjectKind, subject_id: str) -> bool:
    """Delete the record of ``subject_id``; True when there was one."""
    path = record_path(project, kind, subject_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# -- the terminal channel -------------------------------------------------------------------
def confirmation_code(length: int = 6) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def confirm_on_terminal(
    text: str,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    attempts: int = 1,
) -> bool:
    """Show ``text`` and a random code; True only when a person types the code back.

    Raises ChangeRefused when stdin is not an interactive terminal: a piped ``yes`` or a
    model's tool call must not be able to approve. The code defeats blind "press enter".
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        interactive = stdin.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        raise ChangeRefused(
            "approval needs a person at an interactive terminal (stdin is not a TTY); "
            "run the command yourself in a terminal"
        )
    code = confirmation_code()
    stdout.write(text.rstrip("\n") + "\n\n")
    for _ in range(max(1, attempts)):
        stdout.write(f"To approve, type the code {code} and press Enter (anything else declines): ")
        stdout.flush()
        answer = stdin.readline()
        if not answer:
            return False
        if hmac.compare_digest(answer.strip().upper().encode(), code.encode()):
            return True
    return False
