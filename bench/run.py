"""Speed benchmark: the schema_inspector CLI against pg_dump and alembic on synthetic schemas.

Run ``python -m bench.run [--tables 100,1000] [--repeat N] [--with-10000] [--json out.json]``
(``make bench`` runs the defaults). For every N it builds a synthetic schema of N tables in a
fresh database and the equivalent ``models/models_bench_*.py`` in a temporary project root
(``bench/synth.py``), then times whole processes — interpreter start, imports, connection,
work, exit — and reports ratios measured in the same run:

* ``introspect``, ``compare-db-models``, ``generate-docs`` and ``validate`` against
  ``pg_dump --schema-only`` of the same database;
* ``compare-db-models`` against alembic's ``compare_metadata`` on the same models
  (``bench/alembic_compare.py``);
* at 10,000 tables, each command against its own 1,000-table time.

The database is ``BENCH_DATABASE_URL``'s server when set (its role needs CREATEDB; a throwaway
database is created and dropped per N), otherwise an embedded throwaway PostgreSQL that is
always stopped. This is a report: unmet targets are marked, the exit code stays 0 unless the
benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.synth import TABLES_PER_FILE, SchemaPlan, ddl_batches, models_files, plan_schema

log = logging.getLogger("database_use.bench")

REPO_ROOT = Path(__file__).resolve().parent.parent
CLI = REPO_ROOT / "utils_db" / "schema_inspector.py"
ALEMBIC_SCRIPT = REPO_ROOT / "bench" / "alembic_compare.py"
CLI_COMMANDS = ("introspect", "compare-db-models", "generate-docs", "validate")

# (command, baseline, limit) at 1,000 tables (issue 16); the scaling target is checked
# separately.
TARGETS_1000 = {
    "introspect": ("pg_dump", 1.0),
    "generate-docs": ("pg_dump", 1.2),
    "validate": ("pg_dump", 1.2),
}
EDITED = "compare-db-models (models just edited)"
# compare-db-models against alembic's process: (N, row) -> (limit, shown as)
ALEMBIC_TARGETS = {
    (1000, "compare-db-models vs alembic"): (0.1, "≤ 0.1× alembic"),
    (10000, "compare-db-models vs alembic"): (0.1, "≤ 0.1× alembic"),
    (1000, EDITED): (1 / 3, "≤ ⅓× alembic"),
    (10000, EDITED): (1 / 4, "≤ ¼× alembic"),
}
SCALING_LIMIT = 11.0
LARGE = 5000  # from here on, --large-repeat rounds


@dataclass
class Timing:
    command: str
    n: int
    runs: list[float]
    exit_codes: list[int]
    note: str = ""  # why a run failed, when one did
    output: str = ""  # the last run's stdout (alembic's difference count)
    failed: bool = False
    rss_mb: list[float] = field(default_factory=list)  # peak RSS of each timed run

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def peak_rss_mb(self) -> float:
        return max(self.rss_mb) if self.rss_mb else float("nan")


@dataclass
class Row:
    command: str
    n: int
    median_s: float
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    runs: list[float] = field(default_factory=list)
    rss_mb: float | None = None  # the largest peak RSS over the timed runs


# -- the database --------------------------------------------------------------------------------
@dataclass
class Server:
    admin_url: str
    bindir: Path | None  # the server's own binaries when embedded
    version_num: int
    version: str


@contextmanager
def open_server() -> Iterator[Server]:
    """BENCH_DATABASE_URL's server, or an embedded one that is stopped on the way out."""
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        from database_use.settings import validate_url

        admin_url = validate_url(url, "BENCH_DATABASE_URL")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            info = (conn.info.server_version, conn.execute("SHOW server_version").fetchone()[0])
        yield Server(admin_url, None, info[0], info[1])
        return
    from database_use.dev.embedded_pg import EmbeddedPostgres

    with EmbeddedPostgres() as pg:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            info = (conn.info.server_version, conn.execute("SHOW server_version").fetchone()[0])
        yield Server(pg.url, pg.bindir, info[0], info[1])


def url_with_db(url: str, dbname: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@contextmanager
def throwaway_database(server: Server, n: int) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    name = f"dbuse_bench_{n}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_with_db(server.admin_url, name)
    finally:
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            force = sql.SQL(" WITH (FORCE)") if server.version_num >= 130000 else sql.SQL("")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force)
            )


