"""Attacks on the sandbox and the read-only guard, through the real faces.

Each test is a hostile script or models file written into the project, run through the
scripts service, the MCP ``run_script`` tool (a real in-process client) or ``compare``; each
asserts the attack failed AND that the legitimate path still works. Real PostgreSQL, real
roles, real bubblewrap (``make test`` and ``.ci/run`` install it).
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from mcp import Client
from psycopg.conninfo import conninfo_to_dict

from database_use import sandbox
from database_use import service as engine
from database_use.errors import ChangeRefused, InvalidRequest, SandboxUnavailable, ScriptError
from database_use.scripts import service as svc
from mcp_server.server import build_server
from tests import person

KEY_TEXT = "approval-key-never-seen-" + uuid.uuid4().hex
DOTENV_SECRET = "dotenv-secret-" + uuid.uuid4().hex
SERVER_SECRET = "server-env-secret-" + uuid.uuid4().hex


def run(proj, name: str, code: str, *args: str, **kwargs):
    svc.draft_script(proj, name, code, overwrite=True)
    return svc.run_script(proj, f"temp/{name}", list(args), **kwargs)


def obfuscated(code: str) -> str:
    """``code`` hidden from the static check, as a determined script would hide it."""
    blob = base64.b64encode(code.encode()).decode()
    return f"import base64\nexec(base64.b64decode({blob!r}).decode())\n"


def users(url: str, email: str = "pwned@example.com") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone()[0]


@pytest.fixture
def secrets(proj, private_home: Path, monkeypatch):
    """The person's key, a .env, the tool's state and a secret in the server's environment."""
    config = private_home / ".config" / "database-use"
    config.mkdir(parents=True, exist_ok=True)  # the harness mounts it
    (config / "approval.key").write_text(KEY_TEXT)
    (proj.root / ".env").write_text(
        f"DATABASE_URL={proj.database_url}\nAPI_TOKEN={DOTENV_SECRET}\n"
    )
    monkeypatch.delenv("API_TOKEN", raising=False)  # .env loads into os.environ: undo after
    for sub in ("approvals", "script_requests", "changes", "cache"):
        (proj.root / ".roo" / sub).mkdir(parents=True, exist_ok=True)
        (proj.root / ".roo" / sub / "state.json").write_text(json.dumps({"secret": KEY_TEXT}))
    (proj.root / "deploy.pem").write_text(KEY_TEXT)
    (proj.root / ".mcp.json").write_text(json.dumps({"env": {"TOKEN": KEY_TEXT}}))
    monkeypatch.setenv("DBUSE_SERVER_SECRET", SERVER_SECRET)
    return config


READ_EVERYTHING = """
import glob, os, sys
targets = sys.argv[1:] + ['.env', 'deploy.pem', '.mcp.json'] + glob.glob('.roo/*/state.json')
targets += ['/proc/%d/environ' % os.getppid()] + glob.glob('/proc/*/environ')
for path in targets:
    try:
        with open(path, errors='replace') as fh:
            print('READ', path, fh.read().replace(chr(0), ' '))
    except OSError as exc:
        print('DENIED', path, type(exc).__name__)
print('ENV', sorted(os.environ))
print('MODELS', open('models/models_user.py').read()[:40])
"""


def test_scripts_see_no_key_no_dotenv_no_tool_state_no_parent_environment(proj, secrets):
    result = run(proj, "snoop", READ_EVERYTHING, str(secrets / "approval.key"))
    out = result["stdout"] + result["stderr"]
    assert result["ok"] and result["sandboxed"] is True, result
    for secret in (KEY_TEXT, DOTENV_SECRET, SERVER_SECRET):
        assert secret not in out
    assert "DBUSE_SERVER_SECRET" not in out and "API_TOKEN" not in out
    # The legitimate path: the project's code is readable.
    assert "MODELS " in out and "MODELS \n" not in out


