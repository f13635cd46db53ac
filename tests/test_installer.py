"""install-skill and register: into a temporary HOME, never the developer's real one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from database_use import installer
from database_use.errors import InvalidRequest
from tests.conftest import REPO_ROOT

SKILL_SRC = REPO_ROOT / "skills" / "database-use"
INSPECTOR = REPO_ROOT / "utils_db" / "schema_inspector.py"


@pytest.fixture
def home(private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's private HOME (see conftest), without XDG overrides: the default layout."""
    home = private_home
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    assert Path.home() == home
    return home


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def no_secret(text: str) -> None:
    for key in installer.SECRET_ENV_KEYS:
        assert key not in text
    assert "postgresql://" not in text


# =========================================================================== install-skill
def test_install_default_is_claude_user_scope_and_copies_every_file(home):
    result = installer.install_skill()
    dest = home / ".claude" / "skills" / "database-use"
    assert result["status"] == "installed"
    assert Path(result["path"]) == dest
    copied = tree(dest)
    manifest = copied.pop(installer.MANIFEST_NAME)
    assert copied == tree(SKILL_SRC)
    assert "SKILL.md" in copied and any(k.startswith("references/") for k in copied)
    assert set(json.loads(manifest)["files"]) == set(copied)


def test_install_twice_is_idempotent(home):
    installer.install_skill()
    dest = home / ".claude" / "skills" / "database-use"
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*")}
    again = installer.install_skill()
    assert again["status"] == "up_to_date"
    assert again["changed"] == []
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*")} == before
    # No staging or old copies left beside it (a client would see them as skills).
    assert [p.name for p in dest.parent.iterdir()] == ["database-use"]


def test_local_edit_is_refused_without_force_and_replaced_with_force(home):
    installer.install_skill()
    skill_md = home / ".claude" / "skills" / "database-use" / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "\nmy local note\n")
    with pytest.raises(InvalidRequest, match="modified locally.*SKILL.md"):
        installer.install_skill()
    assert skill_md.read_text().endswith("my local note\n")  # untouched
    result = installer.install_skill(force=True)
    assert result["status"] == "replaced"
    assert result["overwritten_local_edits"] == ["SKILL.md"]
    assert skill_md.read_bytes() == (SKILL_SRC / "SKILL.md").read_bytes()
    assert installer.install_skill()["status"] == "up_to_date"


def test_added_or_deleted_file_counts_as_a_local_edit(home):
    installer.install_skill()
    dest = home / ".claude" / "skills" / "database-use"
    (dest / "references" / "mine.md").write_text("notes")
    with pytest.raises(InvalidRequest, match="mine.md"):
        installer.install_skill()
    (dest / "references" / "mine.md").unlink()
    next(dest.glob("references/*.md")).unlink()
    with pytest.raises(InvalidRequest, match="modified locally"):
        installer.install_skill()
    assert installer.install_skill(force=True)["status"] == "replaced"
    assert installer.install_skill()["status"] == "up_to_date"


def test_a_copy_without_manifest_is_not_ours_to_overwrite(home):
    dest = home / ".claude" / "skills" / "database-use"
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("---\nname: database-use\ndescription: someone's own\n---\n")
    with pytest.raises(InvalidRequest):
        installer.install_skill()
    assert "someone's own" in (dest / "SKILL.md").read_text()
    # An identical copy without manifest is simply adopted.
    shutil.rmtree(dest)
    shutil.copytree(SKILL_SRC, dest)
    assert installer.install_skill()["status"] == "up_to_date"
    assert (dest / installer.MANIFEST_NAME).is_file()


