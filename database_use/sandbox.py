"""The OS sandbox that code the agent wrote runs in: scripts (``run_script``) and the models load.

Linux only, through bubblewrap (``bwrap``); nothing here builds namespaces by hand. Inside:

* the whole file system read-only (``--ro-bind / /``), then empty tmpfs over every home
  (``/home``, ``/root``, ``$HOME``), ``/run`` (docker, dbus and agent sockets), ``/tmp`` and
  ``/var/tmp``; the interpreter, its standard library, the venv and the tool are bound back
  read-only (they may live under a home, or inside the project as ``.venv/``);
* the project read-only, with its secrets hidden: ``.env*``, the MCP client configs (they may
  hold a URL or a token), ``.roo/approvals``, ``.roo/script_requests``, ``.roo/changes``,
  ``.roo/cache``, key files; the person's database-use config directory (the approval key)
  is hidden again after every bind, wherever it is;
* writable: only a private ``/tmp`` that disappears with the run; no capabilities (as root,
  bwrap would keep them: ``--cap-drop ALL``). Run as root, the code still has uid 0, so it
  reads root-owned files that are not hidden (``/etc/shadow``): run the tool as a normal user;
* its own PID namespace with a fresh ``/proc`` (no ``/proc/<ppid>/environ``), IPC and UTS
  namespaces, a new session (no controlling terminal, so no TIOCSTI and no way to reach the
  person's tty), every descendant killed when the run ends (``--die-with-parent``, and the
  PID namespace dies with its first process);
* the environment is exactly what the caller passes: bwrap is started with that minimal
  environment instead of ``--clearenv`` + ``--setenv``, because bwrap's argv is readable by
  every local user in ``/proc/<pid>/cmdline`` and must not carry a database URL.

Network: scripts keep the host's network namespace, because PostgreSQL is usually reached
over TCP (loopback included, which a new network namespace would cut). So a sandboxed script
can open any connection the person's user can, including other services on loopback and
abstract unix sockets. The models load needs no database and gets ``--unshare-net``.

Policy: without a working sandbox, agent code is not run (:class:`SandboxUnavailable`, one
line naming the fix), unless the person's own ``~/.config/database-use/config.toml`` says
``sandbox = "off"`` (read by :func:`_user_policy`; never ``.env``, project files or the MCP
client config, and never a file found through ``$HOME``/``$XDG_CONFIG_HOME``: see
:mod:`database_use.policy`). Then the run happens unsandboxed and says so; on Linux it still
runs under :mod:`database_use.reaper`, so every descendant (``setsid``, double forks) ends with
the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from database_use import policy
from database_use.errors import SandboxUnavailable

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
)
NOT_SANDBOXED = 'not sandboxed (T1 only): sandbox = "off" in the person\'s config'

# Directories of the tool's state inside the project, hidden from sandboxed code.
_HIDDEN_STATE_DIRS = (".roo/approvals", ".roo/script_requests", ".roo/changes", ".roo/cache")
# Files that may carry a URL, a password or a token.
_HIDDEN_FILES = (
    ".mcp.json",
    ".roo/mcp.json",
    ".cursor/mcp.json",
    ".vscode/mcp.json",
    ".pgpass",
    ".netrc",
    ".git-credentials",
    ".git/config",
)
_KEY_SUFFIXES = (".key", ".pem", ".p12", ".pfx", ".kdbx", ".jks", ".keystore")
_KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "approval.key", "credentials.json")
# Folders not searched for key files: big, and not the project's own.
_PRUNE = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox", ".nox"}
_MAX_WALK_ENTRIES = 20_000


@dataclass(frozen=True)
class SandboxStatus:
    """Whether agent code will run sandboxed, and why not when it will not."""

    available: bool  # bwrap found and working
    enabled: bool  # runs are sandboxed
    reason: str  # one line, for answers and doctor

    @property
    def label(self) -> str:
        return "sandboxed (bubblewrap)" if self.enabled else NOT_SANDBOXED


@dataclass
class Spec:
    """What one sandboxed run may see."""

    project_root: Path
    network: bool = True
    extra_ro: list[Path] = field(default_factory=list)  # e.g. a unix socket directory


# -- the person's policy -----------------------------------------------------------------------
def user_config_dirs() -> list[Path]:
    """Folders hidden from every run: the person's config dir (approval key, policy, token),
    and whatever ``XDG_CONFIG_HOME``/``HOME`` name, which the tool does not read but another
    copy of the tool might have used."""
    dirs = [policy.config_dir(), Path.home() / ".config" / "database-use"]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        dirs.append(Path(xdg) / "database-use")
    return list(dict.fromkeys(dirs))


def _user_policy(project_root: Path | None = None) -> dict[str, object]:
    """``sandbox`` from the person's ``config.toml`` (:func:`policy.config_path`, never moved by
    an environment variable); a file inside the project does not count.

    An unreadable or malformed file leaves the sandbox on (fail closed).
    """
    path = policy.config_path()
    try:
        if project_root is not None and path.resolve().is_relative_to(project_root.resolve()):
            return {"sandbox": "on"}  # a project file cannot turn the guard off
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {"sandbox": "on"}
    return {"sandbox": str(data.get("sandbox", "on")).strip().lower()}


@lru_cache(maxsize=1)
def _probe() -> tuple[bool, str]:
    """Start one trivial sandbox (about 10 ms) to learn whether bwrap works here."""
    if not sys.platform.startswith("linux"):
        return False, f"no sandbox implementation for {sys.platform} yet"
    exe = shutil.which("bwrap")
    if not exe:
        return False, "bubblewrap (bwrap) is not installed"
    try:
        proc = subprocess.run(
            [exe, "--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--", "/bin/true"],
            capture_output=True,
            timeout=10,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap did not start: {exc}"
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit code {proc.returncode}"
        return False, (
            f"bwrap cannot create namespaces here ({why[:200]}); user namespaces are probably "
            "disabled (sysctl kernel.unprivileged_userns_clone=1, or AppArmor's "
            "kernel.apparmor_restrict_unprivileged_userns=0, or run in a container that allows them)"
        )
    return True, exe


def status(project_root: Path | None = None) -> SandboxStatus:
    """The sandbox state for runs of ``project_root``: on, off by the person, or unavailable."""
    works, detail = _probe()
    if _user_policy(project_root)["sandbox"] == "off":
        return SandboxStatus(works, False, NOT_SANDBOXED)
    if not works:
        return SandboxStatus(False, False, detail)
    return SandboxStatus(True, True, "bubblewrap")


def require(project_root: Path, what: str) -> SandboxStatus:
    """The status, or :class:`SandboxUnavailable` when agent code may not run at all."""
    state = status(project_root)
    if not state.enabled and state.reason != NOT_SANDBOXED:
        raise SandboxUnavailable(
            f"{what} runs agent-written code and needs a sandbox: {state.reason}; {INSTALL_HINT} "
            'or set sandbox = "off" in ~/.config/database-use/config.toml to accept T1 only'
        )
    return state


# -- the command line ---------------------------------------------------------------------------
def _is_under(path: Path, base: Path) -> bool:
    try:
        return path.is_relative_to(base)
    except ValueError:
        return False


def _runtime_paths() -> list[Path]:
    """What the interpreter needs to start: prefixes, the tool, every sys.path directory."""
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates.append(str(Path(sys.executable).parent))
    candidates.append(str(Path(os.path.realpath(sys.executable)).parent.parent))
    candidates.append(str(Path(__file__).resolve().parents[1]))  # the tool's import root
    candidates.extend(p for p in sys.path if p and os.path.isabs(p))
    homes = {Path.home().resolve(), policy.person_home().resolve(), Path("/root"), Path("/home")}
    out: list[Path] = []
    for raw in candidates:
        path = Path(raw).resolve()
        if not path.is_dir() or path == Path("/") or any(_is_under(h, path) for h in homes):
            continue  # never bind a home (or an ancestor of one) back in whole
        out.append(path)
    return list(dict.fromkeys(out))


def _key_files(root: Path) -> list[Path]:
    found: list[Path] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _PRUNE and not d.endswith(".egg-info")]
        seen += len(files) + len(dirs)
        for name in files:
            if name.startswith(".env") or name in _KEY_NAMES or name.endswith(_KEY_SUFFIXES):
                found.append(Path(folder) / name)
        if seen > _MAX_WALK_ENTRIES:
            break
    return found


def hidden_paths(root: Path) -> tuple[list[Path], list[Path]]:
    """The project's secret (directories, files) that sandboxed code must not see."""
    dirs = [root / d for d in _HIDDEN_STATE_DIRS if (root / d).is_dir()]
    files = [root / f for f in _HIDDEN_FILES if (root / f).is_file()]
    files.extend(p for p in _key_files(root) if p not in files)
    return dirs, files


