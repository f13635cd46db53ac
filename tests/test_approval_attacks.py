"""Attacks on the approval guards, through the real faces; each must fail, and the person's
own path (a pty, the right passphrase typed) must still apply the change end to end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import psycopg
import pytest
from mcp import Client

from database_use import approvals, policy, sandbox
from database_use.changes import apply_change, get_change, propose_column_change
from database_use.errors import ChangeRefused
from database_use.project import Project
from mcp_server.server import build_server
from tests import person
from tests.conftest import REPO_ROOT
from tests.mcp_helpers import Person


def columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
        ).fetchall()
    return {r[0] for r in rows}


def propose(proj: Project, column: str = "nickname") -> str:
    return propose_column_change(proj, "users", "add", column, type="text")["id"]


def assert_person_still_applies(proj: Project, url: str, column: str = "legit_col") -> None:
    change_id = propose(proj, column)
    person.approves(proj.root, change_id, url)
    assert apply_change(proj, change_id)["applied"]["approval_channel"] == "terminal"
    assert column in columns(url)


# -- the terminal ------------------------------------------------------------------------------
def test_approve_without_a_terminal_or_with_a_piped_passphrase_fails(proj, example_db_url):
    person.set_up()
    change_id = propose(proj)
    env = person.child_env(example_db_url)
    piped = subprocess.run(
        person.cli("approve", change_id, "--project-root", str(proj.root)),
        input=person.PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,  # no controlling terminal, like a daemon or an agent's pipe
        timeout=60,
    )
    assert piped.returncode == 2 and "no controlling terminal" in piped.stderr
    assert "Traceback" not in piped.stderr and person.PASSPHRASE not in piped.stderr
    # On a terminal, but the passphrase comes on a stdin pipe and only Enter is typed.
    code, screen = person.on_tty(
        person.cli("approve", change_id, "--project-root", str(proj.root)),
        env,
        [("Approver passphrase to approve", "")],
        stdin_data=(person.PASSPHRASE + "\n").encode(),
    )
    assert code == 2 and "not approved" in screen
    with pytest.raises(ChangeRefused, match="not approved"):
        apply_change(proj, change_id)
    assert "nickname" not in columns(example_db_url)
    assert_person_still_applies(proj, example_db_url)


def test_wrong_passphrase_approves_nothing(proj, example_db_url):
    person.set_up()
    change_id = propose(proj)
    code, screen = person.on_tty(
        person.cli("approve", change_id, "--project-root", str(proj.root)),
        person.child_env(example_db_url),
        [("Approver passphrase to approve", "guess one")]
        + [("Approver passphrase to approve", "guess two")]
        + [("Approver passphrase to approve", "guess three")],
    )
    assert code == 2 and screen.count("Wrong passphrase.") == 3 and "not approved" in screen
    assert not approvals.record_path(proj, "change", change_id).exists()
    with pytest.raises(ChangeRefused, match="not approved"):
        apply_change(proj, change_id)
    assert_person_still_applies(proj, example_db_url)


def test_no_type_this_code_on_screen(proj, example_db_url):
    change_id = propose(proj)
    screen = person.approves(proj.root, change_id, example_db_url)
    assert "type the code" not in screen.lower()


# -- the record --------------------------------------------------------------------------------
def test_forging_with_everything_in_the_config_dir_fails(proj, example_db_url):
    person.set_up()
    change_id = propose(proj)
    prepared = get_change(proj, change_id)
    stolen = json.loads(approvals.approver_path().read_text())  # salt, costs, public key
    # The best an attacker can do without the passphrase: derive a key from a guess.
    forged_key = approvals._derive(
        "a guess",
        bytes.fromhex(stolen["salt"]),
        {k: stolen[k] for k in ("time_cost", "memory_cost", "parallelism")},
    )
    with psycopg.connect(example_db_url) as conn:
        identity = approvals.database_identity(conn)
    approvals.grant(
        proj,
        "change",
        change_id,
        prepared["sql_sha256"],
        signer=forged_key,
        schema_hash=prepared["schema_hash"],
        target=identity,
    )
    with pytest.raises(ChangeRefused, match="not validly signed"):
        apply_change(proj, change_id)
    assert "nickname" not in columns(example_db_url)
    assert_person_still_applies(proj, example_db_url)


def test_replay_after_deleting_the_ledger_fails(proj, example_db_url):
    change_id = propose(proj)
    person.approves(proj.root, change_id, example_db_url)
    saved = approvals.record_path(proj, "change", change_id).read_text()
    apply_change(proj, change_id)
    # The attacker wipes the used-ledger, restores the record and the proposal's status. (It
    # cannot undo the change itself: that needs the write access only an approval gives.)
    for used in (policy.config_dir() / "used").iterdir():
        used.unlink()
    approvals.record_path(proj, "change", change_id).write_text(saved)
    path = proj.changes_dir / f"{change_id}.json"
    stored = json.loads(path.read_text())
    stored["status"] = "approved"
    path.write_text(json.dumps(stored))
    with pytest.raises(ChangeRefused, match="stale"):  # bound to the schema it changed
        apply_change(proj, change_id)
    assert "nickname" in columns(example_db_url)


def test_ttl_of_seven_days_from_env_or_dotenv_is_ignored(proj, example_db_url, monkeypatch):
    week = str(7 * 24 * 3600)
    (proj.root / ".env").write_text(
        f"DATABASE_URL={example_db_url}\nDATABASE_USE_APPROVAL_TTL={week}\n"
    )
    monkeypatch.setenv("DATABASE_USE_APPROVAL_TTL", week)
    change_id = propose(proj)
    code, screen = person.on_tty(
        person.cli("approve", change_id, "--project-root", str(proj.root)),
        person.child_env(example_db_url, DATABASE_USE_APPROVAL_TTL=week),
        [
            ("New approver passphrase: ", person.PASSPHRASE),
            ("Repeat it: ", person.PASSPHRASE),
            ("[Y/n] ", "y"),
            ("Approver passphrase to approve", person.PASSPHRASE),
        ],
    )
    assert code == 0, screen
    record = json.loads(approvals.record_path(proj, "change", change_id).read_text())
    from datetime import datetime

    lifetime = datetime.fromisoformat(record["expires_at"]) - datetime.fromisoformat(
        record["approved_at"]
    )
    assert lifetime.total_seconds() == policy.DEFAULT_TTL_SECONDS
    assert apply_change(proj, change_id)["status"] == "applied"


def test_approval_for_database_a_does_not_apply_to_b(proj, make_database, example_db_url):
    change_id = propose(proj)
    person.approves(proj.root, change_id, example_db_url)
    url_b = make_database("example")
    name_b = url_b.rsplit("/", 1)[1]
    tricks = [url_b, f"{example_db_url}?dbname={name_b}"]
    for url in tricks:
        other = Project(root=proj.root, url_override=url)
        with pytest.raises(ChangeRefused, match="another database"):
            apply_change(other, change_id)
        assert "nickname" not in columns(url_b)
    assert "nickname" not in columns(example_db_url)
    assert apply_change(proj, change_id)["status"] == "applied"  # the approval still holds for A


# -- the display -------------------------------------------------------------------------------
def test_escape_sequences_cannot_hide_a_delete(proj, example_db_url):
    from database_use.scripts import service as svc

    # On a raw terminal the escape clears the line that holds the DELETE; the bidi override
    # reverses what follows it.
    hidden = (
        "print('safe')\n"
        'DELETE = "DELETE FROM users"  # \x1b[2K\x1b[1G\n'
        'note = "\u202e sresu MORF ETELED"\n'
    )
    svc.draft_script(proj, "tidy", hidden)
    # A write request for such a source is refused outright: nobody is asked to approve it.
    with pytest.raises(ChangeRefused, match="control or invisible characters"):
        svc.request_write(proj, "temp/tidy", [])
    # And wherever it is shown, it is shown escaped, with a warning.
    text = svc.approval_text(
        {"path": "temp/tidy.py", "target": "db", "args": [], "sha256": "0" * 64, "source": hidden}
    )
    assert "\x1b" not in text and "\u202e" not in text
    assert 'DELETE = "DELETE FROM users"  # \\x1b[2K\\x1b[1G' in text and "\\u202e" in text
    assert "WARNING: the script or its arguments contain" in text


# -- MCP: elicitation and HTTP -----------------------------------------------------------------
ATTACKER = r"""
import asyncio, sys
from mcp import Client, StdioServerParameters, types