def test_new_version_updates_an_unmodified_copy_and_drops_stale_files(home, tmp_path):
    source = tmp_path / "src" / "database-use"
    shutil.copytree(SKILL_SRC, source)
    (source / "references" / "old.md").write_text("old")
    installer.install_skill(source=source)
    dest = home / ".claude" / "skills" / "database-use"
    assert (dest / "references" / "old.md").is_file()
    # A release later: old.md gone, SKILL.md changed. The installed copy was not edited.
    (source / "references" / "old.md").unlink()
    (source / "SKILL.md").write_text((source / "SKILL.md").read_text() + "\nnew line\n")
    result = installer.install_skill(source=source)
    assert result["status"] == "updated"
    assert set(result["changed"]) == {"SKILL.md", "references/old.md"}
    assert not (dest / "references" / "old.md").exists()
    assert (dest / "SKILL.md").read_text().endswith("new line\n")


@pytest.mark.parametrize(
    ("target", "scope", "where"),
    [
        ("claude", "user", "HOME/.claude/skills"),
        ("claude", "project", "PROJ/.claude/skills"),
        ("roo", "user", "HOME/.roo/skills"),
        ("roo", "project", "PROJ/.roo/skills"),
        ("agents", "user", "HOME/.agents/skills"),
        ("agents", "project", "PROJ/.agents/skills"),
    ],
)
def test_targets_and_scopes(home, proj, target, scope, where):
    expected = Path(where.replace("HOME", str(home)).replace("PROJ", str(proj.resolve())))
    result = installer.install_skill(target, scope, project_root=proj)
    assert Path(result["path"]) == expected / "database-use"
    assert (expected / "database-use" / "SKILL.md").is_file()


def test_target_directory(home, tmp_path):
    result = installer.install_skill(str(tmp_path / "custom"))
    assert Path(result["path"]) == tmp_path / "custom" / "database-use"
    assert (tmp_path / "custom" / "database-use" / "SKILL.md").is_file()


def test_skill_source_is_found_from_the_checkout():
    assert installer.skill_source_dir() == SKILL_SRC.resolve()


def run_cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "XDG_CONFIG_HOME")}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, str(INSPECTOR), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_install_skill_says_what_it_did(home, proj):
    first = run_cli("install-skill", home=home, cwd=proj)
    assert first.returncode == 0, first.stderr
    assert "installed the database-use skill" in first.stdout
    assert str(home / ".claude" / "skills" / "database-use") in first.stdout
    second = run_cli("install-skill", home=home, cwd=proj)
    assert second.returncode == 0
    assert "already up to date" in second.stdout
    (home / ".claude" / "skills" / "database-use" / "SKILL.md").write_text("mine")
    refused = run_cli("install-skill", home=home, cwd=proj)
    assert refused.returncode == 2
    assert "modified locally" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    forced = run_cli("install-skill", "--force", "--format", "json", home=home, cwd=proj)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["status"] == "replaced"


