"""Project facts from [tool.database-use], the default port, and the CLI's wrong-folder,
run-script, Broken pipe and --version behaviour, run as a person runs the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from database_use.config import ProjectConfig, is_project, load_config
from database_use.errors import ConfigError
from database_use.project import Project, open_project
from database_use.settings import with_default_port

CLI = [sys.executable, "-m", "database_use"]


def run(*args: str, cwd: Path, url: str | None = None, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kw
    )


def write_config(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n[tool.database-use]\n{body}')


def test_defaults_are_this_repos_layout(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == ProjectConfig() and config.from_file is False
    assert (config.models, config.doc, config.changelog) == (
        "models/models_*.py",
        ".roo/docs/database_schema.md",
        ".roo/docs/pgdb_changes.md",
    )
    assert (config.drafts, config.scripts, config.default_port) == ("temp", "utils_db", 5433)
    assert config.password_hash_column == "pw_hashed"


def test_configured_facts_reach_the_project(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        'doc = "docs/schema.md"\nchangelog = "docs/changes.md"\ndrafts = "scratch"\n'
        'scripts = "tools"\ndefault-port = 6543\npassword-hash-column = "password_digest"\n'
        'sensitive-columns = ["password_digest", "api_token"]\n'
        'preferred-utilities = ["tools/users.py", "tools/missing.py"]\n',
    )
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "users.py").write_text('"""Users."""\n')
    project = Project(root=tmp_path)
    assert project.doc_path == tmp_path / "docs" / "schema.md"
    assert project.docs_dir == tmp_path / "docs"
    assert project.changes_log_path == tmp_path / "docs" / "changes.md"
    assert project.temp_dir == tmp_path / "scratch"
    assert project.scripts_dir == tmp_path / "tools"
    facts = project.facts()
    assert facts["default_port"] == 6543 and facts["password_hash_column"] == "password_digest"
    assert facts["sensitive_columns"] == ["password_digest", "api_token"]
    assert facts["preferred_utilities"] == ["tools/users.py"]  # only files that exist
    assert facts["configured_in"].startswith("pyproject.toml")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("approval-ttl = 60\n", "unknown key 'approval-ttl'"),
        ('doc = "/etc/passwd"\n', "must be a path inside the project"),
        ('reports = "../elsewhere"\n', "must be a path inside the project"),
        ('default-port = "5433"\n', "default-port must be a port number"),
        ('models = "app/*.py"\n', "is not supported yet"),
        ("sensitive-columns = [1]\n", "must be a list of strings"),
        ("doc = [\n", "cannot read pyproject.toml"),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, body: str, message: str) -> None:
    write_config(tmp_path, body)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(tmp_path)
    done = run("list-scripts", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_url_without_port_uses_the_default_port(tmp_path: Path) -> None:
    assert (
        with_default_port("postgresql://u:p@db.example/app")
        == "postgresql://u:p@db.example:5433/app"
    )
    assert with_default_port("postgresql://u@h:5432/app") == "postgresql://u@h:5432/app"
    assert with_default_port("postgresql:///app?host=/run/pg") == "postgresql:///app?host=/run/pg"
    assert with_default_port("postgresql://[::1]/app", 7000) == "postgresql://[::1]:7000/app"
    # The configured port is the one used, and the message says which port that was.
    write_config(tmp_path, "default-port = 1\n")
    done = run("introspect", cwd=tmp_path, url="postgresql://u:Secr3t@127.0.0.1/app")
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1:1/app" in done.stderr
    assert "Secr3t" not in done.stderr and done.stderr.count("\n") == 1


def test_a_folder_that_is_not_a_project_is_refused(tmp_path: Path, example_db_url: str) -> None:
    plain = tmp_path / "unrelated"
    plain.mkdir()
    assert not is_project(plain)
    done = run("generate-docs", cwd=plain, url=example_db_url)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: not a database-use project: run `database-use init`"
    assert not (plain / ".roo").exists()
    missing = tmp_path / "no-such-folder"
    done = run("validate", "--project-root", str(missing), cwd=tmp_path, url=example_db_url)
    assert done.returncode == 2 and "not a database-use project" in done.stderr
    assert str(missing) in done.stderr and "DATABASE_URL" not in done.stderr
    with pytest.raises(ConfigError):
        open_project(missing, require=True)
    # Each of the three marks makes a project.
    for mark in ("models/models_a.py", ".roo/x", "pyproject.toml"):
        root = tmp_path / mark.replace("/", "_")
        (root / mark).parent.mkdir(parents=True)
        if mark == "pyproject.toml":
            (root / mark).write_text("[tool.database-use]\n")
        elif mark.endswith(".py"):
            (root / mark).write_text("")
        assert is_project(root), mark


def test_run_script_options_between_name_and_args(project: Path, example_db_url: str) -> None:
    (project / "temp" / "echo_args.py").write_text(
        '"""Print the arguments."""\nimport sys\nprint("args:", sys.argv[1:])\n'
    )
    done = run(
        "run-script",
        "echo_args",
        "--timeout",
        "30",
        "--",
        "a",
        "--flag",
        cwd=project,
        url=example_db_url,
    )
    assert done.returncode == 0, done.stderr
    assert "args: ['a', '--flag']" in done.stdout
    written = run("run-script", "echo_args", "--write", "--", "x", cwd=project, url=example_db_url)
    assert "unrecognized arguments" not in written.stderr
    assert written.returncode == 2 and "needs a person's approval" in written.stderr
    assert "database-use approve-script script-echo_args-" in written.stderr


def test_a_closed_pipe_is_quiet(project: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`head`) is gone before we write
    try:
        done = subprocess.run(
            [*CLI, "list-scripts"], cwd=project, stdout=write_end, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write_end)
    assert done.stderr == "" and done.returncode == 0


def test_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"database-use {version('database-use')}"


def test_cli_text_uses_cli_syntax(project: Path, example_db_url: str) -> None:
    done = run("introspect", "--limit", "1", cwd=project, url=example_db_url)
    assert done.returncode == 0, done.stderr
    assert "--offset 1" in done.stdout and "--table NAME" in done.stdout
    assert "offset=" not in done.stdout and "table=" not in done.stdout


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_agent_is_told_the_projects_facts(project: Path) -> None:
    import json

    from mcp import Client

    from mcp_server.server import build_server

    write_config(
        project, 'scripts = "tools"\ndefault-port = 6543\nsensitive-columns = ["api_token"]\n'
    )
    server = build_server(project, database_url="postgresql://u:p@127.0.0.1:1/x")
    async with Client(server) as client:
        instructions = client.instructions or ""
        assert "canonical scripts: tools/" in instructions
        assert "uses port 6543" in instructions and "api_token" in instructions
        result = await client.read_resource("project://facts")
        facts = json.loads(result.contents[0].text)
        assert facts["scripts"] == "tools" and facts["default_port"] == 6543
        assert facts["sensitive_columns"] == ["api_token"]


def test_hints_name_the_root_only_when_run_elsewhere(tmp_path: Path, monkeypatch) -> None:
    from database_use import hints

    root = tmp_path / "app"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "database-use").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(root / ".venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    project = Project(root=root)
    monkeypatch.chdir(root)
    assert hints.command(project, "approve", "chg-1") == ".venv/bin/database-use approve chg-1"
    monkeypatch.chdir(tmp_path)
    assert hints.command(project, "approve", "chg 1") == (
        f"{root}/.venv/bin/database-use approve 'chg 1' --project-root {root}"
    )
    assert hints.plain("generate-docs") == "database-use generate-docs"