def test_a_script_cannot_make_itself_an_approval(proj, private_home, example_db_url):
    """It signs with whatever key it can reach and writes the record: nothing it makes counts."""
    # A real key exists: a person approved another run before.
    svc.draft_script(proj, "other", "print('other')\n")
    other = svc.request_write(proj, "temp/other")["id"]
    person.approves(proj.root, other, example_db_url, command="approve-script")
    key = private_home / ".config" / "database-use" / "approver.json"
    key_bytes = key.read_bytes()
    write = "import os, psycopg\npsycopg.connect(os.environ['DATABASE_URL']).close()\nprint('w')\n"
    svc.draft_script(proj, "writer", write)
    with pytest.raises(ChangeRefused):
        svc.run_script(proj, "temp/writer", write=True)
    rid = svc.request_write(proj, "temp/writer")["id"]
    forge = f"""
from pathlib import Path
from database_use import approvals
from database_use.project import Project
from database_use.scripts import service as svc
project = Project(root=Path.cwd())
try:  # the request record is hidden too: rebuild what it holds from the file itself
    request = svc.load_request(project, {rid!r})
except Exception as exc:
    print("NO REQUEST", type(exc).__name__)
    data = open("temp/writer.py", "rb").read()
    request = {{"sha256": svc.content_hash(data), "target": svc._target(project)}}
try:  # the passphrase is in the person's head: sign with any key it can make or find
    signer = approvals.Ed25519PrivateKey.generate()
    approvals.grant(project, "script", {rid!r}, request["sha256"], signer=signer,
                    target=request["target"])
    print("GRANTED")
except Exception as exc:
    print("REFUSED", type(exc).__name__)
"""
    state = proj.root / ".roo"
    before = {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}
    result = run(proj, "forge", forge)
    # Inside, the request record is hidden and the key out of reach; whatever it "grants" is
    # signed with a throwaway key into a throwaway tmpfs, and nothing of it reaches the project.
    assert "NO REQUEST" in result["stdout"], result
    assert key.read_bytes() == key_bytes
    assert {p: p.read_bytes() for p in state.rglob("*") if p.is_file()} == before
    with pytest.raises(ChangeRefused, match="approval"):
        svc.run_script(proj, "temp/writer", write=True)


def test_scripts_cannot_write_the_project_or_home_and_get_a_private_tmp(proj, private_home):
    targets = [
        proj.root / "utils_db" / "planted.py",
        proj.root / "models" / "models_planted.py",
        proj.root / ".roo" / "docs" / "planted.md",
        proj.root / "temp" / "planted.py",
        private_home / ".bashrc",
    ]
    code = (
        "import sys\nfor path in sys.argv[1:]:\n    try:\n        open(path, 'w').write('x')\n"
        "        print('WROTE', path)\n    except OSError as exc:\n        print('DENIED', path, exc.errno)\n"
        "open('/tmp/scratch', 'w').write('ok')\nprint('TMP', open('/tmp/scratch').read())\n"
        # As root, bwrap keeps capabilities unless dropped: a remount would make the project writable.
        "import os, subprocess\nsubprocess.run(['mount', '-o', 'remount,rw,bind', os.getcwd()], capture_output=True)\n"
        "try:\n    open('utils_db/after_remount.py', 'w')\n    print('WROTE after remount')\n"
        "except OSError:\n    print('DENIED after remount')\n"
        "print('CAPS', [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0])\n"
    )
    result = run(proj, "planter", code, *map(str, targets))
    # The project is read-only; HOME is an empty tmpfs (a write there vanishes with the run).
    wrote = [line for line in result["stdout"].splitlines() if line.startswith("WROTE")]
    assert all(str(private_home) in line for line in wrote), result
    assert result["stdout"].count("DENIED") == 5, result
    assert "CAPS 0000000000000000" in result["stdout"], result
    assert not (proj.root / "utils_db" / "after_remount.py").exists()
    assert not any(t.exists() for t in targets)
    assert "TMP ok" in result["stdout"]  # the private tmp is writable
    assert not Path("/tmp/scratch").exists() or Path("/tmp/scratch").read_text() != "ok"


