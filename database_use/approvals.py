"""Person approvals: signed by the approver's passphrase, content-bound, expiring, single-use.

Used by guarded column changes (subject kind ``"change"``) and by vetted scripts run in
write mode (subject kind ``"script"``). An approval record says: *this person*, on *their
terminal*, allowed *this exact content* (its SHA-256) of *this subject*, planned against
*this schema* (changes), in *this project*, on *this database* (the server's
``system_identifier`` and the database oid, read from the server, not a URL string), until
*this time* (lifetime from the person's own config, at most 24 h), once.

How the record is signed (no hand-rolled crypto: argon2-cffi and ``cryptography``):

- ``database-use approver setup`` asks the person for an approver passphrase twice on the
  terminal. A 32-byte Ed25519 seed is derived from it with argon2id (random 16-byte salt,
  RFC 9106 "low memory" costs). Only the salt, the argon2 costs and the Ed25519 **public**
  key are stored (``<config dir>/approver.json``, 0600, outside the project). The public key
  is the passphrase's verifier; the private key exists only in memory while ``approve`` runs.
- ``approve <id>`` reads the passphrase without echo from the controlling terminal
  (``/dev/tty``; never stdin, arguments or environment), derives the private key again, checks
  it against the stored public key, and signs the record. Apply-time checks need only the
  public key, so the MCP server never holds anything that can sign.
- An MCP elicitation accept writes no record at all: it applies in that same call
  (:func:`elicited` builds an in-memory approval the pipeline checks like a signed one).

What code that can read every file of the project AND the user config dir (but not the
passphrase) can and cannot do:

- it can read the salt, the costs and the public key, and so try passphrases offline;
  argon2id makes each guess cost ~64 MiB and a fraction of a second — a weak passphrase
  falls, a good one does not;
- it cannot sign a record, so it cannot forge, extend, retarget or edit one; an approval
  for database A does not verify for database B (identity checked inside the apply
  transaction); a change approval is bound to the schema hash it was planned against, which
  the apply itself changes, so replaying it after deleting the used-ledger fails;
- it can delete the ledger and replay a still-valid script approval within its lifetime if
  it also kept a copy of the record (scripts change no schema): the sandbox keeps agent code
  away from the user config dir; without it that replay is a known limit;
- with write access to the user config dir it could replace ``approver.json`` with its own
  key. Code with a shell as the same user can do that, or replace this tool's code: that is
  tier T3 (see DESIGN.md), out of scope here — only PostgreSQL privileges hold there.

API (both subject kinds)::

    sha = content_hash(sql_text)
    signer = unlock(passphrase)                       # ChangeRefused on a wrong one
    appr = grant(project, "change", change_id, sha, signer=signer,
                 schema_hash=h, target=identity)      # terminal only, after asking a person
    appr = verify(project, "change", change_id, sha, schema_hash=h, target=identity)
    consume(project, appr)                            # burn it (raises if already used)
    approval_status(project, kind, subject_id, sha, schema_hash=h, target=identity)
    appr = elicited("change", change_id, sha, schema_hash=h, target=identity)  # in memory
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from database_use import policy
from database_use.errors import ChangeRefused, ConfigError, InvalidRequest

# argon2 and cryptography are imported where a key is derived, stored or checked: loading them
# costs ~25-55 ms, and doctor (introspect's tier line, the server's start-up line) only asks
# whether the approver file exists.
if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

log = logging.getLogger("database_use.approvals")

SubjectKind = Literal["change", "script"]
Channel = Literal["elicitation", "terminal"]
KINDS: tuple[str, ...] = ("change", "script")
CHANNELS: tuple[str, ...] = ("elicitation", "terminal")
RECORD_VERSION = 2
APPROVER_VERSION = 1
MIN_PASSPHRASE_CHARS = 8
IDENTITY_SQL = (
    "SELECT (SELECT system_identifier FROM pg_control_system())::text, "
    "(SELECT oid FROM pg_database WHERE datname = current_database())::text"
)


@dataclass(frozen=True)
class Approval:
    """One approval (a signed record, or an in-memory elicitation accept)."""

    kind: str
    subject_id: str
    content_sha256: str
    schema_hash: str | None
    project: str
    target: str
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


def database_identity(conn: Any) -> str:
    """``<system_identifier>:<database oid>`` of the database ``conn`` is connected to.

    Read from the server itself, so no URL spelling (``?dbname=``, another host name for the
    same server, a service file) can make database B look like database A.
    """
    try:
        row = conn.execute(IDENTITY_SQL).fetchone()
    except Exception as exc:  # psycopg.Error, kept generic so this module needs no psycopg
        raise ChangeRefused(
            f"cannot read the database's identity (pg_control_system): {type(exc).__name__}; "
            "the role needs EXECUTE on pg_control_system()"
        ) from None
    if not row or row[0] is None or row[1] is None:
        raise ChangeRefused("cannot read the database's identity (pg_control_system)")
    return f"{row[0]}:{row[1]}"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def ttl_seconds() -> int:
    """Approval lifetime, from the person's own config only (see :mod:`database_use.policy`)."""
    return policy.load_policy().approval_ttl_seconds


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


