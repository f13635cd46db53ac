"""A throwaway PostgreSQL cluster for tests and the demo.

Server binaries come from ``$DATABASE_USE_PG_BINDIR`` when set, else the ``pgserver`` package where it is installed (PostgreSQL 16),
otherwise from PATH, ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``. ``initdb``
refuses to run as root, so under root the cluster is owned by and run as an unprivileged
user (``postgres`` when it exists, else ``nobody``). The server is always stopped: by the
context manager, by ``atexit``, on SIGTERM, and — should the parent die without cleaning
up — by the kernel (``PR_SET_PDEATHSIG``), so no orphan ``postgres`` outlives its owner.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger("database_use.embedded_pg")

_UNPRIVILEGED_USERS = ("postgres", "nobody")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started."""


def candidate_bindirs() -> list[Path]:
    """Directories holding initdb/postgres, best first, without duplicates."""
    found: list[Path] = []
    if os.environ.get("DATABASE_USE_PG_BINDIR"):  # explicit choice wins
        found.append(Path(os.environ["DATABASE_USE_PG_BINDIR"]))
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.origin:
        found.append(Path(spec.origin).parent / "pginstall" / "bin")
    initdb = shutil.which("initdb")
    if initdb:
        found.append(Path(initdb).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            found.append(Path(out.stdout.strip()))
    found.extend(Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
    unique: list[Path] = []
    for path in found:
        if (path / "initdb").is_file() and (path / "postgres").is_file() and path not in unique:
            unique.append(path)
    return unique


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedPostgres:
    """Start with :meth:`start` (or ``with``); :attr:`url` is a superuser URL on 127.0.0.1."""

    superuser = "postgres"

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir else None
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self.workdir: Path | None = None
        self.process: subprocess.Popen | None = None
        self.bindir: Path | None = None
        self.run_as: str | None = None
        self._previous_sigterm = None

    @property
    def url(self) -> str:
        return f"postgresql://{self.superuser}:{self.password}@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.superuser}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> str:
        bindirs = candidate_bindirs()
        if not bindirs:
            raise EmbeddedPostgresError(
                "no PostgreSQL server binaries found: install the 'pgserver' package "
                "(pip install pgserver) or PostgreSQL server binaries (initdb, postgres)"
            )
        remove_stale_clusters(Path(self.base_dir or tempfile.gettempdir()))
        self.workdir = Path(tempfile.mkdtemp(prefix="database-use-pg-", dir=self.base_dir))
        atexit.register(self.stop)
        if threading_is_main():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        errors = []
        for bindir in bindirs:
            try:
                self._init_cluster(bindir)
                break
            except EmbeddedPostgresError as exc:
                errors.append(f"{bindir}: {exc}")
        else:
            self.stop()
            raise EmbeddedPostgresError("initdb failed with every candidate: " + "; ".join(errors))
        self._launch()
        self._wait_ready(timeout)
        log.info("embedded PostgreSQL on 127.0.0.1:%s (%s)", self.port, self.bindir)
        return self.url

    def _user_kwargs(self) -> dict:
        return (
            {"user": self.run_as, "group": pwd.getpwnam(self.run_as).pw_gid} if self.run_as else {}
        )

    def _init_cluster(self, bindir: Path) -> None:
        assert self.workdir is not None
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = next(
                (u for u in _UNPRIVILEGED_USERS if _user_exists(u) and _can_run(u, bindir)), None
            )
            if self.run_as is None:
                raise EmbeddedPostgresError("no unprivileged user can run these binaries")
        data = self.workdir / "data"
        shutil.rmtree(data, ignore_errors=True)
        pwfile = self.workdir / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.workdir, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                self.superuser,
                "--pwfile",
                str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.workdir,
            **self._user_kwargs(),
        )
        pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
            raise EmbeddedPostgresError(f"initdb exited {result.returncode}: {tail[0]}")
        self.bindir = bindir

    def _launch(self) -> None:
        assert self.workdir is not None and self.bindir is not None
        self.port = _free_port()
        logfile = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.workdir / "data"),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.workdir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=64MB",
            ],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            preexec_fn=_die_with_parent,
            **self._user_kwargs(),
        )
        logfile.close()

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                log_tail = self.server_log()[-800:]
                self.stop()
                raise EmbeddedPostgresError(f"postgres exited at start-up: {log_tail}")
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedPostgresError(
                        "postgres did not accept connections in time"
                    ) from None
                time.sleep(0.1)

    def server_log(self) -> str:
        if self.workdir and (self.workdir / "server.log").exists():
            return (self.workdir / "server.log").read_text(errors="replace")
        return ""

    def stop(self) -> None:
        """Stop the server (fast shutdown, then kill) and delete the cluster. Idempotent."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=10)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._previous_sigterm is not None and threading_is_main():
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    def _on_sigterm(self, signum, frame) -> None:
        self.stop()
        sys.exit(128 + signum)


def remove_stale_clusters(parent: Path, min_age: float = 300.0) -> list[Path]:
    """Delete throwaway clusters left by owners that were killed outright (SIGKILL).

    The kernel stops such a server (parent-death signal) but nobody removes its files. A
    cluster is stale when its postmaster is not running and it is older than ``min_age``
    seconds (younger ones may be another process's initdb in progress).
    """
    removed = []
    now = time.time()
    for path in parent.glob("database-use-pg-*"):
        try:
            if not path.is_dir() or now - path.stat().st_mtime < min_age:
                continue
            pidfile = path / "data" / "postmaster.pid"
            if pidfile.exists():
                pid = int(pidfile.read_text().split()[0])
                if _pid_alive(pid):
                    continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        except (OSError, ValueError, IndexError):
            continue
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _can_run(user: str, bindir: Path) -> bool:
    try:
        entry = pwd.getpwnam(user)
        result = subprocess.run(
            [str(bindir / "initdb"), "--version"],
            capture_output=True,
            timeout=20,
            user=entry.pw_uid,
            group=entry.pw_gid,
            cwd="/",
        )
        return result.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def main() -> int:
    """Run an embedded server in the foreground until Ctrl-C (for trying things by hand)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    with EmbeddedPostgres() as server:
        print(server.url, flush=True)
        try:
            while server.process and server.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
