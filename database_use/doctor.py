"""``doctor``: which tier of the threat model this setup gives, and what closes each gap.

One engine function, :func:`diagnose`, behind ``database-use doctor`` and the MCP tool
``doctor``; :func:`startup_notes` is its cheap subset for the server's start-up lines (no
database round trip). The tiers are ``/work/shared/DESIGN.md``'s:

* **T1** (a careful agent): always; the tools enforce the workflow.
* **T2** (an agent confined to the project): only when every check marked ``blocks_t2``
  holds: agent code sandboxed, read-only runs on a role PostgreSQL stops from writing, the
  person's config outside the project, and the guard itself not project code (the engine
  outside the project root, registered commands that keep the project off ``sys.path``).
* **T3** (an agent with a shell as the same user): only when ``DATABASE_URL``'s role cannot
  change the schema (:func:`database_use.strict.schema_changers` is empty: PostgreSQL itself
  refuses its DDL) and the sandbox is on. Nothing file-based counts here: such an agent can
  edit every file the person can, including the person's ``[strict] required`` setting.

Standard mode (``DATABASE_URL`` names the owner) stays T1/T2 and says so: it guards a careful
agent, not one with a shell, which can connect with the URL in ``.env`` and run any DDL.

Each check is ``ok``, ``gap`` (exit code 1; with the command or step that closes it) or
``info`` (a fact or a choice the person made). Nothing here prints a password: URLs are
masked, role problems come from the catalogs.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import database_use
from database_use import hints, policy, roles, sandbox, strict
from database_use.config import read_pyproject
from database_use.errors import DatabaseUseError
from database_use.installer import SERVER_NAME
from database_use.project import Project
from database_use.settings import database_url as env_database_url
from database_use.settings import mask_url

OK, GAP, INFO = "ok", "gap", "info"
TOOL_NAME = "database-use"  # [project].name of this tool's own repository
HTTP_TOKEN_FILE = "http-token"  # written by mcp_server/http_auth.py into policy.config_dir()
# Client configs a project may carry, and the key holding their servers.
CLIENT_CONFIGS = {
    ".mcp.json": "mcpServers",
    ".roo/mcp.json": "mcpServers",
    ".cursor/mcp.json": "mcpServers",
    ".vscode/mcp.json": "servers",
}
# Interpreter options that keep the current directory off sys.path (-I isolated, -P safe path).
_SAFE_PATH_FLAGS = ("-I", "-P")
_CODE_ENV = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "LD_PRELOAD")
_MOVED_ENV = ("HOME", "XDG_CONFIG_HOME")  # honoured by other tools, ignored by this one
T2_TEXT = (
    "an agent confined to the project (an MCP-only client, or a shell sandboxed to the project "
    "folder) cannot approve, apply or write anything through these tools or project files"
)
T1_TEXT = "the tools enforce the workflow for a careful agent"
T3_TEXT = (
    "an agent with a shell as your user cannot change the schema: DATABASE_URL's role lacks the "
    "privileges (PostgreSQL refuses its DDL whatever files it edits) and agent-written code runs "
    "sandboxed; a schema change needs the owner role's password, which only you hold"
)
STANDARD_TEXT = (
    "standard mode guards a careful agent, not one with a shell: such an agent can read .env "
    "and connect with DATABASE_URL directly"
)


@dataclass(frozen=True)
class Check:
    """One finding: a stable key, its state, one line of detail and how to close it."""

    key: str
    title: str
    status: str  # ok | gap | info
    detail: str
    fix: str | None = None
    blocks_t2: bool = False  # this finding keeps the setup at T1


def diagnose(
    project: Project,
    *,
    connect: bool = True,
    transport: str | None = None,
    role_check: bool | None = None,
) -> dict:
    """Every check, the tier they give and the number of gaps (``ok`` when there is none).

    ``connect``: ask the database what its roles can do (doctor); False for the server's
    start-up line and introspect's header, which then ask only what DATABASE_URL's role may
    do (``role_check``, default: ``connect``; one short read). ``transport``: the running
    server's.
    """
    development = is_development(project.root)
    ask_role = connect if role_check is None else role_check
    found, failure = _abilities(project) if ask_role else (None, None)
    sandbox_check = _sandbox(project)
    required = strict.required()
    strict_check = _strict(project, found, failure, required)
    checks = [
        sandbox_check,
        _config_dir(project),
        _approver(project),
        _elicitation(project),
        *_environment(),
        _engine_location(project.root, development),
        *_registered_commands(project, development),
        _http_token(project, transport),
        *_database(project, connect, found, failure),
        *_dotenv_note(project),
        strict_check,
        *_agent_role(found, required),
    ]
    blockers = [c for c in checks if c.blocks_t2]
    t3 = found is not None and not found.changers and sandbox_check.status == OK
    if t3:
        tier, summary = "T3", "T3: " + T3_TEXT
        if blockers:
            summary += "; T2's file guards still have gaps: " + "; ".join(c.title for c in blockers)
    elif blockers:
        tier = "T1"
        summary = "T1: " + T1_TEXT + "; not T2 because of: " + "; ".join(c.title for c in blockers)
    else:
        tier, summary = "T2", "T2: " + T2_TEXT
    if not t3:
        summary += ". Not T3: " + _not_t3(found, failure, sandbox_check)
    gaps = sum(c.status == GAP for c in checks)
    return {
        "tier": tier,
        "summary": summary,
        "strict_required": required,
        "agent_role": found.to_dict() if found is not None else None,
        "ok": gaps == 0,
        "gaps": gaps,
        "development": development,
        "project_root": str(project.root),
        "checks": [asdict(c) for c in checks],
    }


def tier_line(result: dict, project: Project) -> str:
    """One line: the tier, what keeps it from the next one, where the details are."""
    blockers = [c for c in result["checks"] if c["blocks_t2"]]
    line = f"tier {result['tier']}"
    if result["tier"] == "T3":
        line += f" (strict: {result['agent_role']['role']!r} cannot change the schema; sandbox on)"
    elif blockers:
        line += " (T2 needs: " + "; ".join(c["title"] for c in blockers) + ")"
    else:
        line += " (T3 needs: " + result["summary"].split(". Not T3: ", 1)[-1] + ")"
    return line + f"; details: {hints.command(project, 'doctor')}"


def header(project: Project) -> str:
    """The tier line for introspect's answer (no client-config or HTTP details needed)."""
    return tier_line(diagnose(project, connect=False, role_check=True), project)