async def accept(context, params):
    return types.ElicitResult(action="accept", content={"approve": True})

async def main():
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "--project-root", sys.argv[1]],
        env={"PATH": "", "PYTHONPATH": sys.argv[3], "DATABASE_URL": sys.argv[4],
             "HOME": sys.argv[5], "XDG_CONFIG_HOME": sys.argv[5] + "/.config"},
    )
    async with Client(params, elicitation_callback=accept, mode="legacy") as client:
        result = await client.call_tool("apply_change", {"change_id": sys.argv[2]})
        data = result.structured_content or {}
        print(data.get("outcome"), data.get("applied"), result.is_error)

asyncio.run(main())
"""


@pytest.mark.parametrize("config_allows", [False, True])
def test_own_stdio_server_accepting_its_own_elicitation(
    proj, example_db_url, tmp_path, config_allows
):
    """A script starts its own server and answers its own dialog. Without the person's config
    nothing applies, whatever HOME the script gives its server (the config dir follows the OS
    account, not HOME). With a config that allows dialogs, a same-user process outside any
    sandbox is tier T3 (documented); agent code runs in the sandbox, which hides the person's
    config (and the proposals), so there it fails too."""
    if config_allows:
        policy.write_config(allow_elicitation=True)
    change_id = propose(proj)
    attacker = proj.root / "temp" / "attacker.py"  # where an agent's draft lands
    attacker.write_text(ATTACKER)
    fake_home = proj.root / "temp" / "home"
    fake_home.mkdir()
    argv = [
        sys.executable,
        str(attacker),
        str(proj.root),
        change_id,
        str(REPO_ROOT),
        example_db_url,
        str(fake_home),
    ]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO_ROOT)}
    if config_allows:
        argv = sandbox.command(argv, sandbox.Spec(proj.root))
        env = sandbox.environment(env)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    out = done.stdout.split()
    assert out and out[0] in ("approval_required", "None"), done.stdout + done.stderr
    assert out[1] != "True" and "applied" not in out, done.stdout + done.stderr
    assert "nickname" not in columns(example_db_url)
    assert not approvals.record_path(proj, "change", change_id).exists()


@pytest.mark.anyio
async def test_elicitation_only_when_the_persons_config_allows_and_decline_is_kept(
    proj, example_db_url
):
    server = build_server(proj.root)
    os.environ["DATABASE_URL"] = example_db_url
    try:
        change_id = propose(proj)
        async with Client(server, elicitation_callback=Person("accept", True)) as client:
            off = (
                await client.call_tool("apply_change", {"change_id": change_id})
            ).structured_content
        assert off["outcome"] == "approval_required" and "config" in off["message"]
        policy.write_config(allow_elicitation=True)
        no = Person("decline")
        async with Client(server, elicitation_callback=no) as client:
            first = (
                await client.call_tool("apply_change", {"change_id": change_id})
            ).structured_content
            again = (
                await client.call_tool("apply_change", {"change_id": change_id})
            ).structured_content
        assert first["outcome"] == "declined" and again["outcome"] == "declined"
        assert len(no.messages) == 1  # not asked again
        yes = Person("accept", True)
        other = propose(proj, "second")
        async with Client(server, elicitation_callback=yes) as client:
            done = (await client.call_tool("apply_change", {"change_id": other})).structured_content
        assert (
            done["outcome"] == "applied" and done["approval"]["approval_channel"] == "elicitation"
        )
        assert not approvals.record_path(proj, "change", other).exists()  # nothing reusable
    finally:
        os.environ.pop("DATABASE_URL", None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.anyio
async def test_http_needs_the_bearer_token(proj, example_db_url, tmp_path):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    env = person.child_env(example_db_url)
    with open(tmp_path / "err.log", "w+") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mcp_server",
                "--project-root",
                str(proj.root),
                "--transport",
                "streamable-http",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        try:
            token_file = policy.config_dir() / "http-token"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.2)
            token = token_file.read_text().strip()
            assert (token_file.stat().st_mode & 0o777) == 0o600
            url = f"http://127.0.0.1:{port}/mcp"
            async with httpx2.AsyncClient() as raw:
                body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
                assert (await raw.post(url, json=body)).status_code == 401
                bad = {"Authorization": "Bearer " + token[:-1] + "x"}
                assert (await raw.post(url, json=body, headers=bad)).status_code == 401
            client_http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            async with Client(streamable_http_client(url, http_client=client_http)) as client:
                names = {t.name for t in (await client.list_tools()).tools}
            assert "apply_change" in names
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        err.seek(0)
        assert token in err.read()  # shown once to the person
    refused = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--transport", "streamable-http", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "loopback only" in refused.stderr
