"""CLI commands ``doctor`` and ``roles readonly-setup`` (thin: parse, call the engine, format).

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
        help="(for a person) create the read-only role: roles readonly-setup",
        description="Creates a LOGIN role that can only read the app's schemas (CONNECT, USAGE, "
        "SELECT, default privileges for future tables), checks it by logging in, and writes "
        "DATABASE_READONLY_URL to .env. Shows the SQL first and asks on your terminal.",
    )
    r.add_argument("action", choices=("readonly-setup",))
    r.add_argument("--role", metavar="NAME", help="the new role's name (default: <db>_readonly)")
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

    project = project_from_args(args)
    plan = roles.plan_readonly_role(project, args.role)
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
    return EXIT_OK, result, text
