"""Install the database-use skill where agent clients read skills, and register the MCP server.

Two services, both used by ``database-use install-skill`` / ``database-use register``:

- :func:`install_skill` copies ``skills/database-use/`` into a client's skills folder and writes a
  manifest of content hashes beside it, so a later run can tell "already up to date", "our older
  copy: update it" and "somebody edited the installed copy: refuse unless --force" apart.
- :func:`register` writes or merges this server's entry into a client's MCP config file. It keeps
  every other entry and key, writes a timestamped backup first, replaces the file atomically, and
  refuses to touch a file that is not valid JSON. The database URL never goes into a client
  config: the server reads it from the project's ``.env``.

Nothing here prints; results are dicts (the CLI formats them).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import site
import sys
import sysconfig
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from database_use.errors import InvalidRequest, NotFound

SKILL_NAME = "database-use"
SERVER_NAME = "database-use"
MANIFEST_NAME = ".database-use-install.json"
# Where the wheel's [tool.setuptools.data-files] puts the skill, relative to sys.prefix.
DATA_FILES_DIR = Path("share") / "database-use" / "skills" / SKILL_NAME

SKILL_TARGETS = ("claude", "roo", "agents")
CLIENTS = ("claude-code", "roo", "cursor", "claude-desktop", "vscode")
# Tools that only read (readOnlyHint=True on the server); clients may run them without asking.
# tests/test_installer.py checks this list against the live server's annotations.
READ_ONLY_TOOLS = ("introspect", "compare", "validate", "list_changes", "list_scripts", "doctor")
# Keys a client config must never carry for this server: the URL (and its password) stays in .env.
SECRET_ENV_KEYS = ("DATABASE_URL", "TEST_DATABASE_URL", "PGPASSWORD", "SQLALCHEMY_DATABASE_URI")
ROO_TIMEOUT_S = 120


# --------------------------------------------------------------------------- skill install
def skill_source_dir() -> Path:
    """The folder holding SKILL.md: the source checkout's, else the installed package data."""
    candidates = [Path(__file__).resolve().parent.parent / "skills" / SKILL_NAME]
    for prefix in (sys.prefix, sysconfig.get_config_var("userbase") or "", site.getuserbase()):
        if prefix:
            candidates.append(Path(prefix) / DATA_FILES_DIR)
    for candidate in candidates:
        if (candidate / "SKILL.md").is_file():
            return candidate
    raise NotFound(
        "the database-use skill files were not found",
        hint="reinstall the package, or run from a source checkout that has skills/database-use/",
    )


def skills_dir_for(
    target: str = "claude",
    scope: str = "user",
    *,
    home: Path | None = None,
    project_root: Path | None = None,
) -> Path:
    """The skills folder of ``target`` (claude|roo|agents, or a directory) in ``scope``."""
    if scope not in ("user", "project"):
        raise InvalidRequest(f"unknown scope '{scope}'; use user or project")
    if target in SKILL_TARGETS:
        base = (home or Path.home()) if scope == "user" else (project_root or Path.cwd())
        return Path(base).expanduser().resolve() / f".{target}" / "skills"
    if not target or target.startswith("-"):
        raise InvalidRequest(f"unknown target '{target}'; use claude, roo, agents or a directory")
    return Path(target).expanduser().resolve()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hashes(folder: Path) -> dict[str, str]:
    """Relative POSIX path -> SHA-256 of every regular file under ``folder`` (manifest excluded)."""
    hashes: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST_NAME and "__pycache__" not in path.parts:
            hashes[path.relative_to(folder).as_posix()] = _sha256(path)
    return hashes


def _read_manifest(dest: Path) -> dict[str, str] | None:
    try:
        data = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else None


def _changed_files(current: dict[str, str], reference: dict[str, str]) -> list[str]:
    names = set(current) | set(reference)
    return sorted(n for n in names if current.get(n) != reference.get(n))


