"""CLI commands ``install-skill`` and ``register`` (thin: parse, call database_use.installer, format)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from database_use import installer

STATUS_TEXT = {
    "installed": "installed the database-use skill",
    "updated": "updated the database-use skill",
    "replaced": "replaced the locally modified database-use skill (--force)",
    "up_to_date": "already up to date",
}


def add_commands(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``init``, ``install-skill`` and ``register`` on ``subparsers``."""
    i = subparsers.add_parser(
        "init",
        parents=[parent],
        help="adopt this project: create what is missing, ignore the runtime files in git",
        description="Creates the doc and drafts folders, appends a [tool.database-use] table "
        "to pyproject.toml (only if it has none) and the tool's runtime paths to .gitignore "
        "(only the missing lines). Never overwrites a file; safe to run again.",
    )
    i.add_argument(
        "--skill", action="store_true", help="also install the skill into .claude/skills/"
    )
    i.add_argument(
        "--register",
        action="append",
        default=[],
        choices=installer.CLIENTS,
        metavar="CLIENT",
        help=f"also register the MCP server for CLIENT ({', '.join(installer.CLIENTS)}; "
        "repeatable)",
    )
    i.add_argument("--dry-run", action="store_true", help="say what it would do; write nothing")
    i.set_defaults(handler=_init)

    p = subparsers.add_parser(
        "install-skill",
        parents=[parent],
        help="copy the database-use skill to where an agent client reads skills",
        description="Copy skills/database-use/ to ~/.claude/skills/ (default) or another client's "
        "skills folder. Idempotent; refuses to overwrite a locally edited copy "
        "without --force.",
    )
    p.add_argument(
        "--target",
        default="claude",
        metavar="claude|roo|agents|DIR",
        help="claude (default), roo, agents, or a skills folder; the skill goes in "
        "<folder>/database-use/",
    )
    p.add_argument(
        "--scope",
        choices=("user", "project"),
        default="user",
        help="user: under your home folder (default); project: under the project root",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite an installed copy even if it was edited locally",
    )
    p.set_defaults(handler=_install_skill)

    r = subparsers.add_parser(
        "register",
        parents=[parent],
        help="add the database-use MCP server to a client's config (merges, with a backup)",
        description="Write or merge the database-use server entry into the MCP config of a "
        "client, keeping every other entry. The database URL stays in .env.",
    )
    r.add_argument("client", choices=installer.CLIENTS)
    r.add_argument(
        "--scope",
        choices=("project", "user"),
        default=None,
        help="project: the project's config file (default); user: your per-user config "
        "(Claude Desktop is always user)",
    )
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="show the entry and the file it would go to, without writing anything",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="replace an entry that was customised (another command, arguments or cwd)",
    )
    r.set_defaults(handler=_register)


def _project_root(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "project_root", None) or Path.cwd()).expanduser().resolve()


def _init(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use import adopt

    result = adopt.init_project(
        _project_root(args),
        skill=args.skill,
        register=tuple(args.register),
        dry_run=args.dry_run,
    )
    lines = [f"database-use init in {result['root']}" + (" (dry run)" if args.dry_run else "")]
    width = max(len(s["action"]) for s in result["steps"])
    lines.extend(f"  {s['action'].ljust(width)}  {s['path']}: {s['why']}" for s in result["steps"])
    if "skill" in result:
        lines.append(
            f"  skill: {STATUS_TEXT[result['skill']['status']]}: {result['skill']['path']}"
        )
    for reg in result.get("registered", []):
        verb = "would write" if reg["dry_run"] else reg["status"]
        lines.append(f"  {reg['client']}: {verb} {reg['path']}")
    lines.extend(f"note: {n}" for n in result["notes"])
    return 0, result, "\n".join(lines)


def _install_skill(args: argparse.Namespace) -> tuple[int, Any, str]:
    result = installer.install_skill(
        args.target,
        args.scope,
        force=args.force,
        project_root=_project_root(args),
    )
    lines = [f"{STATUS_TEXT[result['status']]}: {result['path']}"]
    if result["status"] != "up_to_date":
        lines.append(f"  {len(result['files'])} files from {result['source']}")
        if result.get("changed") and result["status"] != "installed":
            lines.append(f"  changed: {', '.join(result['changed'])}")
    if result.get("overwritten_local_edits"):
        lines.append(f"  overwrote local edits in: {', '.join(result['overwritten_local_edits'])}")
    return 0, result, "\n".join(lines)


def _register(args: argparse.Namespace) -> tuple[int, Any, str]:
    result = installer.register(
        args.client,
        args.scope,
        project_root=_project_root(args),
        dry_run=args.dry_run,
        force=args.force,
    )
    entry = json.dumps({result["server"]: result["entry"]}, indent=2)
    if result["status"] == "unchanged":
        head = f"{result['path']} already has this entry; nothing written"
    elif result["dry_run"]:
        head = (
            f"dry run: would {'create' if result['status'] == 'created' else 'update'} "
            f'{result["path"]} with this entry under "{result["key"]}" (nothing written)'
        )
    else:
        head = (
            f'{result["status"]} {result["path"]}: entry "{result["server"]}" under '
            f'"{result["key"]}"'
        )
    lines = [head, entry]
    if result.get("previous") is not None and result["status"] != "unchanged":
        lines.append("replacing:")
        lines.append(json.dumps({result["server"]: result["previous"]}, indent=2))
    if result.get("backup"):
        lines.append(f"backup of the previous file: {result['backup']}")
    lines.extend(result.get("notes", []))
    lines.append(
        "the server reads DATABASE_URL from the project's .env; restart the client "
        "(or reload its MCP servers) to pick up the change"
    )
    # Not the whole file: a user-level config (~/.claude.json) holds unrelated private data.
    data = {k: v for k, v in result.items() if k != "content"}
    return 0, data, "\n".join(lines)