def test_scripts_cannot_signal_the_server_nor_outlive_the_run(proj):
    marker = "dbuse-daemon-" + uuid.uuid4().hex
    code = f"""
import os, signal, subprocess, sys
try:
    os.kill(int(sys.argv[1]), 0)
    print('CAN SIGNAL')
except OSError as exc:
    print('NO SIGNAL', type(exc).__name__)
print('PIDS', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
import time
child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'],
                         start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.2)
if child.poll() is None:
    print('STARTED')
"""
    result = run(proj, "escaper", code, str(os.getpid()))
    assert "NO SIGNAL" in result["stdout"] and "STARTED" in result["stdout"], result
    pids = json.loads(result["stdout"].split("PIDS ", 1)[1].splitlines()[0])
    assert max(pids) < 100  # its own PID namespace: a handful of processes, none of ours
    # The sandbox's PID namespace dies with the run; the kernel's SIGKILL to what was left is
    # delivered asynchronously, so a busy machine may still list the process for a moment.
    deadline = time.monotonic() + 5
    while (left := _with_marker(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == []


def _with_marker(marker: str) -> list[str]:
    left = []
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                left.append(entry.name)
        except OSError:
            continue
    return left


def test_scripts_have_no_terminal(proj):
    """A new session without a controlling terminal: no /dev/tty to type an approval into."""
    code = (
        "import os\nfor dev in ('/dev/tty', '/dev/console'):\n    try:\n"
        "        os.open(dev, os.O_RDWR)\n        print('OPENED', dev)\n"
        "    except OSError:\n        print('NO', dev)\nprint('PTS', os.listdir('/dev/pts'))\n"
    )
    result = run(proj, "no_terminal", code)
    assert "OPENED" not in result["stdout"] and "NO /dev/tty" in result["stdout"], result
    assert "PTS []" in result["stdout"] or "PTS ['ptmx']" in result["stdout"], result


# -- read-only with a real read-only role -------------------------------------------------------
@pytest.fixture
def readonly_url(pg_server, proj, example_db_url, monkeypatch) -> str:
    role = f"ro_{uuid.uuid4().hex[:10]}"
    dbname = conninfo_to_dict(example_db_url)["dbname"]
    pg_server.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ro-pass-{role}'")
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}')
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    params = conninfo_to_dict(example_db_url)
    url = f"postgresql://{role}:ro-pass-{role}@{params['host']}:{params['port']}/{dbname}"
    monkeypatch.setenv("DATABASE_READONLY_URL", url)
    yield url
    with psycopg.connect(example_db_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
    pg_server.execute(f"DROP ROLE {role}")


INSERT = "INSERT INTO users (email, username, pw_hashed) VALUES ('pwned@example.com', 'p', 'x')"
WRITE_ATTACKS = {
    "set_off": f"c = psycopg.connect(url, autocommit=True)\nc.execute('SET default_transaction_read_only = off')\nc.execute({INSERT!r})",
    "begin_read_write": f"c = psycopg.connect(url, autocommit=True)\nc.execute('BEGIN READ WRITE')\nc.execute({INSERT!r})\nc.execute('COMMIT')",
    "options_in_url": f"c = psycopg.connect(url + '?options=-c%20default_transaction_read_only%3Doff', autocommit=True)\nc.execute({INSERT!r})",
    "no_pgoptions": f"del os.environ['PGOPTIONS']\nc = psycopg.connect(url, autocommit=True)\nc.execute({INSERT!r})",
    "copy_to_program": "c = psycopg.connect(url, autocommit=True)\nc.execute(\"COPY (SELECT 1) TO PROGRAM 'touch /tmp/dbuse-pwned'\")",
    "create_table": "c = psycopg.connect(url, autocommit=True)\nc.execute('SET default_transaction_read_only = off')\nc.execute('CREATE TABLE pwned (x int)')",
}


@pytest.mark.parametrize("attack", sorted(WRITE_ATTACKS))
def test_readonly_role_holds_against_every_bypass(proj, readonly_url, example_db_url, attack):
    body = "import os, psycopg\nurl = os.environ['DATABASE_URL']\n" + WRITE_ATTACKS[attack]
    code = (
        "import os\ntry:\n    exec(__import__('base64').b64decode("
        f"{base64.b64encode(body.encode()).decode()!r}).decode())\n    print('WROTE')\n"
        "except Exception as exc:\n    print('FAILED', str(exc).splitlines()[0])\n"
    )
    result = run(proj, f"attack_{attack}", code)
    assert result["readonly_enforced"] is True and result["sandboxed"] is True, result
    assert "WROTE" not in result["stdout"] and "FAILED" in result["stdout"], result
    assert "permission denied" in result["stdout"] or "must be" in result["stdout"], result
    assert users(example_db_url) == 0
    with psycopg.connect(example_db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.pwned')").fetchone()[0] is None
    assert not Path("/tmp/dbuse-pwned").exists()
    # The legitimate path: reading works through the same role.
    ok = run(
        proj,
        "reader",
        "import os, psycopg\nprint('users:', psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT count(*) FROM users').fetchone()[0])\n",
    )
    assert ok["ok"] and "users: 0" in ok["stdout"], ok


def test_readonly_run_never_sees_the_privileged_url(proj, readonly_url, secrets, example_db_url):
    admin_password = conninfo_to_dict(example_db_url)["password"]
    result = run(proj, "url_thief", READ_EVERYTHING + "print('URL', os.environ['DATABASE_URL'])\n")
    out = result["stdout"] + result["stderr"]
    assert admin_password not in out and example_db_url not in out
    role = conninfo_to_dict(readonly_url)["user"]
    assert f"role {role!r}" in result["guard"] and result["readonly_enforced"] is True


@pytest.mark.parametrize("grant", ["INSERT ON users", "superuser"])
def test_a_readonly_url_whose_role_can_write_is_refused(
    proj, pg_server, readonly_url, example_db_url, tmp_path, grant
):
    role = conninfo_to_dict(readonly_url)["user"]
    if grant == "superuser":
        pg_server.execute(f"ALTER ROLE {role} SUPERUSER")
    else:
        with psycopg.connect(example_db_url, autocommit=True) as conn:
            conn.execute(f"GRANT {grant} TO {role}")
    marker = tmp_path / "ran"
    svc.draft_script(proj, "innocent", f"open({str(marker)!r}, 'w')\n")
    with pytest.raises(ScriptError, match="can write") as info:
        svc.run_script(proj, "innocent")
    assert "\n" not in str(info.value) and "ro-pass" not in str(info.value)
    assert not marker.exists()
    pg_server.execute(f"ALTER ROLE {role} NOSUPERUSER")


def test_without_a_readonly_role_the_answer_says_best_effort(proj):
    result = run(proj, "plain", "print('hi')\n")
    assert result["ok"] and result["readonly_enforced"] is False
    assert "best effort" in result["guard"]


# -- the MCP face ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_mcp_run_script_is_sandboxed_and_says_so(proj, readonly_url, secrets, example_db_url):
    svc.draft_script(
        proj,
        "mcp_snoop",
        READ_EVERYTHING
        + obfuscated(
            "import psycopg\ntry:\n    c = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)\n"
            f"    c.execute('SET default_transaction_read_only = off')\n    c.execute({INSERT!r})\n    print('WROTE')\n"
            "except Exception as exc:\n    print('FAILED', type(exc).__name__)\n"
        ),
    )
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        result = await client.call_tool("run_script", {"name": "temp/mcp_snoop"})
    data = result.structured_content
    text = result.content[0].text
    assert data["sandboxed"] is True and data["readonly_enforced"] is True, data
    assert "FAILED" in data["stdout"] and "WROTE" not in data["stdout"]
    for secret in (
        KEY_TEXT,
        DOTENV_SECRET,
        SERVER_SECRET,
        conninfo_to_dict(example_db_url)["password"],
    ):
        assert secret not in text
    assert users(example_db_url) == 0


@pytest.mark.anyio
async def test_mcp_promote_cannot_overwrite_a_vetted_script(proj, example_db_url):
    vetted = '"""Vetted."""\nif __name__ == "__main__":\n    print("vetted")\n'
    (proj.scripts_dir / "media_report.py").write_text(vetted)
    svc.draft_script(proj, "media_report", 'if __name__ == "__main__":\n    print("evil")\n')
    server = build_server(proj.root, example_db_url)
    async with Client(server) as client:
        result = await client.call_tool(
            "promote_script", {"name": "media_report", "overwrite": True}
        )
        assert result.is_error and "only a person" in result.content[0].text
        ok = await client.call_tool("run_script", {"name": "utils_db/media_report"})
    assert (proj.scripts_dir / "media_report.py").read_text() == vetted
    assert ok.structured_content["stdout"].strip() == "vetted"


# -- models files during compare --------------------------------------------------------------------
def test_a_hostile_models_file_cannot_touch_the_database_or_the_project(
    proj, secrets, example_db_url
):
    hostile = f"""
import os, sys
from pathlib import Path
from sqlalchemy import Column, Integer
from utils_db.database import db

report = {{"env_urls": [k for k in os.environ if "DATABASE" in k or k.startswith("PG")]}}
try:
    import psycopg
    c = psycopg.connect({example_db_url!r}, autocommit=True, connect_timeout=3)
    c.execute("ALTER TABLE users DROP COLUMN email")
    report["db"] = "DROPPED"
except Exception as exc:
    report["db"] = type(exc).__name__
for target in ("models/models_user.py", ".roo/cache/planted", "utils_db/planted.py"):
    try:
        open(target, "a").write("# planted\\n")
        report[target] = "WROTE"
    except OSError:
        report[target] = "denied"
for secret in (".env", {str(secrets / "approval.key")!r}, "/proc/%d/environ" % os.getppid()):
    try:
        report[secret] = open(secret).read()
    except OSError:
        report[secret] = "denied"
print(report, file=sys.stderr)


class Pwned(db.Model):
    __tablename__ = "pwned_models"
    id = Column(Integer, primary_key=True)
"""
    (proj.root / "models" / "models_zz_hostile.py").write_text(hostile)
    before = (proj.root / "models" / "models_user.py").read_text()
    result = engine.compare(proj, "db", "models")
    assert result["models_load"] == "sandbox"
    # The legitimate path: the models still load; the hostile table shows as missing in the DB.
    assert any(d["table"] == "public.pwned_models" for d in result["differences"])
    with psycopg.connect(example_db_url) as conn:
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
            )
        }
    assert "email" in cols
    assert (proj.root / "models" / "models_user.py").read_text() == before
    assert not (proj.root / "utils_db" / "planted.py").exists()
    assert not (proj.root / ".roo" / "cache" / "planted").exists()


def test_models_output_cannot_forge_the_answer(proj, secrets):
    """What a models file prints goes to stderr; the snapshot protocol stays the parent's."""
    (proj.root / "models" / "models_zz_loud.py").write_text(
        'import os\nos.write(1, b\'{"snapshot": {"tables": {}}, "origins": {}, "deps": []}\')\nprint("noise")\n'
    )
    result = engine.compare(proj, "db", "models")
    assert result["models_load"] == "sandbox" and result["count"] == 0


# -- names, overwrite, what the person reads -----------------------------------------------------------
@pytest.mark.parametrize("name", ["argparse", "pathlib", "sqlalchemy", "psycopg", "json", "models"])
def test_names_that_shadow_a_module_are_refused_at_draft_and_promote(proj, name):
    with pytest.raises(InvalidRequest, match="shadow"):
        svc.draft_script(proj, name, "print(1)\n")
    assert not (proj.temp_dir / f"{name}.py").exists()
    (proj.temp_dir / f"{name}.py").write_text("print(1)\n")  # planted by hand: promote refuses too
    with pytest.raises(InvalidRequest, match="shadow"):
        svc.promote_script(proj, name)
    assert not (proj.scripts_dir / f"{name}.py").exists()
    assert svc.draft_script(proj, "count_rows", "print(1)\n")["path"] == "temp/count_rows.py"


def test_escape_sequences_are_shown_escaped_and_write_requests_refused(proj):
    sneaky = "print('ok')\n# \x1b[1A\x1b[2K\rconn.execute('DELETE FROM users')\nx = '\u202e'\n"
    svc.draft_script(proj, "sneaky_esc", sneaky)
    request = {
        "path": "temp/sneaky_esc.py",
        "target": "db",
        "args": ["\x1b[2J"],
        "sha256": "0" * 64,
        "source": sneaky,
    }
    text = svc.approval_text(request)
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert "\\x1b[2K\\x0dconn.execute('DELETE FROM users')" in text and "\\u202e" in text
    with pytest.raises(ChangeRefused, match="invisible"):
        svc.request_write(proj, "temp/sneaky_esc")
    svc.draft_script(proj, "plain_write", "print('fine')\n")
    assert svc.request_write(proj, "temp/plain_write")["id"].startswith("script-plain_write-")


# -- no sandbox: refused, unless the person said so in their own config ------------------------------
@pytest.fixture
def no_bwrap(tmp_path, monkeypatch):
    """A PATH without bwrap, as on a machine where bubblewrap is not installed."""
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    sandbox._probe.cache_clear()
    yield
    sandbox._probe.cache_clear()


def test_without_a_sandbox_agent_code_is_not_run(proj, no_bwrap, tmp_path, private_home):
    marker = tmp_path / "ran"
    svc.draft_script(proj, "ran", f"open({str(marker)!r}, 'w')\n")
    with pytest.raises(SandboxUnavailable, match="install bubblewrap") as info:
        svc.run_script(proj, "ran")
    assert "\n" not in str(info.value) and not marker.exists()
    with pytest.raises(SandboxUnavailable):
        engine.compare(proj, "db", "models")
    # A config.toml the project controls does not count...
    (proj.root / "cfg" / "database-use").mkdir(parents=True)
    (proj.root / "cfg" / "database-use" / "config.toml").write_text('sandbox = "off"\n')
    os.environ["XDG_CONFIG_HOME"] = str(proj.root / "cfg")
    with pytest.raises(SandboxUnavailable):
        svc.run_script(proj, "ran")
    os.environ["XDG_CONFIG_HOME"] = str(private_home / ".config")
    # ...the person's own does, and the answer says what it gives up.
    (private_home / ".config" / "database-use").mkdir(parents=True, exist_ok=True)
    (private_home / ".config" / "database-use" / "config.toml").write_text('sandbox = "off"\n')
    result = svc.run_script(proj, "ran")
    assert result["ok"] and marker.exists()
    assert result["sandboxed"] is False and "T1 only" in result["sandbox"]
    assert result["readonly_enforced"] is False