def install_skill(
    target: str = "claude",
    scope: str = "user",
    *,
    force: bool = False,
    home: Path | None = None,
    project_root: Path | None = None,
    source: Path | None = None,
) -> dict[str, Any]:
    """Copy the skill folder to ``<skills dir>/database-use``; idempotent, guards local edits.

    Returns ``{status: installed|updated|up_to_date|replaced, path, source, files, ...}``.
    Raises InvalidRequest when the installed copy was modified locally and ``force`` is False.
    """
    src = Path(source) if source else skill_source_dir()
    src_hashes = _tree_hashes(src)
    dest = skills_dir_for(target, scope, home=home, project_root=project_root) / SKILL_NAME
    result: dict[str, Any] = {"path": str(dest), "source": str(src), "files": sorted(src_hashes)}
    if dest.exists() and not dest.is_dir():
        raise InvalidRequest(f"{dest} exists and is not a folder; move it away first")

    if dest.is_dir() and dest.resolve() == src.resolve():
        # A developer's symlink to the checkout: it is the source itself, nothing to copy.
        return {**result, "status": "up_to_date", "changed": [], "linked": True}
    if dest.is_dir():
        current = _tree_hashes(dest)
        manifest = _read_manifest(dest)
        if current == src_hashes:
            if manifest != src_hashes:
                _write_manifest(dest, src_hashes)
            return {**result, "status": "up_to_date", "changed": []}
        # What we installed last time (manifest) vs what is there now: a difference is a local edit.
        # No manifest at all means the copy did not come from us: treat it as the person's own.
        local_edits = _changed_files(current, manifest) if manifest is not None else sorted(current)
        if local_edits and not force:
            shown = ", ".join(local_edits[:5]) + (" ..." if len(local_edits) > 5 else "")
            raise InvalidRequest(
                f"{dest} was modified locally ({shown}); not overwriting it",
                hint="keep your edits elsewhere, then re-run with --force to replace them",
            )
        _replace_tree(src, dest)
        _write_manifest(dest, src_hashes)
        status = "replaced" if local_edits else "updated"
        return {
            **result,
            "status": status,
            "changed": _changed_files(current, src_hashes),
            "overwritten_local_edits": local_edits,
        }

    _replace_tree(src, dest)
    _write_manifest(dest, src_hashes)
    return {**result, "status": "installed", "changed": sorted(src_hashes)}


