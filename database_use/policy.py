"""Security policy, from the person's own user-level config file and nowhere else.

``<home>/.config/database-use/config.toml``, where ``<home>`` is the OS account's home
directory from the password database (``pwd``), never ``$HOME`` or ``$XDG_CONFIG_HOME``::

    [approvals]
    ttl_seconds = 3600        # how long a terminal approval stays valid (1 .. 86400)

    [elicitation]
    allow = true              # may an accept in the MCP client's dialog apply a change?

    [strict]
    required = true           # the MCP server refuses a DATABASE_URL role that can change
                              # the schema (strict mode, tier T3; see database_use.strict)

This flag is a promise the person makes to themself, not the guard: an agent with a shell as
the same OS user can edit this file too. What holds against that agent is the role's own
privileges in PostgreSQL (``database-use roles setup``); the flag only makes the server say
so loudly, and refuse, when ``DATABASE_URL`` names a role that could change the schema.

(The sandbox reads its own ``sandbox`` key from the same file.) Nothing here is read from
``.env``, from project files, from the project's MCP client config or from environment
variables such as the old ``DATABASE_USE_APPROVAL_TTL``: those are all within the agent's
reach. ``.env`` supplies database URLs and nothing else.

Defaults when the file or a key is absent: one-hour approvals, and **elicitation not
allowed** (fail closed). ``database-use approver setup`` — which the person runs once on
their terminal to set the approver passphrase — writes the file and asks whether the
client's dialog may approve. Code that runs in the sandbox cannot see this file, so a
server it starts for itself never honours an elicitation.

Why not the environment: a project's MCP client config (``.mcp.json``, ``.roo/mcp.json``)
has an ``env`` block the agent can edit, and ``.env`` is loaded into the environment too; with
``HOME=<a folder the agent wrote>`` the server would read the agent's config (dialogs may
approve) and the agent's approver key. So no variable moves this folder, not even one that
points "under the home": the project itself usually sits there. The same folder holds the
approver key, the used-approval ledger and the HTTP token. A home that is the project root
(or inside it) is refused where the key is used (:mod:`database_use.approvals`). Limit: an
entry's ``command`` can start anything at all; that is the client's to guard (it asks the
person before it starts a project's server).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from database_use.errors import ConfigError

DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 24 * 3600
CONFIG_NAME = "config.toml"


@dataclass(frozen=True)
class Policy:
    """What the person decided (or the fail-closed defaults)."""

    approval_ttl_seconds: int = DEFAULT_TTL_SECONDS
    elicitation_allowed: bool = False
    strict_required: bool = False  # [strict] required: refuse a schema-changing agent role
    source: str | None = None  # the file it came from; None = defaults (no file)


def person_home() -> Path:
    """The OS account's home directory (the password database), whatever ``$HOME`` says."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - Windows has no pwd; the tool targets Linux/macOS
        return Path(os.path.expanduser("~"))
    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:  # e.g. a container run as an arbitrary uid: fail closed, never $HOME
        raise ConfigError(
            f"user id {os.getuid()} has no entry in the password database (getent passwd "
            f"{os.getuid()}); database-use finds your config through it"
        ) from None


def config_dir() -> Path:
    """``<passwd home>/.config/database-use``: no environment variable moves it."""
    return person_home() / ".config" / "database-use"


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


def ensure_private_dir() -> Path:
    """The config dir, created 0700 when missing."""
    path = config_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def load_policy() -> Policy:
    """The person's policy; a malformed file is a ConfigError (never silently the default)."""
    path = config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Policy()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    approvals = _table(data, "approvals", path)
    elicitation = _table(data, "elicitation", path)
    ttl = approvals.get("ttl_seconds", DEFAULT_TTL_SECONDS)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ConfigError(
            f"{path}: [approvals] ttl_seconds must be a whole number from 1 to {MAX_TTL_SECONDS}"
        )
    allow = elicitation.get("allow", False)
    if not isinstance(allow, bool):
        raise ConfigError(f"{path}: [elicitation] allow must be true or false")
    required = _table(data, "strict", path).get("required", False)
    if not isinstance(required, bool):
        raise ConfigError(f"{path}: [strict] required must be true or false")
    return Policy(
        approval_ttl_seconds=ttl,
        elicitation_allowed=allow,
        strict_required=required,
        source=str(path),
    )


def _table(data: dict, name: str, path: Path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def write_config(*, allow_elicitation: bool, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> Path:
    """Write the ``[approvals]``/``[elicitation]`` keys (keeping other lines, e.g. ``sandbox``)."""
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ConfigError(f"ttl_seconds must be from 1 to {MAX_TTL_SECONDS}")
    ensure_private_dir()
    path = config_path()
    kept: list[str] = []
    if path.is_file():
        skipping = False
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                skipping = stripped in ("[approvals]", "[elicitation]")
            if not skipping:
                kept.append(line)
    body = "\n".join(kept).rstrip("\n")
    body += (
        ("\n\n" if body else "")
        + f"[approvals]\nttl_seconds = {int(ttl_seconds)}\n\n"
        + f"[elicitation]\nallow = {'true' if allow_elicitation else 'false'}\n"
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.replace(tmp, path)
    return path