_HEADER_SECONDS = 10.0
_headers: dict[tuple[str, str], tuple[float, str]] = {}


def cached_header(project: Project) -> str:
    """:func:`header`, reused for a few seconds (introspect is called often in a session)."""
    import time

    try:
        key = (str(project.root), project.database_url)
    except DatabaseUseError:
        return header(project)
    now = time.monotonic()
    hit = _headers.get(key)
    if hit is None or now - hit[0] > _HEADER_SECONDS:
        hit = (now, header(project))
        _headers[key] = hit
    return hit[1]


def startup_notes(project: Project, transport: str) -> list[tuple[str, str]]:
    """(level, line) for the server's stderr at start: the tier, the strict-mode refusal (an
    ``error`` line), and the guard-code warning."""
    result = diagnose(project, connect=False, transport=transport, role_check=True)
    notes = [("info", tier_line(result, project))]
    agent = result["agent_role"]
    if result["strict_required"] and agent and agent["can_change_schema"]:
        notes.append(("error", strict.refusal(agent["role"], agent["schema_changers"])))
    engine = next(c for c in result["checks"] if c["key"] == "engine_location")
    if engine["status"] == GAP:
        notes.append(("warning", engine["detail"]))
    return notes


# -- development ---------------------------------------------------------------------------------
def engine_dir() -> Path:
    return Path(database_use.__file__).resolve().parent


def is_development(root: Path) -> bool:
    """The project is this tool's own checkout, running itself: ``[project].name`` is
    database-use *and* the engine that runs is ``<root>/database_use``. A project that only
    claims the name gains nothing: the engine under the root keeps the tier at T1 either way."""
    try:
        data = read_pyproject(root / "pyproject.toml")
    except DatabaseUseError:
        return False
    name = (data.get("project") or {}).get("name") if isinstance(data, dict) else None
    return name == TOOL_NAME and engine_dir() == (root / "database_use").resolve()


