"""Secrets never leave through an answer, an error, a log line or a written file.

Attacks through the real faces: the CLI as a subprocess, the MCP server over stdio and over
HTTP as separate processes, scripts run in the sandbox. Passwords hold the characters that
break URLs (``@``, space, ``:``, ``/``, ``#``, ``%``), written raw (a malformed URL) and
percent-encoded, against the real server with a wrong password, with the database down and on
a good connection that then fails. Every output stream and every file the tool wrote is
searched for the password, its encoded forms and the pieces a parser cuts it into.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from argon2 import PasswordHasher
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from psycopg import sql

from database_use import redact
from database_use.changes import pipeline
from database_use.errors import ConfigError
from database_use.scripts import service as svc
from database_use.settings import mask_url, validate_url
from tests.conftest import REPO_ROOT
from tests.test_mcp_server import text_of
from tests.test_mcp_transports import _free_port, _wait_listening

SEPARATORS = {"at": "@", "space": " ", "colon": ":", "slash": "/", "hash": "#", "percent": "%zz"}


def secret_password(sep: str) -> tuple[str, list[str]]:
    """A password with ``sep`` inside, and every piece of it that must never be printed."""
    head, tail = f"Hd{uuid.uuid4().hex[:10]}", f"Tl{uuid.uuid4().hex[:10]}"
    password = f"{head}{sep}{tail}"
    return password, [password, quote(password, safe=""), head, tail]


def leaks(text: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in text]


def written_files(root: Path) -> str:
    """Everything the tool wrote into the project (reports, proposals, doc, log, requests)."""
    parts = []
    for path in sorted((root / ".roo").rglob("*")):
        if path.is_file():
            parts.append(f"--- {path}\n{path.read_text(errors='replace')}")
    return "\n".join(parts)


@pytest.fixture
def make_role(pg_server):
    """``make_role(password)``: a login role with that password, owner of the test's tables."""
    made: list[str] = []

    def make(password: str) -> str:
        name = f"dbuse_secret_{uuid.uuid4().hex[:8]}"
        pg_server.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        made.append(name)
        return name

    yield make
    for name in made:
        pg_server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def target(example_db_url: str) -> dict[str, str]:
    info = psycopg.conninfo.conninfo_to_dict(example_db_url)
    return {"host": info["host"], "port": str(info["port"]), "dbname": info["dbname"]}


def url_for(role: str, password: str, target: dict[str, str], *, encode: bool, port=None) -> str:
    pw = quote(password, safe="") if encode else password
    return f"postgresql://{role}:{pw}@{target['host']}:{port or target['port']}/{target['dbname']}"


@pytest.fixture
def hashed_user(example_db_url: str) -> str:
    """A user row whose pw_hashed holds a real argon2id hash; the hash is returned."""
    value = PasswordHasher().hash("correct horse battery staple")
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, username, pw_hashed) VALUES (%s, %s, %s)",
            ("alice@example.com", "alice", value),
        )
    return value


def cli_env(private_home: Path, url: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(private_home),
        "XDG_CONFIG_HOME": str(private_home / ".config"),
        "DATABASE_URL": url,
        "PYTHONPATH": str(REPO_ROOT),
    }


def cli(env: dict[str, str], project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "database_use.cli.main", *args, "--project-root", str(project)],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# -- the CLI -----------------------------------------------------------------------------------
CASES = [
    # (separator, raw in the URL?, what the server does)
    ("at", True, "good"),
    ("at", True, "down"),
    ("space", True, "good"),
    ("slash", True, "good"),
    ("hash", True, "good"),
    ("percent", True, "good"),
    ("colon", True, "wrong password"),
    ("colon", True, "good"),
    ("at", False, "wrong password"),
    ("space", False, "down"),
    ("hash", False, "good"),
    ("percent", False, "good"),
]


