"""``database-use init``: adopt an existing project without touching what the user wrote.

It creates what is missing (the doc folder, the drafts folder, a ``[tool.database-use]`` table
appended to ``pyproject.toml`` only when there is none), appends the tool's runtime paths to
``.gitignore`` (lines already there are not repeated), and, when asked, installs the skill into
the project and registers MCP clients. Every step says what it did or what it left alone, and
running it twice changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from database_use import installer
from database_use.config import MODELS_GLOB, TABLE, ProjectConfig, load_config, read_pyproject
from database_use.errors import ConfigError

GITIGNORE_HEADER = "# database-use runtime files (caches, approvals, requests, proposals, reports)"
# What the tool writes at run time and nobody should commit. The change-log lock sits beside the
# log; register's backups are "<config>.bak-<stamp>"; .env holds the database password.
RUNTIME_PATHS = (
    ".roo/cache/",
    ".roo/approvals/",
    ".roo/script_requests/",
    ".roo/changes/",
    "{reports}/",
    "{log_dir}/.*.lock",
    "*.json.bak-*",
    ".env",
)


def config_table(config: ProjectConfig) -> str:
    """The ``[tool.database-use]`` table init appends: today's layout, every key explained."""
    return "\n".join(
        [
            f"[{TABLE}]",
            "# Facts about this project that database-use tells the agent (see its README).",
            f'models = "{config.models}"',
            f'doc = "{config.doc}"',
            f'changelog = "{config.changelog}"',
            f'reports = "{config.reports}"',
            f'drafts = "{config.drafts}"',
            f'scripts = "{config.scripts}"',
            "# a database URL without a port uses this port",
            f"default-port = {config.default_port}",
            '# password-hash-column = "pw_hashed"',
            '# sensitive-columns = ["pw_hashed"]',
            '# preferred-utilities = ["utils_db/user_utils.py"]',
            "",
        ]
    )


def init_project(
    root: Path,
    *,
    skill: bool = False,
    register: tuple[str, ...] = (),
    dry_run: bool = False,
) -> dict[str, Any]:
    """Adopt the project at ``root``; return ``{"root", "steps": [{"action", "path", "why"}], "notes"}``.

    ``action`` is ``created``, ``appended``, ``left alone`` or (with ``dry_run``) ``would create`` /
    ``would append``. Raises :class:`ConfigError` for a missing folder or an unreadable config.
    """
    root = root.expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder: run `database-use init` in your project's root")
    steps: list[dict[str, str]] = []

    def step(action: str, path: Path | str, why: str) -> None:
        rel = str(path.relative_to(root)) if isinstance(path, Path) else path
        steps.append({"action": action, "path": rel, "why": why})

    _config_step(root, dry_run, step)
    config = ProjectConfig() if dry_run and not _has_table(root) else load_config(root)
    for folder, why in (
        ((root / config.doc).parent, "where the schema doc and the change log go"),
        (root / config.drafts, "one-off drafts (draft_script)"),
    ):
        if folder.is_dir():
            step("left alone", folder, "already there")
        else:
            step("would create" if dry_run else "created", folder, why)
            if not dry_run:
                folder.mkdir(parents=True)
    _gitignore_step(root, config, dry_run, step)

    notes: list[str] = []
    if not any(root.glob(config.models)):
        notes.append(
            f"no models match {config.models}: database-use reads the models from files named "
            f"like {MODELS_GLOB}"
        )
    if not (root / ".env").is_file():
        notes.append("no .env: put DATABASE_URL (a postgresql:// URL of your database) there")
    result: dict[str, Any] = {"root": str(root), "steps": steps, "notes": notes}
    if skill and not dry_run:
        result["skill"] = installer.install_skill("claude", "project", project_root=root)
    registered = []
    for client in register:
        registered.append(installer.register(client, None, project_root=root, dry_run=dry_run))
    if registered:
        result["registered"] = registered
    return result


def _has_table(root: Path) -> bool:
    return "database-use" in read_pyproject(root / "pyproject.toml").get("tool", {})


def _config_step(root: Path, dry_run: bool, step) -> None:
    path = root / "pyproject.toml"
    if _has_table(root):
        load_config(root)  # a table with an unknown key is reported now, not at first use
        step("left alone", path, f"already has [{TABLE}]")
        return
    table = config_table(ProjectConfig())
    if path.is_file():
        step("would append" if dry_run else "appended", path, f"[{TABLE}] with this layout")
        if not dry_run:
            text = path.read_text(encoding="utf-8")
            sep = (
                ""
                if not text or text.endswith("\n\n")
                else ("\n" if text.endswith("\n") else "\n\n")
            )
            with path.open("a", encoding="utf-8") as fh:
                fh.write(sep + table)
    else:
        step("would create" if dry_run else "created", path, f"only [{TABLE}]")
        if not dry_run:
            path.write_text(table, encoding="utf-8")


def _gitignore_step(root: Path, config: ProjectConfig, dry_run: bool, step) -> None:
    path = root / ".gitignore"
    log_dir = str(Path(config.changelog).parent)
    wanted = [
        p.format(reports=config.reports, log_dir=log_dir).removeprefix("./") for p in RUNTIME_PATHS
    ]
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in wanted if line not in have and "/" + line not in have]
    if not missing:
        step("left alone", path, "already ignores the tool's runtime files")
        return
    verb = (
        ("would append to" if path.is_file() else "would create")
        if dry_run
        else ("appended" if path.is_file() else "created")
    )
    step(verb, path, "ignore " + ", ".join(missing))
    if dry_run:
        return
    block = (
        "\n".join([GITIGNORE_HEADER, *missing, ""])
        if GITIGNORE_HEADER not in have
        else "\n".join([*missing, ""])
    )
    sep = "" if not text or text.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(sep + ("\n" if text.strip() else "") + block)