def _check_sha(content_sha256: str) -> None:
    if len(content_sha256) != 64 or not all(c in "0123456789abcdef" for c in content_sha256):
        raise InvalidRequest("content_sha256 must be a lower-case hex SHA-256")


def _project_root(project: Any) -> Path:
    # A Project, or a plain path (note: Path itself has a ``.root`` attribute: "/").
    root = project if isinstance(project, str | os.PathLike) else project.root
    return Path(root).resolve()


# -- the approver (outside the project) ---------------------------------------------------
def config_dir() -> Path:
    return policy.config_dir()


def approver_path() -> Path:
    return config_dir() / "approver.json"


def _check_outside(project: Any) -> None:
    path = config_dir()
    root = _project_root(project)
    resolved = path.resolve() if path.exists() else path.absolute()
    if resolved == root or root in resolved.parents:
        raise ChangeRefused(
            f"the approver config directory {path} is inside the project (the OS account's "
            "home is the project or holds it); move the project out of that home"
        )


def _private_file(path: Path) -> None:
    stat = path.stat()
    if stat.st_mode & 0o077:
        raise ChangeRefused(f"{path} is readable by others; run: chmod 600 {path}")
    if hasattr(os, "getuid") and stat.st_uid != os.getuid():
        raise ChangeRefused(f"{path} belongs to another user")


def _derive(passphrase: str, salt: bytes, costs: dict[str, int]) -> Ed25519PrivateKey:
    from argon2.low_level import Type, hash_secret_raw
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=costs["time_cost"],
        memory_cost=costs["memory_cost"],
        parallelism=costs["parallelism"],
        hash_len=32,
        type=Type.ID,
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def approver_exists() -> bool:
    return approver_path().is_file()


def setup_approver(passphrase: str, *, replace_existing: bool = False) -> Path:
    """Store the verifier of a new approver passphrase (salt, argon2id costs, public key)."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidRequest(f"the passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")
    path = approver_path()
    if path.exists() and not replace_existing:
        raise ChangeRefused(f"an approver passphrase is already set ({path})")
    from argon2.profiles import RFC_9106_LOW_MEMORY

    policy.ensure_private_dir()
    costs = {
        "time_cost": RFC_9106_LOW_MEMORY.time_cost,
        "memory_cost": RFC_9106_LOW_MEMORY.memory_cost,
        "parallelism": RFC_9106_LOW_MEMORY.parallelism,
    }
    salt = secrets.token_bytes(16)
    public = _raw_public(_derive(passphrase, salt, costs).public_key())
    record = {
        "version": APPROVER_VERSION,
        "kdf": "argon2id",
        **costs,
        "salt": salt.hex(),
        "public_key": public.hex(),
        "created_at": _iso(_now()),
    }
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _approver(project: Any | None = None) -> dict[str, Any]:
    if project is not None:
        _check_outside(project)
    path = approver_path()
    if not path.is_file():
        raise ChangeRefused(
            "no approver passphrase is set up, so no approval can be valid; "
            "the person runs: database-use approver setup"
        )
    try:
        _private_file(path)
        record = json.loads(path.read_text())
        if record.get("version") != APPROVER_VERSION or record.get("kdf") != "argon2id":
            raise ValueError
        costs = {k: int(record[k]) for k in ("time_cost", "memory_cost", "parallelism")}
        salt = bytes.fromhex(record["salt"])
        public = bytes.fromhex(record["public_key"])
        if len(salt) < 16 or len(public) != 32 or costs["memory_cost"] < 8 * 1024:
            raise ValueError
    except ChangeRefused:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ChangeRefused(f"the approver file {path} is unreadable or malformed") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return {"costs": costs, "salt": salt, "public": Ed25519PublicKey.from_public_bytes(public)}


def unlock(passphrase: str, project: Any | None = None) -> Ed25519PrivateKey:
    """The signing key for ``passphrase``; ChangeRefused when it is not the approver's."""
    approver = _approver(project)
    key = _derive(passphrase, approver["salt"], approver["costs"])
    if not hmac.compare_digest(_raw_public(key.public_key()), _raw_public(approver["public"])):
        raise ChangeRefused("wrong approver passphrase; nothing was approved")
    return key


def _ledger_path(nonce: str) -> Path:
    return config_dir() / "used" / nonce


# -- records ----------------------------------------------------------------------------
def approvals_dir(project: Any) -> Path:
    return _project_root(project) / ".roo" / "approvals"


def record_path(project: Any, kind: str, subject_id: str) -> Path:
    _check_kind(kind)
    _check_subject_id(subject_id)
    return approvals_dir(project) / kind / f"{subject_id}.json"


def _new(
    project: Any,
    kind: str,
    subject_id: str,
    content_sha256: str,
    *,
    channel: str,
    schema_hash: str | None,
    target: str,
    approved_by: str | None,
    ttl: int,
    now: datetime | None,
) -> Approval:
    _check_kind(kind)
    _check_subject_id(subject_id)
    _check_sha(content_sha256)
    if not target:
        raise InvalidRequest("an approval must name the database identity it is for")
    moment = now or _now()
    return Approval(
        kind=kind,
        subject_id=subject_id,
        content_sha256=content_sha256,
        schema_hash=schema_hash,
        project=str(_project_root(project)),
        target=target,
        approved_by=approved_by or current_user(),
        channel=channel,
        approved_at=_iso(moment),
        expires_at=_iso(moment + timedelta(seconds=ttl)),
        nonce=secrets.token_hex(16),
    )