@pytest.mark.parametrize(
    ("sep", "raw", "server"), CASES, ids=[f"{a}-{'raw' if b else 'enc'}-{c}" for a, b, c in CASES]
)
def test_cli_never_prints_nor_writes_the_password(
    project, make_role, target, hashed_user, private_home, sep, raw, server
):
    password, needles = secret_password(SEPARATORS[sep])
    role = make_role(password if server != "wrong password" else password + "-other")
    port = _free_port() if server == "down" else None
    url = url_for(role, password, target, encode=not raw, port=port)
    env = cli_env(private_home, url)
    runs = [
        cli(env, project, "introspect", "--verbose"),
        cli(env, project, "report"),
        cli(env, project, "propose", "users", "alter_type", "pw_hashed", "--type", "integer"),
        cli(env, project, "introspect", "--format", "json"),
    ]
    seen = "\n".join(r.stdout + r.stderr for r in runs) + written_files(project)
    assert leaks(seen, needles + [hashed_user]) == [], seen
    assert "Traceback" not in seen
    usable = server == "good" and (not raw or sep == "colon")
    if usable:
        assert runs[0].returncode == 0, runs[0].stderr
        # The dry run failed on the argon2 value: the proposal file says why, without it.
        (saved,) = (project / ".roo" / "changes").glob("*.json")
        dry = json.loads(saved.read_text())["dry_run"]
        assert (
            dry["sqlstate"] == "22P02" and "invalid input syntax for type integer" in dry["error"]
        )
        return
    assert runs[0].returncode == 2
    (message,) = runs[0].stderr.strip().splitlines()  # one line, naming the cause
    assert message.startswith("error: ")
    if raw and sep != "colon":  # the one-line fix names the encoding
        assert "percent-encode" in message, message
    elif server == "wrong password":
        assert "authentication failed" in message, message
    else:
        assert "connection refused" in message, message


# -- the MCP server over stdio -----------------------------------------------------------------
DUMP_SCRIPT = """
import os, sys
print('ENV', dict(os.environ))
print('URL', os.environ.get('DATABASE_URL'))
from urllib.parse import urlsplit, unquote
parts = urlsplit(os.environ['DATABASE_URL'])
print('PW', parts.password, unquote(parts.password or ''))
sys.stderr.write('STDERR ' + os.environ['DATABASE_URL'] + chr(10))
print('HASH', '$argon2' + 'id$v=19$m=65536,t=3,p=4$' + 'c2FsdHNhbHQ$aGFzaGhhc2g')
"""
PRINTED_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"


async def _session(client) -> list:
    calls = [
        ("introspect", {"verbose": True}),
        ("report", {}),
        (
            "propose_column_change",
            {"table": "users", "action": "alter_type", "column": "pw_hashed", "type": "integer"},
        ),
        ("draft_script", {"name": "dump_env", "content": DUMP_SCRIPT}),
        ("run_script", {"name": "temp/dump_env"}),
    ]
    results = []
    for name, args in calls:
        results.append((name, await client.call_tool(name, args)))
    return results


def _answers(results) -> str:
    return "\n".join(text_of(r) + json.dumps(r.structured_content or {}) for _, r in results)


def _mcp_env(private_home: Path, url: str) -> dict[str, str]:
    return {**cli_env(private_home, url), "PYTHONPATH": str(REPO_ROOT)}


