"""CLI commands ``doctor``, ``roles setup`` and ``roles readonly-setup`` (thin: parse, call the
engine, format).

``roles setup`` (strict mode) is for a person too: it reads an admin credential from the
terminal without echo (or from a variable of the person's own shell, ``--admin-url-env NAME``;
never from ``.env``), shows the plan, asks, and runs
:func:`database_use.roles.create_agent_role`; it offers the read-only role as well.

``doctor`` is :func:`database_use.doctor.diagnose` (the MCP tool ``doctor`` is the same call).
``roles readonly-setup`` is for a person: it shows the statements and the ``.env`` line, asks
on the controlling terminal (never stdin, so an agent's pipe cannot say yes), and only then
runs :func:`database_use.roles.create_readonly_role`. ``--dry-run`` shows and runs nothing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from database_use.cli.common import EXIT_DIFF, EXIT_ERROR, EXIT_OK, project_from_args

if TYPE_CHECKING:  # pragma: no cover
    from database_use import roles

# doctor, roles and terminal (argon2, cryptography, the sandbox probe) are imported by the
# handlers that use them: every other command registers these parsers without paying for them.


def add_commands(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``doctor`` and ``roles`` on ``subparsers``."""

    d = subparsers.add_parser(
        "doctor",
        parents=[parent],
        help="which safety tier this setup gives (T1/T2), each check, and the fix for each gap",
        description="Checks the sandbox, your config and approver passphrase, client dialogs, "
        "the read-only role, DATABASE_URL's role, the HTTP token and where the tool runs from. "
        "Exit code 0 when there is no gap, 1 otherwise.",
    )
    d.set_defaults(handler=_doctor)

    r = subparsers.add_parser(
        "roles",
        parents=[parent],
        help="(for a person) strict mode's agent role: roles setup; the read-only role: "
        "roles readonly-setup",
        description="setup: with an admin credential typed on your terminal, creates the agent's "
        "LOGIN role (reads the app's schemas except the sensitive columns, writes only the "
        "tables you name with --dml, changes no schema), checks it by logging in, writes it as "
        "DATABASE_URL to .env (the owner's URL leaves .env) and the owner role's name to "
        "pyproject.toml. readonly-setup: a LOGIN role that can only read, as "
        "DATABASE_READONLY_URL. Both show the SQL first and ask on your terminal.",
    )
    r.add_argument("action", choices=("setup", "readonly-setup"))
    r.add_argument(
        "--role", metavar="NAME", help="the new role's name (default: <db>_agent / <db>_readonly)"
    )
    r.add_argument(
        "--dml",
        metavar="TABLE[,TABLE]",
        help="setup: tables the agent may INSERT, UPDATE and DELETE (or 'all'); default none",
    )
    r.add_argument(
        "--owner-role",
        metavar="NAME",
        help="setup: the role that owns the app's tables (default: [tool.database-use] "
        "owner-role, else DATABASE_URL's role)",
    )
    r.add_argument(
        "--admin-user",
        metavar="NAME",
        help="setup: the admin role that may create roles (asked when absent; its password is "
        "asked on the terminal, empty for PGPASSWORD / ~/.pgpass)",
    )
    r.add_argument(
        "--admin-url-env",
        metavar="VAR",
        help="setup: take the admin URL from this variable of your own shell (never .env)",
    )
    r.add_argument(
        "--dry-run", action="store_true", help="show the SQL and the .env line; run nothing"
    )
    r.set_defaults(handler=_roles)


