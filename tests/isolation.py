"""Keep the tests away from the machine's real ``~/.config/database-use``.

The person's config directory comes from the OS account's home (``pwd``), not from ``HOME`` or
``XDG_CONFIG_HOME`` (a project's MCP client config can set those for the server). So a test
cannot move it with an environment variable, and neither can the CLI and MCP server processes
the tests start. Instead the test session runs in its own mount namespace (Linux): the real
``<passwd home>/.config/database-use`` is covered by a bind mount of a private folder, and
each test binds its own ``<tmp>/home/.config/database-use`` there. Every child process starts
in the same namespace, so it sees the test's folder too, with no wrapper at its call site.

As root (CI) a mount namespace is enough; as a normal user a user namespace maps the user's
own uid and gid to themselves (so ``os.getuid()``, file ownership and PostgreSQL's "not as
root" check are unchanged). Without either the session stops with one line: a test that
wrote the real approver key or config would be worse than no test.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pwd
from pathlib import Path

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def person_config_dir() -> Path:
    """Where the tool looks for the person's config (mirrors ``database_use.policy``)."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir) / ".config" / "database-use"


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def enter_private_namespace() -> None:
    """Unshare the mount namespace (and, unprivileged, a user namespace mapping uid→uid)."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        _check(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        _check(_libc.unshare(_CLONE_NEWNS | _CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    # Private propagation: nothing mounted here reaches the machine's own namespace.
    _check(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")


def bind(source: Path, target: Path) -> None:
    source.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check(
        _libc.mount(str(source).encode(), str(target).encode(), None, _MS_BIND, None),
        f"bind {source} on {target}",
    )


def unbind(target: Path) -> None:
    _check(_libc.umount2(str(target).encode(), _MNT_DETACH), f"umount {target}")


def isolate_session(session_dir: Path) -> Path:
    """Enter the namespace and cover the real config dir with ``session_dir``; the mount point."""
    target = person_config_dir()
    # The mount point must exist; an empty 0700 folder is all this leaves on the machine.
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    enter_private_namespace()
    bind(session_dir, target)
    return target