def build_schema(url: str, plan: SchemaPlan) -> float:
    """Create ``plan`` in the database: one multi-statement script per batch, one transaction
    each. Returns the seconds it took."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for script in ddl_batches(plan):
            with conn.transaction():
                conn.execute(script)  # no parameters: sent as one simple-protocol query
    # Statistics as a live database has them. Outside a transaction block ANALYZE takes one
    # transaction per table; inside one it would lock every table at once (too many locks at
    # 10,000 tables).
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def write_project(root: Path, plan: SchemaPlan, per_file: int = TABLES_PER_FILE) -> Path:
    """A project root with ``models/models_bench_*.py`` and the usual folders."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    for sub in (".roo/docs", ".roo/reports", ".roo/changes", "temp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "models" / "__init__.py").write_text("")
    for name, source in models_files(plan, per_file).items():
        (root / "models" / name).write_text(source)
    return root


# -- pg_dump ----------------------------------------------------------------------------------------
def _pg_dump_major(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(match.group(1)) if match else None


def find_pg_dump(server: Server) -> Path:
    """pg_dump beside the server's binaries, else the newest one whose major ≥ the server's."""
    if server.bindir and (server.bindir / "pg_dump").is_file():
        return server.bindir / "pg_dump"
    from database_use.dev.embedded_pg import candidate_bindirs

    candidates = [d / "pg_dump" for d in candidate_bindirs()]
    if shutil.which("pg_dump"):
        candidates.append(Path(shutil.which("pg_dump") or ""))
    server_major = server.version_num // 10000
    usable = [
        (m, p)
        for p in candidates
        if p.is_file() and (m := _pg_dump_major(p)) is not None and m >= server_major
    ]
    if not usable:
        raise SystemExit(f"no pg_dump of version >= {server_major} found (server {server.version})")
    return max(usable)[1]


# -- timing -------------------------------------------------------------------------------------------
@dataclass
class Run:
    seconds: float
    code: int
    stdout: str
    tail: str  # the end of stderr (or stdout), for a failure note
    peak_rss_mb: float  # the largest RSS of the process or any descendant it waited for


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: the peak RSS of one process


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """One whole process, its output to files (no pipe to drain), reaped with ``os.wait4``.

    The peak RSS is that of the process and every descendant it waited for (the sandboxed
    models child included). Through GNU ``time`` when installed, whose own few MB are the
    floor; else wait4's rusage, whose floor is this benchmark's own RSS (~40 MB: the child is
    forked from it before it execs)."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(full, env=env, cwd=cwd, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", "replace")
            stderr = err.read().decode("utf-8", "replace")
        kib = usage.ru_maxrss  # KiB on Linux
        if TIME:
            with suppress(OSError, ValueError, IndexError):
                kib = int(rss_file.read_text().split()[-1])
    return Run(elapsed, proc.returncode, stdout, (stderr or stdout).strip()[-300:], kib / 1024)


@dataclass
class Job:
    name: str
    argv: list[str]
    before_each: Callable[[], object] | None = None
    ok_codes: tuple[int, ...] = (0,)
    env: dict[str, str] | None = None  # instead of the round's environment


def measure(jobs: list[Job], n: int, env: dict[str, str], cwd: Path, repeat: int) -> list[Timing]:
    """One untimed warm-up round (page cache, .pyc files), then ``repeat`` timed rounds.

    Rounds run every job once, in order, so a burst of load on the machine hits the command
    and its baseline alike and the ratios stay fair."""
    timings = [Timing(job.name, n, [], []) for job in jobs]
    for attempt in range(repeat + 1):
        for job, timing in zip(jobs, timings, strict=True):
            if job.before_each:
                job.before_each()
            run = run_once(job.argv, job.env or env, cwd)
            if attempt:
                timing.runs.append(run.seconds)
                timing.exit_codes.append(run.code)
                timing.rss_mb.append(run.peak_rss_mb)
                timing.output = run.stdout.strip()[-200:]
            if run.code not in job.ok_codes:
                timing.failed = True
                if not timing.note:
                    last = run.tail.splitlines()[-1] if run.tail else ""
                    timing.note = f"exit {run.code}: {last}"[:300]
    for timing in timings:
        log.info(
            "%-30s N=%-6d median %.3fs, peak RSS %.0f MB",
            timing.command,
            n,
            timing.median,
            timing.peak_rss_mb,
        )
    return timings


def _touch_content(path: Path, counter: int) -> None:
    with path.open("a") as handle:
        handle.write(f"# bench edit {counter}\n")


def cli_available() -> list[str]:
    """The benchmarked commands the CLI knows (it is built in parallel with this benchmark)."""
    if not CLI.is_file():
        return []
    proc = subprocess.run(
        [sys.executable, str(CLI), "--help"],
        capture_output=True,
        text=True,
        env=_child_env(None),
        cwd=REPO_ROOT,
    )
    return [c for c in CLI_COMMANDS if c in proc.stdout]


def _child_env(url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")}
    # utils_db is imported from the repository in every child (CLI, alembic script) alike.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # children run on cached bytecode, as users' do
    if url:
        env["DATABASE_URL"] = url
    return env


def correctness_check(env: dict[str, str], root: Path) -> str:
    """The engine should find the generated db and models equal: say how many differences."""
    proc = subprocess.run(
        [
            sys.executable,
            str(CLI),
            "compare-db-models",
            "--format",
            "json",
            "--project-root",
            str(root),
        ],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
    )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return f"compare-db-models --format json exited {proc.returncode}, no JSON"
    diffs = data.get("differences", []) if isinstance(data, dict) else []
    if isinstance(data, dict) and "error" in data:
        return f"compare-db-models failed: {data['error']}"[:300]
    if not diffs:
        return "0 differences (db == models)"
    sample = "; ".join(
        f"{d.get('object')} {d.get('table')}.{d.get('name')} {d.get('status')} {d.get('attribute') or ''}"
        for d in diffs[:3]
    )
    return f"{len(diffs)} differences between db and models, e.g. {sample}"


def bench_one(
    server: Server, n: int, repeat: int, pg_dump: Path, commands: list[str], workdir: Path
) -> tuple[list[Timing], dict]:
    plan = plan_schema(n)
    root = write_project(workdir / f"project_{n}", plan)
    info: dict = {"n": n, "counts": plan.counts()}
    with throwaway_database(server, n) as url:
        info["build_seconds"] = round(build_schema(url, plan), 2)
        log.info("N=%d: schema built in %.1fs %s", n, info["build_seconds"], plan.counts())
        env = _child_env(url)
        doc = root / ".roo" / "docs" / "database_schema.md"
        jobs = [
            Job(
                "pg_dump --schema-only",
                [str(pg_dump), "--schema-only", "-f", os.devnull, "-d", url],
            ),
            Job("alembic compare_metadata", [sys.executable, str(ALEMBIC_SCRIPT), str(root)]),
        ]
        for command in commands:
            jobs.append(
                Job(
                    command,
                    [sys.executable, str(CLI), command, "--project-root", str(root)]
                    # issue 16's target is for the JSON answer (what an agent reads).
                    + (["--format", "json"] if command == "introspect" else []),
                    # generate-docs is timed writing a fresh doc each time (the worst case);
                    # validate, next in the round, checks the doc generate-docs just wrote.
                    before_each=(lambda: doc.unlink(missing_ok=True))
                    if command == "generate-docs"
                    else None,
                    ok_codes=(0, 1) if command == "compare-db-models" else (0,),
                )
            )
        if "compare-db-models" in commands:
            # The same comparison right after the models file changed: any cache keyed on the
            # models' content or mtime misses, and Python recompiles the file, as after an edit.
            models_file = root / "models" / "models_bench_0000.py"
            edits = iter(range(10**9))
            jobs.append(
                Job(
                    EDITED,
                    [sys.executable, str(CLI), "compare-db-models", "--project-root", str(root)],
                    before_each=lambda: _touch_content(models_file, next(edits)),
                    ok_codes=(0, 1),
                )
            )
            # The models child alone, unsandboxed, right after the cold compare (the edited
            # file's bytecode is still stale, nothing writes it): its own time and peak RSS
            # (bwrap does not pass its child's rusage up, so the rows above miss it). No edit
            # of its own: the next round's warm compare must find the cache the cold one wrote.
            jobs.append(Job(CHILD, child_argv(root), env=_sandbox_env()))
            jobs += sandbox_jobs(root)
            info["sandbox_setup_ms"] = sandbox_setup_ms(root)
        timings = measure(jobs, n, env, root, repeat)
        if "compare-db-models" in commands:
            info["correctness"] = correctness_check(env, root)
        alembic = timings[1]
        if not alembic.failed:
            info["alembic_differences"] = alembic.output
    return timings, info


# -- the sandbox's share of a cold models load ------------------------------------------------------
BARE = "python -c pass"
SANDBOXED = "python -c pass in the models sandbox"
CHILD = "models load alone (child, unsandboxed, just edited)"


def _sandbox_env() -> dict[str, str]:
    from database_use import sandbox

    return sandbox.environment({"PYTHONDONTWRITEBYTECODE": "1"})


def child_argv(root: Path) -> list[str]:
    from database_use.sources.models import child_argv

    return child_argv(root)


def sandbox_jobs(root: Path) -> list[Job]:
    """An empty interpreter run bare and inside the sandbox a models load gets (bubblewrap,
    no network, the project read-only): the difference is what the sandbox adds per load."""
    from database_use import sandbox

    argv = [sys.executable, "-c", "pass"]
    if not sandbox.status(root).enabled:
        return []
    wrapped = sandbox.command(argv, sandbox.Spec(root, network=False))
    return [Job(BARE, argv, env=_sandbox_env()), Job(SANDBOXED, wrapped, env=_sandbox_env())]


def sandbox_setup_ms(root: Path, repeat: int = 5) -> float:
    """Milliseconds the parent spends before the sandboxed child starts: the bwrap probe
    (once per process) and building the command (the walk for secret files), median."""
    from database_use import sandbox

    argv = [sys.executable, "-c", "pass"]
    times = []
    for _ in range(repeat):
        sandbox._probe.cache_clear()
        started = time.perf_counter()
        if sandbox.require(root, "bench").enabled:
            sandbox.command(argv, sandbox.Spec(root, network=False))
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


# -- the report -------------------------------------------------------------------------------------
def build_rows(timings: list[Timing]) -> list[Row]:
    """One row per timing, plus the derived comparisons (vs alembic, 10,000 vs 1,000).

    A command that failed gets no ratio: timing an error message says nothing about speed."""
    by_key = {(t.command, t.n): t for t in timings if not t.failed}
    rows: list[Row] = []
    for t in timings:
        row = Row(
            t.command,
            t.n,
            round(t.median, 3),
            runs=[round(r, 3) for r in t.runs],
            note=t.note,
            rss_mb=round(t.peak_rss_mb) if t.rss_mb else None,
        )
        rows.append(row)
        alembic = by_key.get(("alembic compare_metadata", t.n))
        if t.command == EDITED and alembic and not t.failed:
            row.baseline, row.ratio = "alembic", round(t.median / alembic.median, 2)
            _alembic_target(row)
        bare = by_key.get((BARE, t.n))
        if t.command == SANDBOXED and bare and not t.failed:
            rows.append(
                Row(
                    "sandbox start cost (sandboxed − bare)",
                    t.n,
                    round(t.median - bare.median, 3),
                    runs=[round(a - b, 3) for a, b in zip(t.runs, bare.runs, strict=False)],
                )
            )
        if t.failed or t.command not in CLI_COMMANDS:
            continue
        dump = by_key.get(("pg_dump --schema-only", t.n))
        if dump:
            row.baseline, row.ratio = "pg_dump", round(t.median / dump.median, 2)
            target = TARGETS_1000.get(t.command)
            if target and t.n == 1000:
                row.target, row.met = f"≤ {target[1]:g}× pg_dump", row.ratio <= target[1]
        if t.command == "compare-db-models" and alembic:
            extra = Row(
                f"{t.command} vs alembic",
                t.n,
                round(t.median, 3),
                "alembic",
                round(t.median / alembic.median, 2),
                runs=row.runs,
                rss_mb=row.rss_mb,
            )
            _alembic_target(extra)
            rows.append(extra)
        small = by_key.get((t.command, 1000))
        if t.n == 10000 and small:
            scale = t.median / small.median
            rows.append(
                Row(
                    f"{t.command} scaling",
                    t.n,
                    round(t.median, 3),
                    "N=1000",
                    round(scale, 2),
                    f"≤ {SCALING_LIMIT:g}× N=1000",
                    scale <= SCALING_LIMIT,
                    runs=row.runs,
                    rss_mb=row.rss_mb,
                )
            )
    return rows


def _alembic_target(row: Row) -> None:
    target = ALEMBIC_TARGETS.get((row.n, row.command))
    if target and row.ratio is not None:
        row.target, row.met = target[1], row.ratio <= target[0]


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| command | N | median s | peak RSS MB | ratio | target | met? |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    notes: list[str] = []
    for r in rows:
        ratio = f"{r.ratio:.2f}× {r.baseline}" if r.ratio is not None else "—"
        met = "—" if r.met is None else ("yes" if r.met else "**NO**")
        label = r.command
        if r.note:
            notes.append(r.note)
            label += f" **FAILED** [{len(notes)}]"
        rss = f"{r.rss_mb:,.0f}" if r.rss_mb is not None else "—"
        lines.append(
            f"| {label} | {r.n:,} | {r.median_s:.3f} | {rss} | {ratio} | {r.target or '—'} "
            f"| {met} |"
        )
    lines += [""] + [f"[{i}] {note}" for i, note in enumerate(notes, 1)] if notes else []
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--tables", default="100,1000", help="comma-separated table counts (default: 100,1000)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--with-10000", action="store_true", help="also run N=10000")
    parser.add_argument(
        "--large-repeat",
        type=int,
        default=2,
        metavar="N",
        help="timed runs per command from 5,000 tables up (default 2: alembic "
        "alone takes minutes there)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(x) for x in args.tables.split(",") if x.strip()})
    except ValueError:
        parser.error("--tables takes comma-separated integers, e.g. 100,1000")
    if args.with_10000:
        sizes = sorted(set(sizes) | {10000})
    if not sizes or min(sizes) < 1 or args.repeat < 1 or args.large_repeat < 1:
        parser.error("table counts and --repeat must be positive")
    args.sizes = sizes
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="bench: %(message)s")
    commands = cli_available()
    if len(commands) < len(CLI_COMMANDS):
        log.warning(
            "the CLI does not offer %s yet: timing baselines only for those",
            ", ".join(c for c in CLI_COMMANDS if c not in commands),
        )
    timings: list[Timing] = []
    infos: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="database-use-bench-") as tmp, open_server() as server:
        pg_dump = find_pg_dump(server)
        env_info = {
            "server_version": server.version,
            "pg_dump": f"{pg_dump} ({_pg_dump_major(pg_dump)})",
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "database": "BENCH_DATABASE_URL"
            if os.environ.get("BENCH_DATABASE_URL")
            else "embedded",
            "repeat": args.repeat,
            "load_average_at_start": round(os.getloadavg()[0], 2),
        }
        for n in args.sizes:
            repeat = args.repeat if n < LARGE else min(args.repeat, args.large_repeat)
            t, info = bench_one(server, n, repeat, pg_dump, commands, Path(tmp))
            info["repeat"] = repeat
            timings += t
            infos.append(info)
    rows = build_rows(timings)
    env_info["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print(
        f"Benchmark ({env_info['database']} PostgreSQL {env_info['server_version']}, "
        f"Python {env_info['python']}, {env_info['machine']}, load average "
        f"{env_info['load_average_at_start']} → {env_info['load_average_at_end']}; medians of "
        "whole-process runs)\n"
    )
    print(markdown_table(rows))
    print()
    for info in infos:
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in info["counts"].items())
        print(
            f"- N={info['n']:,} (median of {info['repeat']}): {counts}; "
            f"built in {info['build_seconds']}s"
            + (f"; engine check: {info['correctness']}" if "correctness" in info else "")
            + (
                f"; sandbox set-up in the parent (bwrap probe + command) "
                f"{info['sandbox_setup_ms']} ms"
                if "sandbox_setup_ms" in info
                else ""
            )
            + (
                f"; alembic reports {info['alembic_differences']} differences"
                if "alembic_differences" in info
                else ""
            )
        )
    unmet = [r for r in rows if r.met is False]
    if unmet:
        print(
            "\nUNMET TARGETS: "
            + ", ".join(f"{r.command} at N={r.n:,} ({r.ratio}×, {r.target})" for r in unmet)
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"environment": env_info, "schemas": infos, "rows": [asdict(r) for r in rows]},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
