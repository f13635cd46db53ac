"""The schema_inspector and schema_compare command lines, on a real PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from database_use.cli import main as schema_inspector
from database_use.cli import schema_compare
from tests.conftest import REPO_ROOT

INSPECTOR = REPO_ROOT / "utils_db" / "schema_inspector.py"
COMPARER = REPO_ROOT / "utils_db" / "schema_compare.py"
SECRET = "Sup3rSecretPw"


def run_script(
    script: Path, *args: str, url: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a CLI as a plain script, from a folder outside the repo, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    if url is not None:
        full_env["DATABASE_URL"] = url
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=os.getcwd(),
        timeout=120,
    )


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = schema_inspector.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def env_url(example_db_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", example_db_url)
    return example_db_url


# -- the plain script, exit codes -------------------------------------------------------
def test_plain_script_introspect_text_and_json(project, example_db_url):
    text = run_script(INSPECTOR, "introspect", "--project-root", str(project), url=example_db_url)
    assert text.returncode == 0, text.stderr
    assert "public.users" in text.stdout and "schema hash" in text.stdout
    as_json = run_script(
        INSPECTOR,
        "--format",
        "json",
        "--project-root",
        str(project),
        "introspect",
        url=example_db_url,
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["table_count"] == 2 and [t["name"] for t in data["tables"]][1] == "public.users"


def test_options_before_or_after_the_command(project, env_url, capsys):
    code, out, _ = cli(capsys, "--format", "json", "--project-root", str(project), "introspect")
    assert code == 0 and json.loads(out)["table_count"] == 2
    code, out, _ = cli(capsys, "introspect", "--format", "json", "--project-root", str(project))
    assert code == 0 and json.loads(out)["table_count"] == 2


def test_introspect_table_detail_and_unknown_table(project, env_url, capsys):
    code, out, _ = cli(capsys, "--project-root", str(project), "introspect", "--table", "media")
    assert code == 0
    assert "owner_id" in out and "metadata" in out
    code, out, err = cli(capsys, "--project-root", str(project), "introspect", "--table", "usr")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "public.users" in err


def test_compare_db_models_exit_codes(project, env_url, capsys):
    code, out, _ = cli(capsys, "--project-root", str(project), "compare-db-models")
    assert code == 0, out
    assert "no differences" in out
    run_sql(env_url, "ALTER TABLE users ADD COLUMN nickname text")
    code, out, _ = cli(
        capsys, "--project-root", str(project), "--format", "json", "compare-db-models"
    )
    assert code == 1
    data = json.loads(out)
    assert data["left"] == "db" and data["right"] == "models"
    assert any(d["name"] == "nickname" for d in data["differences"])
    code, out, _ = cli(capsys, "--project-root", str(project), "compare-db-models")
    assert code == 1 and "nickname" in out


def test_generate_validate_cycle(project, env_url, capsys):
    code, out, err = cli(capsys, "--project-root", str(project), "validate")
    assert code == 1 and "generate-docs" in out
    code, out, _ = cli(capsys, "--project-root", str(project), "generate-docs")
    assert code == 0 and "wrote .roo/docs/database_schema.md" in out
    first = (project / ".roo/docs/database_schema.md").read_bytes()
    code, out, _ = cli(capsys, "--project-root", str(project), "generate-docs")
    assert code == 0 and "unchanged" in out
    assert (project / ".roo/docs/database_schema.md").read_bytes() == first
    assert cli(capsys, "--project-root", str(project), "validate")[0] == 0
    assert cli(capsys, "--project-root", str(project), "compare-models-doc")[0] == 0
    assert cli(capsys, "--project-root", str(project), "compare-db-doc")[0] == 0
    run_sql(env_url, "ALTER TABLE media ALTER COLUMN path TYPE character varying(500)")
    code, out, _ = cli(capsys, "--project-root", str(project), "--format", "json", "validate")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and any(d["name"] == "path" for d in data["differences"])
    assert cli(capsys, "--project-root", str(project), "generate-docs")[0] == 0
    assert cli(capsys, "--project-root", str(project), "validate")[0] == 0


def test_report_command_writes_files(project, env_url, capsys):
    code, out, _ = cli(capsys, "--project-root", str(project), "--format", "json", "report")
    assert code == 1  # the doc is missing: reported as an error entry, not a crash
    data = json.loads(out)
    assert (project / data["json_path"]).is_file() and (project / data["markdown_path"]).is_file()
    assert data["json_path"].startswith(".roo/reports/")
    cli(capsys, "--project-root", str(project), "generate-docs")
    code, out, _ = cli(capsys, "--project-root", str(project), "report")
    assert code == 0, out
    assert "db vs models: 0 difference(s)" in out


def test_log_change_command(project, capsys):
    code, out, _ = cli(
        capsys,
        "--project-root",
        str(project),
        "log-change",
        "--summary",
        "users: add column nickname",
        "--table",
        "public.users",
        "--details",
        "requested by Ann",
    )
    assert code == 0 and "created .roo/docs/pgdb_changes.md" in out
    assert "note: schema hash not recorded (DATABASE_URL is not set" in out
    log = (project / ".roo/docs/pgdb_changes.md").read_text()
    assert "— users: add column nickname" in log and "`public.users`" in log
    code, _, err = cli(
        capsys,
        "--project-root",
        str(project),
        "log-change",
        "--summary",
        "x",
        "--table",
        "users; drop table users",
    )
    assert code == 2 and "plausible table name" in err
    assert (project / ".roo/docs/pgdb_changes.md").read_text() == log


def test_usage_errors_exit_2(capsys):
    assert cli(capsys, "no-such-command")[0] == 2
    assert cli(capsys)[0] == 2
    assert cli(capsys, "introspect", "--limit", "many")[0] == 2
    assert cli(capsys, "log-change")[0] == 2  # --summary is required
    assert cli(capsys, "--help")[0] == 0


# -- connection errors: exit 2, one line, password never shown --------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_one_masked_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout and SECRET not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_wrong_password(project, example_db_url):
    bad = with_password(example_db_url, SECRET)
    result = run_script(INSPECTOR, "introspect", "--project-root", str(project), url=bad)
    _assert_one_masked_line(result, "authentication failed", str(urlsplit(bad).port))


def test_server_down(project):
    port = _free_port()
    url = f"postgresql://app:{SECRET}@127.0.0.1:{port}/app"
    result = run_script(INSPECTOR, "compare-db-models", "--project-root", str(project), url=url)
    _assert_one_masked_line(result, f"127.0.0.1:{port}")


def test_missing_database_url(project):
    result = run_script(INSPECTOR, "validate", "--project-root", str(project))
    _assert_one_masked_line(result, "DATABASE_URL is not set")


def test_malformed_database_url(project):
    url = f"postgresql://app:{SECRET}@db.example:notaport/app"
    result = run_script(INSPECTOR, "generate-docs", "--project-root", str(project), url=url)
    _assert_one_masked_line(result, "malformed")


def test_json_format_error_is_json(project, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{SECRET}@127.0.0.1:{_free_port()}/a")
    code, out, err = cli(capsys, "--format", "json", "--project-root", str(project), "introspect")
    assert code == 2 and "error" in json.loads(out)
    assert SECRET not in out + err


# -- schema_compare ----------------------------------------------------------------------
def test_schema_compare_db_vs_second_database(
    project, example_db_url, make_database, capsys, monkeypatch
):
    other = make_database("example")
    monkeypatch.setenv("DATABASE_URL", example_db_url)
    monkeypatch.setenv("STAGING_DATABASE_URL", other)
    code = schema_compare.main(["--project-root", str(project), "db", "url:STAGING_DATABASE_URL"])
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert "no differences" in out
    run_sql(other, "ALTER TABLE users ADD COLUMN nickname text")
    code = schema_compare.main(
        ["--project-root", str(project), "--format", "json", "db", "url:STAGING_DATABASE_URL"]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    data = json.loads(out)
    assert any(d["name"] == "nickname" for d in data["differences"])
    assert data["json_path"].startswith("temp/") and (project / data["json_path"]).is_file()
    assert (project / data["markdown_path"]).is_file()
    assert (project / "temp/schema-compare-latest.json").is_file()
    assert other.split("@")[0] not in out  # no credentials in the output


def test_schema_compare_snapshot_round_trip(project, example_db_url, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", example_db_url)
    snap = project / "temp" / "before.json"
    code = schema_compare.main(["--project-root", str(project), "db", "--save-snapshot", str(snap)])
    assert code == 0 and snap.is_file()
    capsys.readouterr()
    assert schema_compare.main(["--project-root", str(project), str(snap), "db"]) == 0
    run_sql(example_db_url, "ALTER TABLE media DROP COLUMN size_bytes")
    assert schema_compare.main(["--project-root", str(project), str(snap), "db"]) == 1
    out, _ = capsys.readouterr()
    assert "size_bytes" in out


def test_schema_compare_refuses_a_url_on_argv(project, capsys):
    code = schema_compare.main(
        ["--project-root", str(project), "db", f"url:postgresql://u:{SECRET}@h/d"]
    )
    _, err = capsys.readouterr()
    assert code == 2 and "environment variable" in err and SECRET not in err


def test_schema_compare_plain_script_missing_env(project, example_db_url):
    result = run_script(
        COMPARER, "--project-root", str(project), "db", "url:NOT_SET_ANYWHERE", url=example_db_url
    )
    _assert_one_masked_line(result, "NOT_SET_ANYWHERE")


def test_introspect_does_not_import_sqlalchemy(project, example_db_url):
    # Start-up speed: only the models source needs SQLAlchemy; introspection runs on psycopg.
    code = (
        "import sys; from database_use.cli import main as schema_inspector; "
        f"rc = schema_inspector.main(['--project-root', {str(project)!r}, 'introspect']); "
        "print('SQLA' if 'sqlalchemy' in sys.modules else 'NO-SQLA', rc)"
    )
    env = {**os.environ, "DATABASE_URL": example_db_url, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "NO-SQLA 0", result.stdout + result.stderr


def test_log_change_records_the_live_hash_so_validate_spots_unlogged_changes(
    project, env_url, capsys
):
    assert cli(capsys, "--project-root", str(project), "generate-docs")[0] == 0
    code, out, _ = cli(
        capsys,
        "--project-root",
        str(project),
        "--format",
        "json",
        "log-change",
        "--summary",
        "baseline",
    )
    data = json.loads(out)
    assert code == 0 and data["schema_hash_after"] and data["note"] is None
    code, out, _ = cli(capsys, "--project-root", str(project), "--format", "json", "validate")
    assert code == 0 and json.loads(out)["warnings"] == []
    run_sql(env_url, "ALTER TABLE users ADD COLUMN nickname text")
    cli(capsys, "--project-root", str(project), "generate-docs")
    code, out, _ = cli(capsys, "--project-root", str(project), "validate")
    assert code == 0 and "warning: live schema changed since the last logged change" in out
    cli(
        capsys,
        "--project-root",
        str(project),
        "log-change",
        "--summary",
        "users: nickname",
        "--table",
        "public.users",
    )
    code, out, _ = cli(capsys, "--project-root", str(project), "validate")
    assert code == 0 and "warning" not in out
    code, out, _ = cli(
        capsys, "--project-root", str(project), "log-change", "--summary", "x", "--no-schema-hash"
    )
    assert "Schema hash" not in out