def _doctor(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use import doctor

    result = doctor.diagnose(project_from_args(args))
    return (EXIT_OK if result["ok"] else EXIT_DIFF), result, doctor.render_text(result)


def _plan_text(plan: roles.ReadonlyPlan) -> str:
    from database_use import roles

    lines = [
        f"Create the read-only role {plan.role!r} in database {plan.database!r} "
        f"as {plan.admin.role!r}:",
        "",
        *(f"  {s};" for s in plan.statements),
        "",
        f"then log in as it, check it cannot write, and set in {plan.env_path}:",
        f"  {roles.ENV_KEY}={plan.masked_url}",
    ]
    lines += [f"note: {n}" for n in plan.notes]
    return "\n".join(lines)


def _roles(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use import roles
    from database_use.cli import terminal

    if args.action == "setup":
        return _agent_setup(args)
    project = project_from_args(args)
    # Strict mode: the default privileges follow the owner's future tables, whoever runs this.
    plan = roles.plan_readonly_role(project, args.role, for_role=project.config.owner_role)
    if args.dry_run:
        return EXIT_OK, {**plan.to_dict(), "created": False, "dry_run": True}, _plan_text(plan)
    with terminal.controlling_terminal() as tty:
        terminal.show(tty, _plan_text(plan))
        answer = terminal.read_line(tty, "Create it? Type yes to go on: ")
        if answer.lower() != "yes":
            return EXIT_ERROR, {**plan.to_dict(), "created": False}, "not created"
        result = roles.create_readonly_role(project, plan)
    text = (
        f"created role {plan.role!r} (checked: cannot write) and set {roles.ENV_KEY} in "
        f"{plan.env_path}; read-only script runs now use it"
    )
    return EXIT_OK, result, f"{text}\n{_doc_after_grants(project, result)}"


def _doc_after_grants(project: Any, result: dict[str, Any]) -> str:
    """A new role's grants are schema facts (the doc lists privileges): regenerate the doc when
    there is one, so ``validate`` does not fail on the grants the person just made."""
    from database_use import service
    from database_use.errors import DatabaseUseError

    if not project.doc_path.is_file():
        result["doc"] = None
        return "no schema doc yet: generate-docs will list the new grants"
    try:
        done = service.generate_docs(project)
    except DatabaseUseError as exc:
        result["doc"] = {"error": exc.message}
        return f"the new grants are schema facts: run generate-docs ({exc.message})"
    result["doc"] = {"path": done["path"], "changed": done["changed"]}
    return f"the new grants are schema facts: {done['path']} regenerated"


def _admin_from_env(name: str, project: Any) -> str:
    """The admin URL from the person's shell variable ``name`` (never one .env could give)."""
    import os

    from dotenv import dotenv_values

    from database_use.errors import InvalidRequest
    from database_use.settings import URL_VARIABLES, validate_url

    if name in URL_VARIABLES:
        raise InvalidRequest(f"--admin-url-env {name}: that variable is read from .env too")
    value = os.environ.get(name)
    if not value:
        raise InvalidRequest(f"--admin-url-env {name}: not set in this shell")
    try:
        from_file = set(dotenv_values(project.root / ".env").values())
    except OSError:
        from_file = set()
    if value in from_file:
        raise InvalidRequest(f"--admin-url-env {name}: the same URL is in .env; keep it out")
    return validate_url(value, name)


def _admin_from_tty(tty: Any, base_url: str, user: str | None) -> str:
    from database_use import roles
    from database_use.cli import terminal
    from database_use.redact import remember_url

    user = user or terminal.read_line(tty, "Admin role that may create roles [postgres]: ")
    secret = terminal.read_secret(
        tty, f"Password for {user or 'postgres'} (empty: PGPASSWORD or ~/.pgpass): "
    )
    url = roles.readonly_url(base_url, user or "postgres", secret or None)
    remember_url(url)  # masked in any message from here on
    return url


def _agent_plan_text(plan: roles.AgentPlan) -> str:
    from database_use import roles

    text = _plan_text(plan).replace(
        f"Create the read-only role {plan.role!r}", f"Create the agent role {plan.role!r}", 1
    )
    return text.replace(
        "check it cannot write, and set in",
        "check it cannot change the schema nor read "
        + (", ".join(plan.excluded) or "the sensitive columns")
        + ", and set in",
    ).replace(f"  {roles.ENV_KEY}={plan.masked_url}", f"  {plan.to_dict()['env_line']}")


def _agent_setup(args: argparse.Namespace) -> tuple[int, Any, str]:
    from urllib.parse import unquote, urlsplit

    from database_use import roles
    from database_use.cli import terminal
    from database_use.settings import database_url as env_url

    project = project_from_args(args)
    base_url = project.database_url
    owner = (
        args.owner_role or project.config.owner_role or unquote(urlsplit(base_url).username or "")
    )
    dml = [t for t in (args.dml or "").split(",") if t.strip()]
    with terminal.controlling_terminal() as tty:
        if args.admin_url_env:
            admin_url = _admin_from_env(args.admin_url_env, project)
        else:
            admin_url = _admin_from_tty(tty, base_url, args.admin_user)
        plan = roles.plan_agent_role(project, admin_url, role=args.role, owner=owner, dml=dml)
        if args.dry_run:
            text = _agent_plan_text(plan)
            return EXIT_OK, {**plan.to_dict(), "created": False, "dry_run": True}, text
        terminal.show(tty, _agent_plan_text(plan))
        if terminal.read_line(tty, "Create it? Type yes to go on: ").lower() != "yes":
            return EXIT_ERROR, {**plan.to_dict(), "created": False}, "not created"
        result = roles.create_agent_role(project, plan)
        lines = [
            f"created role {plan.role!r} (checked: cannot change the schema"
            + (f", cannot read {', '.join(plan.excluded)}" if plan.excluded else "")
            + f") and set DATABASE_URL in {plan.env_path} to it.",
            f"The password of the owner role {owner!r} is no longer in .env: it now lives only "
            "with you (keep it in your password manager; strict mode's apply asks for it on your "
            "terminal). The project keeps only the role's name: "
            f'{project.root / "pyproject.toml"} [tool.database-use] owner-role = "{owner}".',
        ]
        if result["owner_password_left_in_env"]:
            lines.append(
                "WARNING: the owner's password still appears in .env ("
                + ", ".join(result["owner_password_left_in_env"])
                + "): remove it, or an agent that reads .env has it"
            )
        terminal.show(tty, "\n".join(lines))
        try:
            has_readonly = bool(env_url(project.root, roles.ENV_KEY))
        except Exception:
            has_readonly = False
        if not has_readonly:
            result["readonly"] = _offer_readonly(tty, project, admin_url, owner)
        terminal.show(tty, _doc_after_grants(project, result))
    return EXIT_OK, result, "done: run database-use doctor to see the tier"


def _offer_readonly(tty: Any, project: Any, admin_url: str, owner: str) -> dict | None:
    """Offer the read-only script role too (DATABASE_READONLY_URL is not set)."""
    from database_use import roles
    from database_use.cli import terminal
    from database_use.project import Project

    answer = terminal.read_line(
        tty, "DATABASE_READONLY_URL is not set. Create the read-only role for scripts too? [Y/n] "
    )
    if answer.lower() in ("n", "no"):
        return None
    admin_project = Project(root=project.root, url_override=admin_url)
    plan = roles.plan_readonly_role(admin_project, None, for_role=owner)
    terminal.show(tty, _plan_text(plan))
    if terminal.read_line(tty, "Create it? Type yes to go on: ").lower() != "yes":
        terminal.show(tty, "read-only role not created")
        return None
    result = roles.create_readonly_role(admin_project, plan)
    terminal.show(tty, f"created role {plan.role!r} (checked: cannot write) as {roles.ENV_KEY}")
    return result