def test_cli_install_project_scope_uses_project_root(home, proj, tmp_path):
    result = run_cli(
        "install-skill",
        "--target",
        "roo",
        "--scope",
        "project",
        "--project-root",
        str(proj),
        home=home,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (proj / ".roo" / "skills" / "database-use" / "SKILL.md").is_file()


def test_console_entry_point_has_both_commands(home, proj, capsys):
    from database_use.cli.main import main

    assert main(["install-skill", "--project-root", str(proj)]) == 0
    assert "installed" in capsys.readouterr().out
    assert main(["register", "cursor", "--project-root", str(proj), "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert not (proj / ".cursor").exists()


# =========================================================================== register
EXISTING = {
    "someTopLevelSetting": {"keep": [1, 2, 3]},
    "mcpServers": {
        "other-server": {"command": "npx", "args": ["-y", "other"], "env": {"TOKEN": "x"}},
    },
}


def existing_for(client: str) -> dict:
    data = json.loads(json.dumps(EXISTING))
    if client == "vscode":
        data["servers"] = data.pop("mcpServers")
        data["servers"]["other-server"]["type"] = "stdio"
        data["inputs"] = [{"id": "token", "type": "promptString"}]
    return data


def config_file(client: str, proj: Path, home: Path) -> Path:
    scope = "user" if client == "claude-desktop" else "project"
    return installer.config_path_for(client, scope, project_root=proj.resolve(), home=home)


@pytest.mark.parametrize("client", installer.CLIENTS)
def test_register_merges_without_losing_entries(client, home, proj):
    path = config_file(client, proj, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.dumps(existing_for(client), indent=4)
    path.write_text(old)

    result = installer.register(client, project_root=proj)
    assert result["status"] == "merged"
    assert Path(result["path"]) == path
    data = json.loads(path.read_text())  # valid JSON
    key = "servers" if client == "vscode" else "mcpServers"
    expected_old = existing_for(client)
    for k, v in expected_old.items():  # every other key and entry kept, unchanged
        if k != key:
            assert data[k] == v
    assert data[key]["other-server"] == expected_old[key]["other-server"]
    entry = data[key]["database-use"]
    no_secret(json.dumps(entry))
    if client == "claude-desktop":  # user-level: this machine's paths are fine there
        assert entry["args"][-2:] == ["--project-root", str(proj.resolve())]
        assert Path(entry["command"]).is_absolute()
    else:  # project-scoped, committed by teams: nothing of this machine in it
        assert entry["args"][-2:] == ["--project-root", installer.PROJECT_ROOT_ARG[client]]
        assert entry["command"] == "database-use-mcp"
        text = path.read_text()
        for machine_path in (str(proj.resolve()), sys.prefix, str(REPO_ROOT), str(home)):
            assert machine_path not in text
    if client == "vscode":
        assert entry["type"] == "stdio" and entry["args"][-1] == "${workspaceFolder}"
    if client == "roo":
        assert entry["alwaysAllow"] == list(installer.READ_ONLY_TOOLS)
        assert entry["cwd"] == "${workspaceFolder}"
    # The backup holds exactly the old file.
    assert Path(result["backup"]).read_text() == old
    assert Path(result["backup"]).parent == path.parent


@pytest.mark.parametrize("client", installer.CLIENTS)
def test_register_creates_and_is_idempotent(client, home, proj):
    path = config_file(client, proj, home)
    first = installer.register(client, project_root=proj)
    assert first["status"] == "created" and first["backup"] is None
    content = path.read_bytes()
    second = installer.register(client, project_root=proj)
    assert second["status"] == "unchanged"
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir() if ".bak-" in p.name) == []


@pytest.mark.parametrize("client", installer.CLIENTS)
def test_register_refuses_invalid_json(client, home, proj):
    path = config_file(client, proj, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    broken = '{\n  // a comment\n  "mcpServers": {}\n}\n'
    path.write_text(broken)
    with pytest.raises(InvalidRequest, match=r"not valid JSON \(line 2"):
        installer.register(client, project_root=proj)
    assert path.read_text() == broken
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no backup, no temp file


def test_register_refuses_non_object_servers(home, proj):
    (proj / ".mcp.json").write_text('{"mcpServers": ["nope"]}')
    with pytest.raises(InvalidRequest, match="not an object"):
        installer.register("claude-code", project_root=proj)
    (proj / ".mcp.json").write_text("[1, 2]")
    with pytest.raises(InvalidRequest, match="JSON object"):
        installer.register("claude-code", project_root=proj)


def test_register_strips_a_database_url_someone_put_there(home, proj):
    (proj / ".cursor").mkdir()
    (proj / ".cursor" / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "database-use": {
                        "command": "old",
                        "env": {"DATABASE_URL": "postgresql://u:secret@h:5433/d", "X": "1"},
                        "disabled": True,
                    }
                }
            }
        )
    )
    with pytest.raises(InvalidRequest, match="customised"):  # "old" is not our command
        installer.register("cursor", project_root=proj)
    result = installer.register("cursor", project_root=proj, force=True)
    text = (proj / ".cursor" / "mcp.json").read_text()
    no_secret(text)
    assert "secret" not in text
    entry = json.loads(text)["mcpServers"]["database-use"]
    assert entry["env"]["X"] == "1" and entry["disabled"] is True  # the person's keys stay
    assert entry["command"] != "old"
    assert any("DATABASE_URL" in n for n in result["notes"])


def test_register_keeps_extra_always_allow_tools(home, proj):
    (proj / ".roo").mkdir()
    (proj / ".roo" / "mcp.json").write_text(
        json.dumps(
            {"mcpServers": {"database-use": {"command": "x", "alwaysAllow": ["generate_docs"]}}}
        )
    )
    installer.register("roo", project_root=proj, force=True)
    entry = json.loads((proj / ".roo" / "mcp.json").read_text())["mcpServers"]["database-use"]
    assert entry["alwaysAllow"] == [*installer.READ_ONLY_TOOLS, "generate_docs"]


def test_register_dry_run_writes_nothing(home, proj):
    result = installer.register("vscode", project_root=proj, dry_run=True)
    assert result["status"] == "created" and result["dry_run"]
    assert result["content"]["servers"]["database-use"]["type"] == "stdio"
    assert not (proj / ".vscode").exists()


@pytest.mark.parametrize(
    ("platform", "rel"),
    [
        ("linux", ".config/Claude/claude_desktop_config.json"),
        ("darwin", "Library/Application Support/Claude/claude_desktop_config.json"),
    ],
)
def test_claude_desktop_config_location(home, proj, platform, rel):
    assert (
        installer.config_path_for(
            "claude-desktop", "user", project_root=proj, home=home, platform=platform
        )
        == home / rel
    )
    with pytest.raises(InvalidRequest, match="no project config"):
        installer.register("claude-desktop", "project", project_root=proj)


def test_user_scope_locations(home, proj):
    def where(client: str) -> Path:
        return installer.config_path_for(
            client, "user", project_root=proj, home=home, platform="linux"
        )

    assert where("claude-code") == home / ".claude.json"
    assert where("cursor") == home / ".cursor" / "mcp.json"
    assert where("vscode") == home / ".config" / "Code" / "User" / "mcp.json"
    assert where("roo").name == "mcp_settings.json"


def test_register_keeps_private_file_mode(home, proj):
    path = home / ".claude.json"
    path.write_text(json.dumps({"projects": {}, "mcpServers": {}}))
    path.chmod(0o600)
    result = installer.register("claude-code", "user", project_root=proj)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Path(result["backup"]).stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["projects"] == {}


@pytest.mark.parametrize("client", ["claude-code", "cursor", "vscode", "roo"])
def test_a_customised_entry_is_replaced_only_with_force(client, home, proj):
    path = config_file(client, proj, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = installer.servers_key(client)
    mine = {"command": "uvx", "args": ["--from", "git+https://example/db-use", "database-use-mcp"]}
    path.write_text(json.dumps({key: {"database-use": mine}}))
    before = path.read_text()
    with pytest.raises(InvalidRequest, match="was customised"):
        installer.register(client, project_root=proj)
    assert path.read_text() == before
    done = run_cli("register", client, "--project-root", str(proj), home=home, cwd=proj)
    assert done.returncode == 2 and "--force" in done.stderr and path.read_text() == before
    dry = run_cli("register", client, "--project-root", str(proj), "--dry-run", home=home, cwd=proj)
    assert (
        dry.returncode == 0 and "replacing:" in dry.stdout and "git+https://example" in dry.stdout
    )
    assert "writing it needs --force" in dry.stdout and path.read_text() == before
    forced = installer.register(client, project_root=proj, force=True)
    assert forced["previous"] == mine
    assert json.loads(path.read_text())[key]["database-use"]["command"] == "database-use-mcp"


def test_a_venv_inside_the_project_is_named_relative_to_it(tmp_path, monkeypatch):
    root = tmp_path / "app"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "database-use-mcp").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(root / ".venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    spec, notes = installer.portable_command("vscode", root)
    assert spec == {
        "command": "${workspaceFolder}/.venv/bin/database-use-mcp",
        "args": ["--project-root", "${workspaceFolder}"],
    }
    assert (
        installer.portable_command("claude-code", root)[0]["command"]
        == "./.venv/bin/database-use-mcp"
    )
    assert notes == []


def test_cli_register_refusal_is_one_line(home, proj):
    (proj / ".mcp.json").write_text("{broken")
    result = run_cli("register", "claude-code", "--project-root", str(proj), home=home, cwd=proj)
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert (proj / ".mcp.json").read_text() == "{broken"


def test_cli_register_writes_and_reports_backup(home, proj):
    (proj / ".mcp.json").write_text(json.dumps(EXISTING))
    result = run_cli("register", "claude-code", "--project-root", str(proj), home=home, cwd=proj)
    assert result.returncode == 0, result.stderr
    assert "merged" in result.stdout and "backup of the previous file" in result.stdout
    assert "postgresql://" not in result.stdout
    assert "other-server" in json.loads((proj / ".mcp.json").read_text())["mcpServers"]


# =========================================================================== against the server
def server_tools_with_annotations():
    pytest.importorskip("mcp_server.server")
    import anyio
    from mcp import Client

    from mcp_server.server import build_server

    async def listing():
        server = build_server(REPO_ROOT, "postgresql://nobody@127.0.0.1:1/none")
        async with Client(server, raise_exceptions=True) as client:
            return (await client.list_tools()).tools

    return anyio.run(listing)


def test_read_only_tools_match_the_server_annotations():
    tools = server_tools_with_annotations()
    read_only = {t.name for t in tools if t.annotations and t.annotations.read_only_hint}
    assert set(installer.READ_ONLY_TOOLS) == read_only


@pytest.mark.parametrize("name", [".roo/mcp.json", ".mcp.json"])
def test_repo_client_configs(name):
    text = (REPO_ROOT / name).read_text()
    no_secret(text)
    entry = json.loads(text)["mcpServers"]["database-use"]
    assert entry["args"] == ["-m", "mcp_server", "--project-root", "."]
    if name == ".roo/mcp.json":
        assert entry["alwaysAllow"] == list(installer.READ_ONLY_TOOLS)
        assert "cwd" in entry and entry["timeout"] > 0


@pytest.mark.anyio
async def test_registered_entry_starts_the_server_with_the_url_from_dotenv(
    home, proj, example_db_url, tmp_path
):
    """The entry as a client would run it: no DATABASE_URL in it, the server reads .env."""
    from mcp import Client, StdioServerParameters

    (proj / ".env").write_text(f"DATABASE_URL={example_db_url}\n")
    result = installer.register("claude-desktop", project_root=proj)
    entry = json.loads(Path(result["path"]).read_text())["mcpServers"]["database-use"]
    no_secret(json.dumps(entry))
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=entry.get("env"), cwd=str(tmp_path)
    )
    async with Client(params) as client:
        answer = await client.call_tool("introspect", {})
    assert not answer.is_error, answer.content
    text = json.dumps(answer.structured_content or [c.model_dump() for c in answer.content])
    assert "users" in text and "media" in text


def test_a_symlink_to_the_source_is_left_alone(home, tmp_path):
    source = tmp_path / "src" / "database-use"
    shutil.copytree(SKILL_SRC, source)
    skills = home / ".claude" / "skills"
    skills.mkdir(parents=True)
    (skills / "database-use").symlink_to(source)
    result = installer.install_skill(source=source)
    assert result["status"] == "up_to_date" and result.get("linked")
    assert not (source / installer.MANIFEST_NAME).exists()  # nothing written into the source


def test_force_replaces_a_symlinked_foreign_copy_without_touching_its_target(home, tmp_path):
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "SKILL.md").write_text("theirs")
    skills = home / ".claude" / "skills"
    skills.mkdir(parents=True)
    (skills / "database-use").symlink_to(other)
    with pytest.raises(InvalidRequest):
        installer.install_skill()
    assert installer.install_skill(force=True)["status"] == "replaced"
    assert not (skills / "database-use").is_symlink()
    assert (other / "SKILL.md").read_text() == "theirs"
    assert sorted(p.name for p in skills.iterdir()) == ["database-use"]