@pytest.mark.anyio
@pytest.mark.parametrize("raw", [True, False], ids=["malformed", "encoded"])
async def test_mcp_stdio_answers_and_log_never_hold_the_password(
    project, make_role, target, hashed_user, private_home, tmp_path, raw
):
    password, needles = secret_password("@ /#")
    role = make_role(password)
    url = url_for(role, password, target, encode=not raw)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--project-root", str(project), "--log-level", "DEBUG"],
        env=_mcp_env(private_home, url),
        cwd=str(project),
    )
    with open(tmp_path / "stderr.log", "w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            results = await _session(client)
        errlog.seek(0)
        log = errlog.read()
    answers = _answers(results)
    everything = answers + log + written_files(project)
    assert leaks(everything, needles + [hashed_user, PRINTED_HASH]) == [], everything
    assert "database-use MCP server on stdio" in log
    by_name = dict(results)
    if raw:  # unusable: every database tool says how to fix the URL, none leaks it
        assert by_name["introspect"].is_error
        assert "percent-encode" in text_of(by_name["introspect"])
    else:
        assert not by_name["introspect"].is_error, text_of(by_name["introspect"])
        proposal = by_name["propose_column_change"].structured_content
        assert proposal["dry_run"]["ok"] is False and proposal["dry_run"]["sqlstate"] == "22P02"
        assert "invalid input syntax for type integer" in proposal["dry_run"]["error"]
        run = by_name["run_script"].structured_content
        assert run["ok"] is True, run
        assert "ENV" in run["stdout"] and "STDERR postgresql://" in run["stderr"]
        assert "HASH $argon2id$***" in run["stdout"]


# -- the MCP server over HTTP ------------------------------------------------------------------
@pytest.mark.anyio
async def test_mcp_http_answers_and_log_never_hold_the_password(
    project, make_role, target, hashed_user, private_home, tmp_path
):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from database_use import policy

    password, needles = secret_password(":@ %")
    role = make_role(password)
    url = url_for(role, password, target, encode=False)  # a raw '@': the URL cannot work
    good = url_for(role, password, target, encode=True)
    port = _free_port()
    (project / ".env").write_text(f"DATABASE_URL={url}\n")
    env = _mcp_env(private_home, good)
    env.pop("DATABASE_URL")
    results = []
    with open(tmp_path / "stdout.log", "w+") as out, open(tmp_path / "stderr.log", "w+") as err:
        args = ["--transport", "streamable-http", "--port", str(port), "--log-level", "DEBUG"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--project-root", str(project), *args],
            env=env,
            cwd=project,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_listening(proc, port)
            token = (policy.config_dir() / "http-token").read_text().strip()
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)
            async with Client(transport) as client:
                results = await _session(client)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        out.seek(0)
        err.seek(0)
        log = out.read() + err.read()
    everything = _answers(results) + log + written_files(project)
    assert leaks(everything, needles + [hashed_user, PRINTED_HASH]) == [], everything
    introspect = dict(results)["introspect"]
    assert introspect.is_error and "percent-encode" in text_of(introspect)
    assert "Bearer" in log  # the log is there, and it was searched


# -- the dry-run error, and PostgreSQL errors in general ----------------------------------------
def test_dry_run_error_keeps_the_class_and_names_and_drops_the_argon2_value(proj, hashed_user):
    from database_use import changes

    proposal = changes.propose_column_change(
        proj, "users", "alter_type", "pw_hashed", type="integer"
    )
    dry = proposal["dry_run"]
    assert dry["ok"] is False and dry["sqlstate"] == "22P02", dry
    assert dry["error"].startswith('invalid input syntax for type integer: "***"'), dry
    assert "row values are not shown" in dry["error"]
    saved = (proj.changes_dir / f"{proposal['id']}.json").read_text()
    assert hashed_user not in saved and hashed_user not in json.dumps(proposal)
    assert "argon2" not in dry["error"]


def _error_of(url: str, statement: str) -> dict:
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return pipeline._pg_error(exc)
    raise AssertionError(f"{statement} did not fail")


def test_postgres_error_values_are_redacted_names_kept(example_db_url, hashed_user):
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, username, pw_hashed) VALUES ('bob@example.com', 'bob', 'Sekrit-Val-1')"
        )
    unique = _error_of(
        example_db_url,
        "INSERT INTO users (email, username, pw_hashed) VALUES ('bob@example.com', 'b2', 'Sekrit-Val-2')",
    )
    assert unique["sqlstate"] == "23505"
    assert "uq_users_email" in unique["error"] and "Key (email)=(***)" in unique["error"]
    not_null = _error_of(
        example_db_url,
        "INSERT INTO users (email, username, pw_hashed) VALUES ('carol@example.com', NULL, 'Sekrit-Val-3')",
    )
    assert not_null["sqlstate"] == "23502"
    assert (
        'column "username"' in not_null["error"]
        and "Failing row contains (***)" in not_null["error"]
    )
    cast = _error_of(example_db_url, "SELECT pw_hashed::integer FROM users")
    assert cast["sqlstate"] == "22P02" and '"***"' in cast["error"]
    enum = _error_of(example_db_url, "UPDATE users SET role = 'Sekrit-Val-4'")
    assert enum["sqlstate"] == "22P02" and "user_role" in enum["error"]
    missing = _error_of(example_db_url, 'SELECT * FROM "no_such_table"')
    assert 'relation "no_such_table" does not exist' in missing["error"]
    everything = json.dumps([unique, not_null, cast, enum, missing])
    for value in ("bob@example.com", "carol@example.com", "Sekrit-Val", hashed_user, "argon2id$v"):
        assert value not in everything, everything


