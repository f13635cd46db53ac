"""The tool in a project that is not this repo, the way an adopter has it.

The adopter has its own ``utils_db/__init__.py``, ``utils_db/database.py`` and a script of its
own, models on its own ``DeclarativeBase``, and its own ``.venv/`` inside its root with the tool
installed from a built wheel (non-editable). There every CLI command runs through
``.venv/bin/database-use``, the MCP server runs over stdio (``python -m mcp_server`` from the
root, where the project's ``utils_db`` is importable, and the entry ``register`` wrote), and the
approve command the tool printed is run in a pseudo-terminal.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shlex
import shutil
import site
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest

from database_use.settings import sqlalchemy_url
from tests.conftest import REPO_ROOT

FILES = {
    "pyproject.toml": """
        [project]
        name = "members-app"
        version = "1.0"

        [tool.database-use]
        password-hash-column = "pw_digest"
        sensitive-columns = ["pw_digest"]
        preferred-utilities = ["utils_db/count_members.py"]
    """,
    "utils_db/__init__.py": '"""The members app\'s own helpers."""\n',
    "utils_db/database.py": """
        \"\"\"The members app's own engine (not the example app's db).\"\"\"
        import os

        from sqlalchemy import create_engine


        def engine():
            url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
            return create_engine(url)
    """,
    "utils_db/count_members.py": """
        \"\"\"Count the members.\"\"\"
        import argparse

        from sqlalchemy import text

        from utils_db.database import engine



        def main() -> None:
            parser = argparse.ArgumentParser(description="Count the members.")
            parser.add_argument("--like", default="%", help="only names LIKE this")
            args = parser.parse_args()
            with engine().connect() as conn:
                q = text("SELECT count(*) FROM members WHERE name LIKE :p")
                print("members:", conn.execute(q, {"p": args.like}).scalar())


        if __name__ == "__main__":
            main()
    """,
    "models/__init__.py": "",
    "models/base.py": """
        from sqlalchemy.orm import DeclarativeBase


        class Base(DeclarativeBase):
            pass
    """,
    "models/models_member.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from models.base import Base


        class Member(Base):
            __tablename__ = "members"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(50))
            pw_digest: Mapped[str | None]
    """,
}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tool built once as a wheel from a copy of this checkout (the build never writes here)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(
        REPO_ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "*.egg-info",
            "build",
            "__pycache__",
            ".*_cache",
            "temp",
            ".roo",
            "bench",
            "tests",
        ),
    )
    out = base / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return next(out.glob("database_use-*.whl"))


@pytest.fixture
def adopter(tmp_path: Path, wheel: Path) -> Path:
    root = tmp_path / "members-app"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    venv = root / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    # The tool's dependencies come from this interpreter's site-packages (a plain path line:
    # an editable install's finder there is not activated, so only the wheel's copy is seen).
    (venv_site(venv) / "deps.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return root


def venv_site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*")) / "site-packages"


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env["DATABASE_URL"] = url
    return env


def tool(root: Path, url: str, *args: str, code: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(root / ".venv" / "bin" / "database-use"), *args],
        cwd=root,
        env=env_for(url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if code is not None:
        assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def create_all(root: Path, url: str) -> None:
    """What the adopter's app does: its own models, its own interpreter, create_all."""
    made = subprocess.run(
        [
            str(root / ".venv" / "bin" / "python"),
            "-c",
            "from sqlalchemy import create_engine; from models.models_member import Base; "
            f"Base.metadata.create_all(create_engine({sqlalchemy_url(url)!r}))",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr


def run_in_pty(argv: list[str], cwd: Path, env: dict[str, str], wait_for: str) -> tuple[str, bool]:
    """Start ``argv`` on a pseudo-terminal; return what it showed and whether it still waits."""
    primary, secondary = os.openpty()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
        # The pty becomes the child's controlling terminal, as a person's terminal is.
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and wait_for.encode() not in seen:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 65536)
                except OSError:
                    break
        time.sleep(1.0)  # it has shown the change; a command that did not ask would exit now
        while select.select([primary], [], [], 0.2)[0]:
            try:
                seen += os.read(primary, 65536)
            except OSError:
                break
        waiting = proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        os.close(primary)
    return seen.decode(errors="replace"), waiting


def test_every_cli_command_in_the_adopters_project(adopter: Path, db_url: str) -> None:
    root, url = adopter, db_url
    assert tool(root, url, "--version").stdout.startswith("database-use ")
    assert "pyproject.toml: already has" in tool(root, url, "init").stdout
    create_all(root, url)

    assert "members" in tool(root, url, "introspect").stdout
    assert "pw_digest" in tool(root, url, "introspect", "--table", "members").stdout
    assert "no differences" in tool(root, url, "compare-db-models").stdout
    assert "wrote .roo/docs/database_schema.md" in tool(root, url, "generate-docs").stdout
    doc = (root / ".roo" / "docs" / "database_schema.md").read_text()
    assert "run `database-use generate-docs`" in doc and "utils_db/schema_inspector" not in doc
    assert "no differences" in tool(root, url, "compare-models-doc").stdout
    assert "no differences" in tool(root, url, "compare-db-doc").stdout
    assert tool(root, url, "validate").stdout.startswith("ok:")
    assert "wrote" in tool(root, url, "report").stdout
    assert "created" in tool(root, url, "log-change", "--summary", "adopted database-use").stdout

    listing = tool(root, url, "list-scripts", "--format", "json")
    scripts = {s["path"] for s in json.loads(listing.stdout)["scripts"]}
    assert scripts == {"utils_db/count_members.py"}  # its own script; none of the tool's modules
    assert "Count the members" in tool(root, url, "show-script", "count_members").stdout
    ran = tool(root, url, "run-script", "count_members", "--timeout", "60", "--", "--like", "%")
    assert "members: 0" in ran.stdout
    (root / "draft.py").write_text('"""Say hi."""\nif __name__ == "__main__":\n    print("hi")\n')
    assert (
        "wrote temp/say_hi.py"
        in tool(root, url, "draft-script", "say_hi", "--from-file", "draft.py").stdout
    )
    assert "hi" in tool(root, url, "run-script", "say_hi").stdout
    assert "utils_db/say_hi.py" in tool(root, url, "promote-script", "say_hi").stdout
    wrote = tool(root, url, "run-script", "count_members", "--write", code=2)
    assert "approve-script script-count_members-" in wrote.stderr

    proposed = tool(root, url, "propose", "members", "add", "nickname", "--type", "text")
    line = next(ln for ln in proposed.stdout.splitlines() if " approve chg-" in ln)
    printed = line[line.index(".venv/bin/database-use") :].strip()
    change_id = printed.split()[2]
    assert printed == f".venv/bin/database-use approve {change_id}"  # relative: run at the root
    assert change_id in tool(root, url, "list-changes").stdout
    refused = tool(root, url, "apply", change_id, code=2)
    assert "approv" in refused.stderr and refused.stderr.count("\n") == 1
    # The printed command, run as the person would: it starts, shows the change and asks.
    shown, waiting = run_in_pty(shlex.split(printed), root, env_for(url), "nickname")
    assert "nickname" in shown and "ADD COLUMN" in shown and waiting, shown
    assert "rejected" in tool(root, url, "reject", change_id).stdout.lower()

    skill = tool(root, url, "install-skill", "--scope", "project")
    assert (root / ".claude" / "skills" / "database-use" / "SKILL.md").is_file(), skill.stdout
    tool(root, url, "register", "claude-code")
    entry = json.loads((root / ".mcp.json").read_text())["mcpServers"]["database-use"]
    assert entry["command"] == "./.venv/bin/database-use-mcp"
    assert entry["args"] == ["--project-root", "."]
    assert str(root) not in (root / ".mcp.json").read_text()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_mcp_server_over_stdio_in_the_adopters_project(adopter: Path, db_url: str):
    from mcp import Client, StdioServerParameters

    root, url = adopter, db_url
    subprocess.run(
        [str(root / ".venv" / "bin" / "database-use"), "register", "claude-code"],
        cwd=root,
        env=env_for(url),
        check=True,
        capture_output=True,
    )
    entry = json.loads((root / ".mcp.json").read_text())["mcpServers"]["database-use"]
    create_all(root, url)
    env = {"DATABASE_URL": url, "PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    # From the root with the project's own utils_db/ importable: `python -m mcp_server`.
    python = StdioServerParameters(
        command=str(root / ".venv" / "bin" / "python"),
        args=["-m", "mcp_server", "--project-root", "."],
        env=env,
        cwd=str(root),
    )
    async with Client(python) as client:
        listing = await client.call_tool("list_scripts", {})
        assert not listing.is_error, listing.content
        paths = {s["path"] for s in listing.structured_content["scripts"]}
        assert paths == {"utils_db/count_members.py"}
        facts = json.loads((await client.read_resource("project://facts")).contents[0].text)
        assert facts["password_hash_column"] == "pw_digest"
        assert facts["preferred_utilities"] == ["utils_db/count_members.py"]
        assert "pw_digest" in (client.instructions or "")
    # The entry register wrote, as the client starts it (relative command, cwd = the root).
    registered = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=env, cwd=str(root)
    )
    async with Client(registered) as client:
        answer = await client.call_tool("introspect", {})
        assert not answer.is_error, answer.content
        assert "public.members" in json.dumps(answer.structured_content)