def _under(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


# -- the checks ----------------------------------------------------------------------------------
def _sandbox(project: Project) -> Check:
    state = sandbox.status(project.root)
    if state.enabled:
        return Check(
            "sandbox",
            "sandbox",
            OK,
            "bubblewrap: drafts, utils_db scripts and the models load run sandboxed",
            blocks_t2=False,
        )
    if state.reason == sandbox.NOT_SANDBOXED:
        return Check(
            "sandbox",
            "sandbox",
            GAP,
            f"turned off in {policy.config_path()}: agent-written code runs as you, unconfined",
            fix=f'remove sandbox = "off" from {policy.config_path()}',
            blocks_t2=True,
        )
    return Check("sandbox", "sandbox", GAP, state.reason, fix=sandbox.INSTALL_HINT, blocks_t2=True)


def _config_dir(project: Project) -> Check:
    folder = policy.config_dir()
    if _under(folder, project.root):
        return Check(
            "config_dir",
            "your config outside the project",
            GAP,
            f"{folder} is inside the project: project files would hold your policy and key",
            fix="keep projects out of the account's home folder itself",
            blocks_t2=True,
        )
    try:
        mode = folder.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = None
    if mode is not None and mode & 0o022:
        return Check(
            "config_dir",
            "your config outside the project",
            GAP,
            f"{folder} is writable by other users (mode {mode:o})",
            fix=f"chmod 700 {shlex.quote(str(folder))}",
            blocks_t2=True,
        )
    return Check(
        "config_dir",
        "your config outside the project",
        OK,
        f"{folder} (from your OS account; HOME, XDG_CONFIG_HOME and .env cannot move it)",
    )


def _approver(project: Project) -> Check:
    # imported here: approvals loads argon2 and cryptography (~25-55 ms), which introspect's
    # tier line and the server's start-up line do not otherwise need
    from database_use import approvals

    if approvals.approver_exists():
        return Check("approver", "approver passphrase", OK, f"set up ({approvals.approver_path()})")
    return Check(
        "approver",
        "approver passphrase",
        GAP,
        "not set up: nobody can approve a change or a write at a terminal yet",
        fix=hints.command(project, "approver", "setup"),
    )


def _elicitation(project: Project) -> Check:
    try:
        chosen = policy.load_policy()
    except DatabaseUseError as exc:
        return Check(
            "elicitation",
            "client dialogs",
            GAP,
            f"your config cannot be read ({exc}); dialogs and the default lifetime apply",
            fix=f"fix or remove {policy.config_path()}",
        )
    if chosen.elicitation_allowed:
        return Check(
            "elicitation",
            "client dialogs",
            INFO,
            "allowed (your choice): an accept in the MCP client's dialog applies a change; "
            "never let the client accept dialogs by itself",
            fix=f"to turn off: {hints.command(project, 'approver', 'setup', '--replace')}",
        )
    return Check(
        "elicitation",
        "client dialogs",
        OK,
        "cannot approve (the default, or your choice): approvals come from your terminal",
    )


def _environment() -> list[Check]:
    home = policy.person_home().resolve()
    usual = {"HOME": home, "XDG_CONFIG_HOME": home / ".config"}
    moved = {
        k: os.environ[k]
        for k in _MOVED_ENV
        if os.environ.get(k) and Path(os.environ[k]).resolve() != usual[k]
    }
    if not moved:
        return []
    names = ", ".join(f"{k}={v}" for k, v in moved.items())
    return [
        Check(
            "environment",
            "environment",
            INFO,
            f"{names} ignored: your config follows your OS account ({policy.config_dir()})",
        )
    ]


def _engine_location(root: Path, development: bool) -> Check:
    places = {"engine": engine_dir(), "Python environment": Path(sys.prefix)}
    inside = [f"{what} {path}" for what, path in places.items() if _under(path, root)]
    if not inside:
        return Check(
            "engine_location",
            "guard code outside the project",
            OK,
            f"the engine runs from {engine_dir()}, outside the project",
        )
    where = ", ".join(inside)
    if development:
        return Check(
            "engine_location",
            "guard code outside the project",
            INFO,
            f"development checkout of database-use: {where} is this project's own code, so an "
            "agent working here can change the guards (T1)",
            blocks_t2=True,
        )
    return Check(
        "engine_location",
        "guard code outside the project",
        GAP,
        f"the guard code sits under the project root it guards ({where}): an agent that edits "
        "project files can change it",
        fix="install database-use outside the project (pipx install database-use, or "
        "uv tool install database-use) and register it again",
        blocks_t2=True,
    )


def _registered_commands(project: Project, development: bool) -> list[Check]:
    found: list[Check] = []
    for rel, key in CLIENT_CONFIGS.items():
        path = project.root / rel
        if not path.is_file():
            continue
        try:
            servers = json.loads(path.read_text(encoding="utf-8")).get(key) or {}
            entry = servers.get(SERVER_NAME)
        except (OSError, ValueError, AttributeError):
            found.append(Check(f"registered:{rel}", rel, INFO, "not valid JSON; not checked"))
            continue
        if not isinstance(entry, dict):
            continue
        env = entry.get("env") if isinstance(entry.get("env"), dict) else {}
        moved = [k for k in _MOVED_ENV if k in env]
        if moved:
            found.append(
                Check(
                    f"registered_env:{rel}",
                    f"env in {rel}",
                    INFO,
                    f"sets {', '.join(moved)}: ignored, your config follows your OS account",
                )
            )
        problems = entry_problems(entry, project.root)
        if not problems:
            found.append(
                Check(
                    f"registered:{rel}", rel, OK, "starts the installed tool, project off sys.path"
                )
            )
            continue
        fix = (
            "install the tool outside the project (pipx / uv tool install), then "
            + hints.command(project, "register", _client_of(rel))
        )
        found.append(
            Check(
                f"registered:{rel}",
                f"registered in {rel}",
                INFO if development else GAP,
                "; ".join(problems),
                fix=None if development else fix,
                blocks_t2=True,
            )
        )
    return found


def _client_of(rel: str) -> str:
    return {
        ".mcp.json": "claude-code",
        ".roo/mcp.json": "roo",
        ".cursor/mcp.json": "cursor",
        ".vscode/mcp.json": "vscode",
    }[rel]


def entry_problems(entry: dict[str, Any], root: Path) -> list[str]:
    """Why a registered server entry would run project code (empty: it runs the installed tool)."""
    problems: list[str] = []
    command = str(entry.get("command") or "")
    args = [str(a) for a in entry.get("args") or []]
    if not command:
        return ["no command"] if "url" not in entry else []
    expanded = command.replace("${workspaceFolder}", str(root))
    if "/" in expanded:
        program = Path(expanded) if os.path.isabs(expanded) else root / expanded
    else:
        located = shutil.which(expanded)
        program = Path(located) if located else None
    # Not resolved: a venv's python is a symlink out of the venv, but its site-packages are not.
    if program is not None and (program.absolute().is_relative_to(root) or _under(program, root)):
        problems.append(f"runs {command}, a program inside the project (agent-editable)")
    is_python = Path(expanded).name.startswith("python")
    if is_python and "-m" in args and not any(a in _SAFE_PATH_FLAGS for a in args):
        problems.append(
            f"`{command} -m …` puts the current directory (the project) first on sys.path: "
            "a module file the agent writes there runs inside the server"
        )
    env = entry.get("env") if isinstance(entry.get("env"), dict) else {}
    for name in _CODE_ENV:
        if env.get(name):
            problems.append(f"env sets {name}: code from there runs inside the server")
    return problems


def _http_token(project: Project, transport: str | None) -> Check:
    token = policy.config_dir() / HTTP_TOKEN_FILE
    used = transport == "streamable-http" or token.exists()
    if not used:
        return Check("http_token", "HTTP token", INFO, "HTTP transport not used (stdio)")
    try:
        stat = token.stat()
    except FileNotFoundError:
        if transport == "streamable-http":  # the server writes it before it listens
            return Check("http_token", "HTTP token", OK, "made at start")
        return Check("http_token", "HTTP token", INFO, "no token yet: made at the next start")
    if stat.st_mode & 0o077 or stat.st_uid != os.getuid():
        return Check(
            "http_token",
            "HTTP token",
            GAP,
            f"{token} is readable by others or not yours: any local user could call the tools",
            fix=f"rm {shlex.quote(str(token))} and start the server again (it makes a new one)",
            blocks_t2=True,
        )
    return Check(
        "http_token",
        "HTTP token",
        OK,
        f"HTTP requests need the bearer token ({token}, 0600; a new one at every start)",
    )


def _dotenv_note(project: Project) -> list[Check]:
    try:
        text = (project.root / ".env").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if not any(
        line.strip().removeprefix("export ").startswith("DATABASE_URL")
        for line in text.splitlines()
    ):
        return []
    return [
        Check(
            "dotenv_url",
            "DATABASE_URL in .env",
            INFO,
            "an agent that can read project files (a file tool, a shell inside the project) has "
            "this URL and can connect with it directly, not through these tools: T2 covers our "
            "tools and files the agent writes; a role that cannot change the schema is strict "
            "mode's (T3)",
        )
    ]


def _readonly_env(project: Project) -> str | None:
    try:
        return env_database_url(project.root, roles.ENV_KEY)
    except DatabaseUseError:
        return None


def _abilities(project: Project) -> tuple[strict.Abilities | None, str | None]:
    """What DATABASE_URL's role can do, or why that is unknown (one line)."""
    try:
        url = project.database_url
        return strict.abilities(url, project.config.sensitive_columns), None
    except DatabaseUseError as exc:
        return None, mask_url(str(exc))


def _not_t3(found: strict.Abilities | None, failure: str | None, sandbox_check: Check) -> str:
    if found is None:
        return f"DATABASE_URL's role not checked ({failure or 'no database round trip'})"
    reasons = []
    if found.changers:
        reasons.append(
            f"DATABASE_URL's role {found.report.role!r} can change the schema "
            f"({'; '.join(found.changers)})"
        )
    if sandbox_check.status != OK:
        reasons.append("the sandbox is off")
    return " and ".join(reasons)


def _strict(
    project: Project, found: strict.Abilities | None, failure: str | None, required: bool
) -> Check:
    setup = hints.command(project, "roles", "setup")
    fix = f"{setup} (on your terminal, with an admin credential)"
    mode = "strict mode required in your config" if required else "standard mode"
    if found is None:
        return Check(
            "strict_mode",
            "strict mode (T3)",
            GAP if required else INFO,
            f"{mode}; DATABASE_URL's role not checked: {failure or 'no database round trip'}",
        )
    if found.changers:
        return Check(
            "strict_mode",
            "strict mode (T3)",
            GAP if required else INFO,
            f"{mode}: DATABASE_URL's role {found.report.role!r} can change the schema "
            f"({'; '.join(found.changers)}); {STANDARD_TEXT}"
            + ("; the MCP server refuses it" if required else ""),
            fix=fix,
        )
    return Check(
        "strict_mode",
        "strict mode (T3)",
        OK,
        f"DATABASE_URL's role {found.report.role!r} cannot change the schema (PostgreSQL's own "
        "privileges, checked in its catalogs; your [strict] setting is not the guard)",
    )


def _agent_role(found: strict.Abilities | None, required: bool) -> list[Check]:
    """What the agent's role may do: one line, plus the sensitive columns it can read."""
    if found is None:
        return []
    flags = found.report.flags
    ddl = [t for t in found.changers if t not in (roles.PROBLEMS["superuser"],)]
    parts = [
        "superuser" if flags.get("superuser") else "no superuser",
        "owns tables" if flags.get("owns_relation") else "owns no table",
        ("DDL: " + "; ".join(ddl)) if ddl else "no DDL",
        (f"DML on {len(found.dml_tables)} table(s): " + ", ".join(found.dml_tables[:8]))
        + (" …" if len(found.dml_tables) > 8 else "")
        if found.dml_tables
        else "no DML",
        "server files/programs" if flags.get("server_roles") else "no server files or programs",
    ]
    checks = [
        Check(
            "agent_role",
            "DATABASE_URL's role can",
            INFO,
            f"role {found.report.role!r}: " + ", ".join(parts),
        )
    ]
    if found.sensitive_readable:
        shown = ", ".join(found.sensitive_readable[:8])
        checks.append(
            Check(
                "sensitive_columns",
                "sensitive columns",
                GAP if required or not found.changers else INFO,
                f"role {found.report.role!r} can read {shown}",
                fix="revoke SELECT on the table and grant it on the other columns, e.g. "
                "REVOKE SELECT ON <table> FROM <role>; GRANT SELECT (<other columns>) ON "
                "<table> TO <role> (roles setup does this for the tables it finds)",
            )
        )
    else:
        checks.append(
            Check(
                "sensitive_columns",
                "sensitive columns",
                OK,
                f"role {found.report.role!r} cannot read any configured sensitive column",
            )
        )
    return checks


def _database(
    project: Project,
    connect: bool,
    found: strict.Abilities | None = None,
    failure: str | None = None,
) -> list[Check]:
    checks: list[Check] = []
    setup = hints.command(project, "roles", "readonly-setup")
    admin_url = None
    try:
        admin_url = project.database_url
    except DatabaseUseError as exc:
        checks.append(Check("database_url", "DATABASE_URL", GAP, str(exc), fix="set it in .env"))
    ro_url = _readonly_env(project)
    admin = found.report if found is not None else None
    if connect and admin_url and failure:
        checks.append(Check("database_url", "DATABASE_URL", GAP, failure, fix="start it"))
    if connect and admin is not None:
        checks.append(_admin_check(admin, project.masked_url))
    if not ro_url:
        can = f" (DATABASE_URL's role {admin.role!r} {'; '.join(admin.problems)})" if admin else ""
        fix = setup
        if found is not None and not found.changers:  # strict: the agent's role makes no roles
            fix = (
                f"in your own shell, with an admin URL that never goes into .env: DATABASE_URL=… "
                f"{setup} (the environment wins over .env)"
            )
        elif admin is not None and not admin.may_create_roles:
            fix = f"ask the database's owner to run the SQL that `{setup} --dry-run` shows"
        checks.append(
            Check(
                "readonly_role",
                "read-only role",
                GAP,
                "DATABASE_READONLY_URL not set: read-only runs get DATABASE_URL with a session "
                f"default any script can switch off{can}",
                fix=fix,
                blocks_t2=True,
            )
        )
        return checks
    if not connect:
        checks.append(
            Check(
                "readonly_role",
                "read-only role",
                OK,
                f"DATABASE_READONLY_URL set ({mask_url(ro_url)}); checked before every read-only run",
            )
        )
        return checks
    try:
        report = roles.inspect_role(ro_url)
    except DatabaseUseError as exc:
        checks.append(
            Check(
                "readonly_role",
                "read-only role",
                GAP,
                f"DATABASE_READONLY_URL cannot connect: {mask_url(str(exc))}",
                fix=f"fix DATABASE_READONLY_URL in .env, or make a new role: {setup}",
                blocks_t2=True,
            )
        )
        return checks
    if report.problems:
        checks.append(
            Check(
                "readonly_role",
                "read-only role",
                GAP,
                f"DATABASE_READONLY_URL's role {report.role!r} can write: "
                + "; ".join(report.problems)
                + " (read-only runs are refused until it cannot)",
                fix=f"revoke those from {report.role!r}, or make a new role: {setup} --role NAME",
                blocks_t2=True,
            )
        )
    else:
        checks.append(
            Check(
                "readonly_role",
                "read-only role",
                OK,
                f"role {report.role!r} checked: cannot write (checked again before every run)",
            )
        )
    return checks


def _admin_check(admin: roles.RoleReport, masked: str) -> Check:
    risky = [
        p
        for k, p in roles.PROBLEMS.items()
        if admin.flags.get(k) and k in ("superuser", "server_roles")
    ]
    if risky:
        return Check(
            "database_url",
            "DATABASE_URL's role",
            GAP,
            f"{masked}: role {admin.role!r} {'; '.join(risky)}: an approved write-mode script "
            "can run programs and read files on the database server (COPY … TO PROGRAM)",
            fix="connect as a role that owns the app's tables but is no superuser and has no "
            "server-file or server-program roles",
        )
    return Check(
        "database_url",
        "DATABASE_URL's role",
        OK,
        f"{masked}: role {admin.role!r} is no superuser and has no server-file or program roles",
    )


def render_text(result: dict) -> str:
    """The short table for people: state, check, detail, and the fix under each gap."""
    marks = {OK: "ok ", GAP: "GAP", INFO: " - "}
    lines = [f"tier {result['tier']}: {result['summary'].split(': ', 1)[1]}", ""]
    width = max(len(c["title"]) for c in result["checks"])
    for c in result["checks"]:
        lines.append(f"{marks[c['status']]}  {c['title'].ljust(width)}  {c['detail']}")
        if c["fix"] and c["status"] != OK:
            lines.append(f"     {' ' * width}  → {c['fix']}")
    lines.append("")
    lines.append("no gaps" if result["ok"] else f"{result['gaps']} gap(s); each → line closes one")
    return mask_url("\n".join(lines))