def command(argv: list[str], spec: Spec) -> list[str]:
    """``argv`` wrapped in bwrap as described in the module docstring."""
    works, exe = _probe()
    if not works:
        raise SandboxUnavailable(f"no sandbox: {exe}; {INSTALL_HINT}")
    root = spec.project_root.resolve()
    home = Path.home()
    args = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    masks = ["/tmp", "/var/tmp", "/run", "/home", "/root", str(policy.person_home()), str(home)]
    for mask in dict.fromkeys(masks):
        if os.path.isdir(mask) and not os.path.islink(mask):
            args += ["--tmpfs", mask]
    for path in [*_runtime_paths(), *spec.extra_ro]:
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    resolv = Path("/etc/resolv.conf").resolve()
    if _is_under(resolv, Path("/run")) and resolv.parent.is_dir():
        args += ["--ro-bind", str(resolv.parent), str(resolv.parent)]  # DNS for remote hosts
    args += ["--ro-bind", str(root), str(root)]
    dirs: list[Path] = []
    files: list[Path] = []
    # The tool's own root too: in development it is a checkout with its own .env and .roo/.
    for base in dict.fromkeys([root, Path(__file__).resolve().parents[1]]):
        more_dirs, more_files = hidden_paths(base)
        dirs += more_dirs
        files += more_files
    # Hidden last, so no bind above can bring them back.
    for folder in [*dirs, *(d for d in user_config_dirs() if d.is_dir())]:
        args += ["--tmpfs", str(folder), "--remount-ro", str(folder)]  # empty, and stays so
    for file in files:
        args += ["--ro-bind", "/dev/null", str(file)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not spec.network:
        args.append("--unshare-net")
    # As root (CI, containers) bwrap keeps every capability unless told: with CAP_SYS_ADMIN a
    # script could remount the project read-write. Nothing inside needs a capability.
    args += ["--cap-drop", "ALL"]
    args += ["--hostname", "sandbox", "--die-with-parent", "--new-session"]
    args += ["--chdir", str(root), "--"]
    return args + argv


def unsandboxed(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` for a run the person chose to leave unsandboxed, and whether the reaper wraps it.

    On Linux the reaper runs it (``-I``: the reaper imports only the standard library and sees
    nothing of the project); elsewhere only the run's process group can be killed.
    """
    if not sys.platform.startswith("linux"):
        return argv, False
    reaper = Path(__file__).resolve().with_name("reaper.py")
    return [sys.executable, "-I", str(reaper), "--", *argv], True


def environment(extra: dict[str, str]) -> dict[str, str]:
    """The whole environment of a sandboxed run: a neutral base plus what the run needs."""
    env = {
        "PATH": os.environ.get("PATH") or "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    for key in ("LC_ALL", "LC_CTYPE", "TZ"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update(extra)
    return env