def _replace_tree(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` via a sibling temp folder and renames (never a half-written skill)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{SKILL_NAME}.new-", dir=dest.parent))
    try:
        shutil.copytree(
            src,
            staging,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", MANIFEST_NAME),
        )
        if dest.exists():
            old = dest.parent / f".{SKILL_NAME}.old-{os.getpid()}"
            _remove(old)
            dest.rename(old)  # a symlinked install is replaced by a real copy; its target stays
            staging.rename(dest)
            _remove(old)
        else:
            staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _write_manifest(dest: Path, hashes: dict[str, str]) -> None:
    manifest = {
        "skill": SKILL_NAME,
        "note": "written by `database-use install-skill`; used to detect local edits",
        "files": hashes,
    }
    _atomic_write(dest / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------- registration
def _platform_config_dir(home: Path, platform: str) -> Path:
    """The per-user application config folder (where Claude Desktop and VS Code keep theirs)."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform.startswith("win"):
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg and home == Path.home() else home / ".config"


def config_path_for(
    client: str,
    scope: str,
    *,
    project_root: Path,
    home: Path | None = None,
    platform: str | None = None,
) -> Path:
    """The config file ``client`` reads in ``scope`` (project or user)."""
    home = Path(home or Path.home())
    platform = platform or sys.platform
    if client not in CLIENTS:
        raise InvalidRequest(f"unknown client '{client}'; use one of {', '.join(CLIENTS)}")
    if client == "claude-desktop":
        if scope == "project":
            raise InvalidRequest("Claude Desktop has no project config; use --scope user")
        return _platform_config_dir(home, platform) / "Claude" / "claude_desktop_config.json"
    if scope == "project":
        return (
            project_root
            / {
                "claude-code": ".mcp.json",
                "roo": ".roo/mcp.json",
                "cursor": ".cursor/mcp.json",
                "vscode": ".vscode/mcp.json",
            }[client]
        )
    if scope != "user":
        raise InvalidRequest(f"unknown scope '{scope}'; use project or user")
    if client == "claude-code":
        return home / ".claude.json"  # user-scope servers live under its top-level mcpServers
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    code_user = _platform_config_dir(home, platform) / "Code" / "User"
    if client == "vscode":
        return code_user / "mcp.json"
    return (
        code_user
        / "globalStorage"
        / "rooveterinaryinc.roo-cline"
        / "settings"
        / "mcp_settings.json"
    )


def _site_dirs() -> set[Path]:
    dirs = {Path(p).resolve() for p in site.getsitepackages()}
    user_site = site.getusersitepackages()
    if user_site:
        dirs.add(Path(user_site).resolve())
    return dirs


def server_command(project_root: Path) -> dict[str, Any]:
    """How a client starts this server for ``project_root``: command, args and (maybe) env.

    Prefers the ``database-use-mcp`` console script next to the running Python (or on PATH);
    otherwise this Python with ``-m mcp_server``. From an uninstalled source checkout the
    package is not importable from elsewhere, so PYTHONPATH points at the checkout.
    """
    root = str(project_root)
    exe_name = "database-use-mcp.exe" if sys.platform.startswith("win") else "database-use-mcp"
    beside = Path(sys.executable).parent / exe_name
    found = str(beside) if beside.is_file() else shutil.which("database-use-mcp")
    if found:
        return {"command": str(Path(found).absolute()), "args": ["--project-root", root]}
    # Not resolved: a venv's python is a symlink and resolving it would leave the venv.
    spec = {
        "command": str(Path(sys.executable).absolute()),
        "args": ["-m", "mcp_server", "--project-root", root],
    }
    found_spec = importlib.util.find_spec("mcp_server")
    if found_spec and found_spec.origin:
        package_parent = Path(found_spec.origin).resolve().parent.parent
        if package_parent not in _site_dirs():
            spec["env"] = {"PYTHONPATH": str(package_parent)}
    return spec


# How each client's project-scoped config names the project folder without a machine path:
# VS Code and Cursor document ${workspaceFolder} in mcp.json; Claude Code starts project
# servers in the project folder, so "." is that folder.
PROJECT_ROOT_ARG = {
    "claude-code": ".",
    "cursor": "${workspaceFolder}",
    "vscode": "${workspaceFolder}",
    "roo": "${workspaceFolder}",
}
MCP_SCRIPT = "database-use-mcp"


def portable_command(client: str, project_root: Path) -> tuple[dict[str, Any], list[str]]:
    """A project-scoped entry's command: no absolute path of this machine, ever.

    The console script by name when the one on PATH is this install (pipx, uv tool, an active
    venv); a venv inside the project by its path relative to the project; otherwise the name
    anyway, with a note that it must be put on PATH.
    """
    notes: list[str] = []
    root_arg = PROJECT_ROOT_ARG[client]
    beside = Path(sys.executable).parent / MCP_SCRIPT
    on_path = shutil.which(MCP_SCRIPT)
    command = MCP_SCRIPT
    if beside.is_file() and not (on_path and Path(on_path).resolve() == beside.resolve()):
        if beside.absolute().is_relative_to(project_root):
            rel = beside.absolute().relative_to(project_root).as_posix()
            command = f"{root_arg}/{rel}" if root_arg != "." else f"./{rel}"
        else:
            notes.append(
                f"{MCP_SCRIPT} is not on PATH here: install the tool with `pipx install` or "
                "`uv tool install` (README, 'Use it in your project') so the client finds it"
            )
    return {"command": command, "args": ["--project-root", root_arg]}, notes


def server_entry(client: str, project_root: Path, scope: str = "user") -> dict[str, Any]:
    """The entry for this server in ``client``'s config (no secrets, ever).

    Project-scoped entries are portable (see :func:`portable_command`); user-level ones
    (Claude Desktop, ``--scope user``) may name this machine's paths.
    """
    if scope == "project":
        spec, _ = portable_command(client, project_root)
    else:
        spec = server_command(project_root)
    entry: dict[str, Any] = {}
    if client in ("vscode", "claude-code"):
        entry["type"] = "stdio"  # required by VS Code, written by `claude mcp add` too
    entry["command"] = spec["command"]
    entry["args"] = spec["args"]
    if "env" in spec:
        entry["env"] = spec["env"]
    if client == "roo":
        entry["cwd"] = PROJECT_ROOT_ARG["roo"] if scope == "project" else str(project_root)
        entry["alwaysAllow"] = list(READ_ONLY_TOOLS)
        entry["timeout"] = ROO_TIMEOUT_S
        entry["disabled"] = False
    return entry


def servers_key(client: str) -> str:
    return "servers" if client == "vscode" else "mcpServers"


def _merge_entry(old: Any, new: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Our keys win; the person's extra keys stay; secrets are removed from env."""
    notes: list[str] = []
    merged: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
    for key, value in new.items():
        if key == "env":
            continue
        if key == "alwaysAllow" and isinstance(merged.get(key), list):
            # Keep tools the person chose to allow on top of our read-only ones.
            value = list(value) + [t for t in merged[key] if t not in value]
        merged[key] = value
    env = dict(merged.get("env") or {}) if isinstance(merged.get("env"), dict) else {}
    for secret in SECRET_ENV_KEYS:
        if secret in env:
            del env[secret]
            notes.append(f"removed {secret} from the client config: the URL belongs in .env")
    env.update(new.get("env", {}))
    if env:
        merged["env"] = env
    else:
        merged.pop("env", None)
    return merged, notes


def register(
    client: str,
    scope: str | None = None,
    *,
    project_root: Path | str | None = None,
    dry_run: bool = False,
    force: bool = False,
    home: Path | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """Write or merge this server's entry into ``client``'s MCP config file.

    Returns ``{client, path, status: created|merged|unchanged, backup, entry, previous, dry_run,
    notes, content}``. Raises InvalidRequest (nothing written) when the file is not valid JSON,
    its servers key is not an object, or the entry there was customised (another command or
    arguments) and ``force`` is False.
    """
    if client not in CLIENTS:
        raise InvalidRequest(f"unknown client '{client}'; use one of {', '.join(CLIENTS)}")
    scope = scope or ("user" if client == "claude-desktop" else "project")
    root = Path(project_root or Path.cwd()).expanduser().resolve()
    if not root.is_dir():
        raise NotFound(f"project root {root} is not a folder")
    path = config_path_for(client, scope, project_root=root, home=home, platform=platform)
    key = servers_key(client)
    entry = server_entry(client, root, scope)
    start_notes = portable_command(client, root)[1] if scope == "project" else []

    config: dict[str, Any] = {}
    exists = path.is_file()
    if exists:
        text = path.read_text(encoding="utf-8")
        if text.strip():
            try:
                config = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidRequest(
                    f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    "nothing was written",
                    hint=f'fix it, or add by hand under "{key}": '
                    f'"{SERVER_NAME}": {json.dumps(entry)}',
                ) from None
        if not isinstance(config, dict):
            raise InvalidRequest(f"{path} does not hold a JSON object; nothing was written")
    servers = config.get(key, {})
    if not isinstance(servers, dict):
        raise InvalidRequest(f'"{key}" in {path} is not an object; nothing was written')

    previous = servers.get(SERVER_NAME)
    custom = [
        k
        for k in ("command", "args", "cwd")
        if isinstance(previous, dict) and k in previous and previous[k] != entry.get(k)
    ]
    customised = f'the "{SERVER_NAME}" entry in {path} was customised ({", ".join(custom)} differ)'
    if custom and not force and not dry_run:
        raise InvalidRequest(
            f"{customised}; nothing was written",
            hint="see the change with --dry-run; replace it with --force",
        )
    merged_entry, notes = _merge_entry(previous, entry)
    notes = start_notes + notes
    if custom and not force:
        notes.append(f"{customised}: writing it needs --force")
    result: dict[str, Any] = {
        "client": client,
        "scope": scope,
        "path": str(path),
        "key": key,
        "server": SERVER_NAME,
        "entry": merged_entry,
        "previous": previous,
        "dry_run": dry_run,
        "backup": None,
        "notes": notes,
    }
    if servers.get(SERVER_NAME) == merged_entry:
        return {**result, "status": "unchanged", "content": config}

    new_config = dict(config)  # key order of the file is kept; a new key goes last
    new_servers = dict(servers)
    new_servers[SERVER_NAME] = merged_entry
    new_config[key] = new_servers
    status = "merged" if exists else "created"
    result.update(status=status, content=new_config)
    if dry_run:
        return result
    if exists:
        result["backup"] = str(_backup(path))
    _atomic_write(path, json.dumps(new_config, indent=2, ensure_ascii=False) + "\n", like=path)
    return result


def _backup(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while backup.exists():  # two registrations within a second keep both backups
        backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1
    shutil.copy2(path, backup)  # copy2 keeps the mode: ~/.claude.json is private
    return backup


def _atomic_write(path: Path, text: str, like: Path | None = None) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if like is not None and like.exists():
            shutil.copymode(like, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