# -- the URL itself ------------------------------------------------------------------------------
@pytest.mark.parametrize("sep", sorted(SEPARATORS))
def test_a_malformed_url_is_refused_in_one_masked_line_naming_the_fix(sep):
    password, needles = secret_password(SEPARATORS[sep])
    url = f"postgresql://app:{password}@db.example:5433/app"
    if sep == "colon":  # a ':' in the password is read right by every parser
        assert validate_url(url) == url
        return
    with pytest.raises(ConfigError) as info:
        validate_url(url)
    message = str(info.value)
    assert leaks(message, needles) == [] and "\n" not in message
    assert "percent-encode" in message and "postgresql://app:***@" in message
    # Once seen, the value is masked wherever it turns up later, URL or not.
    assert mask_url(f"libpq said: {password!r} and {needles[2]}@db and {quote(password)}") == (
        "libpq said: '***' and ***@db and ***"
    )


def test_short_values_and_words_inside_other_words_are_left_alone(monkeypatch):
    monkeypatch.setattr(redact, "_known", set())  # what this test remembers stays in it
    monkeypatch.setattr(redact, "_pattern", None)
    redact.remember_url("postgresql://postgres:postgres@localhost:5433/app")
    assert mask_url("postgresql is up; user postgres") == "postgresql is up; user ***"
    redact.remember_url("postgresql://u:ab@localhost:5433/app")
    assert mask_url("a tab b") == "a tab b"
    assert mask_url("postgresql://u:ab@localhost/app") == "postgresql://u:***@localhost/app"


def test_script_output_is_redacted_of_the_run_url_and_database_url(proj):
    svc.draft_script(proj, "print_url", DUMP_SCRIPT)
    run = svc.run_script(proj, "temp/print_url")
    info = psycopg.conninfo.conninfo_to_dict(proj.database_url)
    assert run["ok"], run
    assert info["password"] not in run["stdout"] + run["stderr"]
    assert "PW *** ***" in run["stdout"] and "HASH $argon2id$***" in run["stdout"]


def test_readonly_run_output_is_redacted_of_the_readonly_url(
    proj, pg_server, example_db_url, target, monkeypatch
):
    password, needles = secret_password("@ #")
    role = f"dbuse_ro_{uuid.uuid4().hex[:8]}"
    pg_server.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )
    try:
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(target["dbname"]), sql.Identifier(role)
                )
            )
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        monkeypatch.setenv("DATABASE_READONLY_URL", url_for(role, password, target, encode=True))
        svc.draft_script(proj, "print_url", DUMP_SCRIPT)
        run = svc.run_script(proj, "temp/print_url")
    finally:
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        pg_server.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert run["ok"] and run["readonly_enforced"] is True, run
    assert f"postgresql://{role}:***@" in run["stdout"]
    assert leaks(run["stdout"] + run["stderr"], needles) == [], run