def grant(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    signer: Ed25519PrivateKey,
    target: str,
    schema_hash: str | None = None,
    approved_by: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Write a record of a person's yes on their terminal, signed with the unlocked key.

    Call this ONLY right after the person typed their passphrase (``signer`` from
    :func:`unlock`). Replaces an earlier record of the same subject.
    """
    _check_outside(project)
    approval = _new(
        project,
        kind,
        subject_id,
        content_sha256,
        channel="terminal",
        schema_hash=schema_hash,
        target=target,
        approved_by=approved_by,
        ttl=ttl_seconds(),
        now=now,
    )
    signed = replace(approval, signature=signer.sign(approval.payload()).hex())
    path = record_path(project, kind, subject_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(asdict(signed), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return signed


def elicited(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    target: str,
    schema_hash: str | None = None,
) -> Approval:
    """An in-memory approval for an accept in the MCP client's dialog (nothing is written).

    Refused unless the person's own config allows elicitation. It lives only for the call
    that asked; the apply checks it like a signed record (content, schema, database).
    """
    if not policy.load_policy().elicitation_allowed:
        raise ChangeRefused(
            "approval in the client's dialog is turned off in the person's config "
            f"({policy.config_path()}: [elicitation] allow)"
        )
    return _new(
        project,
        kind,
        subject_id,
        content_sha256,
        channel="elicitation",
        schema_hash=schema_hash,
        target=target,
        approved_by=None,
        ttl=300,
        now=None,
    )


def load(project: Any, kind: str, subject_id: str) -> Approval:
    """The signed record of ``subject_id``, signature verified (ChangeRefused otherwise)."""
    path = record_path(project, kind, subject_id)
    if not path.is_file():
        raise ChangeRefused(f"no approval recorded for {kind} {subject_id}")
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or set(raw) != set(Approval.__dataclass_fields__):
            raise ValueError("unexpected fields")
        approval = Approval(**raw)
        signature = bytes.fromhex(approval.signature)
    except (OSError, ValueError, TypeError):
        raise ChangeRefused(f"the approval record of {kind} {subject_id} is malformed") from None
    from cryptography.exceptions import InvalidSignature

    public = _approver(project)["public"]
    try:
        public.verify(signature, approval.payload())
    except InvalidSignature:
        raise ChangeRefused(
            f"the approval record of {kind} {subject_id} is not validly signed "
            "(edited or forged); a person must approve again"
        ) from None
    return approval


def check(
    approval: Approval,
    project: Any,
    kind: str,
    subject_id: str,
    content_sha256: str,
    *,
    target: str | None,
    schema_hash: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """``approval`` covers exactly this content, schema, project and database, unexpired and
    unused; ChangeRefused naming why not."""
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
    if not target or not hmac.compare_digest(approval.target, target):
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


def verify(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    target: str | None,
    schema_hash: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """The valid, unused signed approval for exactly this content; ChangeRefused naming why not."""
    approval = load(project, kind, subject_id)
    return check(
        approval,
        project,
        kind,
        subject_id,
        content_sha256,
        target=target,
        schema_hash=schema_hash,
        now=now,
    )


def consume(project: Any, approval: Approval) -> None:
    """Burn ``approval`` (atomically; a second consumer gets ChangeRefused); drop its record."""
    path = _ledger_path(approval.nonce)
    policy.ensure_private_dir()
    path.parent.mkdir(mode=0o700, exist_ok=True)
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
    if approval.channel == "terminal":
        with contextlib.suppress(OSError):
            record_path(project, approval.kind, approval.subject_id).unlink()


def used_record(nonce: str) -> dict[str, Any] | None:
    """What the used-ledger says about the approval ``nonce`` (None: never used, or no nonce).

    The apply journal names the approval it spent; this lets a leftover journal be checked
    against the ledger, which lives outside the project."""
    if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
        return None
    try:
        data = json.loads(_ledger_path(nonce).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def approval_status(
    project: Any,
    kind: SubjectKind,
    subject_id: str,
    content_sha256: str,
    *,
    target: str | None = None,
    schema_hash: str | None = None,
) -> dict[str, Any]:
    """``{"state": "none"|"valid"|"refused", "reason", "approval"}`` — for listings; never raises."""
    try:
        if not record_path(project, kind, subject_id).is_file():
            return {"state": "none", "reason": "not approved", "approval": None}
        approval = load(project, kind, subject_id)
        # target None: a listing that did not read the identity; apply always checks it.
        check(
            approval,
            project,
            kind,
            subject_id,
            content_sha256,
            schema_hash=schema_hash,
            target=approval.target if target is None else target,
        )
    except (ChangeRefused, InvalidRequest, ConfigError) as exc:
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
