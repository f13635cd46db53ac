"""CLI commands for guarded column changes: propose, approve, reject, apply, list-changes.

Thin: parse, call :mod:`database_use.changes`, format. ``approve`` is the human channel: it
shows the exact SQL, the risk findings and a fresh dry-run on the controlling terminal, then
asks for the person's approver passphrase there (no echo; see :mod:`database_use.cli.terminal`).
Nothing is read from stdin, so ``yes | ... approve`` approves nothing, and a screen shows no
code an agent could copy. ``approver setup`` sets the passphrase (also offered on first use).
"""

from __future__ import annotations

import argparse
from typing import Any

from database_use import hints
from database_use.cli.common import (
    EXIT_DIFF,
    EXIT_ERROR,
    EXIT_OK,
    print_warnings,
    project_from_args,
)
from database_use.errors import ChangeRefused, InvalidRequest


def add_commands(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``propose``, ``approve``, ``reject``, ``apply`` and ``list-changes``."""
    from database_use.changes import ACTIONS

    p = subparsers.add_parser(
        "propose",
        parents=[parent],
        help="plan a column change: SQL, risk findings and a dry-run (changes nothing)",
        description="Plan a column change against the live database and save it under "
        ".roo/changes/. Nothing changes until a person approves and it is applied.",
    )
    p.add_argument("table", help="table name (public.users or users)")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("column", help="the column (for add: the new column's name)")
    p.add_argument(
        "--type",
        dest="type_",
        metavar="TYPE",
        help="for add/alter_type: integer, text, varchar(n), numeric(p,s), timestamptz, "
        "jsonb, an existing enum, ...",
    )
    p.add_argument("--new-name", help="for rename: the new column name")
    null = p.add_mutually_exclusive_group()
    null.add_argument(
        "--not-null",
        dest="nullable",
        action="store_false",
        default=None,
        help="for add: the column is NOT NULL",
    )
    null.add_argument(
        "--nullable",
        dest="nullable",
        action="store_true",
        help="for add: the column allows NULL (default)",
    )
    p.add_argument(
        "--default", help="for add/set_default: 0, true, 'text', now(), gen_random_uuid(), ..."
    )
    p.add_argument("--comment", help="for add/set_comment: the column comment ('' removes it)")
    p.set_defaults(handler=_propose)

    a = subparsers.add_parser(
        "approve",
        parents=[parent],
        help="(for a person) review a proposed change and approve it with your passphrase",
        description="Shows the exact SQL, the risk findings and a fresh dry-run of the change, "
        "then asks for your approver passphrase on your terminal (/dev/tty, never stdin).",
    )
    a.add_argument("change_id")
    a.set_defaults(handler=_approve)

    who = subparsers.add_parser(
        "approver",
        parents=[parent],
        help="(for a person) set or change your approver passphrase: approver setup",
        description="Sets the approver passphrase (typed twice on your terminal; stored only "
        "as an argon2id-derived verifier in your user config dir) and whether an MCP client's "
        "approval dialog may approve.",
    )
    who.add_argument("action", choices=("setup",))
    who.add_argument(
        "--replace", action="store_true", help="replace an existing passphrase (asks for it first)"
    )
    who.set_defaults(handler=_approver)

    r = subparsers.add_parser("reject", parents=[parent], help="close a proposed change unapplied")
    r.add_argument("change_id")
    r.add_argument("--reason", help="why (kept in the proposal)")
    r.set_defaults(handler=_reject)

    ap = subparsers.add_parser(
        "apply",
        parents=[parent],
        help="apply an approved change (checks approval, SQL hash and schema first)",
        description="Apply an approved change. In strict mode (DATABASE_URL's role cannot change "
        "the schema) the person applies it with --as-owner: the change is shown, the owner "
        "role's password is asked on the terminal (never stored) and is the approval.",
    )
    ap.add_argument("change_id")
    ap.add_argument(
        "--as-owner",
        action="store_true",
        help="(for a person) apply as the owner role, typing its password on your terminal",
    )
    ap.add_argument(
        "--owner-role",
        metavar="ROLE",
        help="with --as-owner: the owner role (default: owner-role in [tool.database-use])",
    )
    ap.set_defaults(handler=_apply)

    lg = subparsers.add_parser(
        "log",
        parents=[parent],
        help="log render: append the change log entries the ledger has and the log lacks",
        description="Strict mode keeps a ledger of applied changes in the database "
        "(database_use_ledger.applied_changes). log render appends to pgdb_changes.md every "
        "entry it lacks and reports entries that disagree with the ledger (never rewritten).",
    )
    lg.add_argument("action", choices=("render",))
    lg.set_defaults(handler=_log_render)

    ls = subparsers.add_parser(
        "list-changes", parents=[parent], help="proposed/approved/applied changes and their status"
    )
    ls.add_argument("--status", default=None, help="only changes with this status")
    ls.set_defaults(handler=_list)


# -- handlers ---------------------------------------------------------------------------------
def _propose(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import propose_column_change

    data = propose_column_change(
        project_from_args(args),
        args.table,
        args.action,
        args.column,
        new_name=args.new_name,
        type=args.type_,
        nullable=args.nullable,
        default=args.default,
        comment=args.comment,
    )
    # A failed dry-run is recorded but is a failure: nothing to approve (exit 1).
    return (EXIT_OK if data["ok"] else EXIT_DIFF), data, format_proposal(data)


def _approve(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import prepare_approval, record_approval
    from database_use.cli import terminal

    project = project_from_args(args)
    # The terminal first: a process without one must not get as far as the question.
    with terminal.controlling_terminal() as tty:
        if args.change_id.startswith("script-"):  # one human command for both kinds of request
            from database_use.cli.scripts import approve_on_terminal

            granted = approve_on_terminal(project, args.change_id, tty)
            if granted is None:
                return (
                    EXIT_ERROR,
                    {"id": args.change_id, "approved": False},
                    f"not approved; request {args.change_id} is unchanged",
                )
            return (
                EXIT_OK,
                granted,
                (
                    f"approved one write-mode run of script request {args.change_id}. "
                    "Run it again with --write / write=true to use the approval."
                ),
            )
        prepared = prepare_approval(project, args.change_id)
        terminal.show(tty, prepared["text"] + "\n")
        signer = terminal.unlock(
            tty, project, "Approver passphrase to approve (Enter alone declines): "
        )
        if signer is None:
            return (
                EXIT_ERROR,
                {"id": args.change_id, "approved": False},
                f"not approved; change {args.change_id} is unchanged",
            )
        data = record_approval(project, prepared, signer)
    text = (
        f"approved change {args.change_id} (SQL SHA-256 {prepared['sql_sha256'][:16]}..., "
        f"valid until {data['approved']['expires_at']}, once).\n"
        f"Apply it: {hints.command(project, 'apply', args.change_id)}"
    )
    return EXIT_OK, data, text


def _approver(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use import approvals, policy
    from database_use.cli import terminal

    with terminal.controlling_terminal() as tty:
        if approvals.approver_exists():
            if not args.replace:
                raise ChangeRefused(
                    f"an approver passphrase is already set ({approvals.approver_path()}); "
                    "use approver setup --replace to change it"
                )
            if terminal.unlock(tty, None, "Current approver passphrase: ") is None:
                return EXIT_ERROR, {"changed": False}, "not changed"
        terminal.setup(tty, replace_existing=args.replace)
    chosen = policy.load_policy()
    return (
        EXIT_OK,
        {"config": chosen.source, "elicitation_allowed": chosen.elicitation_allowed},
        f"approver passphrase set; client dialogs may approve: "
        f"{'yes' if chosen.elicitation_allowed else 'no'} ({chosen.source})",
    )


def _reject(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import reject_change

    data = reject_change(project_from_args(args), args.change_id, args.reason)
    return EXIT_OK, data, f"rejected change {args.change_id}; nothing was applied"


def _apply(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import apply_change

    if args.as_owner:
        return _apply_as_owner(args)
    if args.owner_role:
        raise InvalidRequest("--owner-role goes with --as-owner")
    data = apply_change(project_from_args(args), args.change_id)
    if data.get("outcome") == "approval_required":  # strict mode: nothing ran
        text = f"NOT APPLIED: {data['reason']}.\nThe person runs, in their own terminal: {data['command']}"
        return EXIT_DIFF, data, text
    # Applied is applied: a step after COMMIT that failed is a warning (stderr), exit 0.
    print_warnings(data)
    return EXIT_OK, data, format_applied(data)


def _apply_as_owner(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import owner
    from database_use.cli import terminal

    project = project_from_args(args)
    role = owner.owner_role(project, args.owner_role)
    # The terminal first: a process without one must not get as far as the question.
    with terminal.controlling_terminal() as tty:
        prepared = owner.prepare(project, args.change_id)
        if "already_applied" in prepared:  # in the ledger already: finished, nothing asked
            data = prepared
        else:
            terminal.show(
                tty,
                prepared["text"] + f"\nApplies as the database role {role} "
                "(one transaction, lock and statement timeouts, verified before COMMIT).",
            )
            password = terminal.read_secret(
                tty, f"Password of role {role} to apply (Enter alone cancels): "
            )
            if not password:
                return (
                    EXIT_ERROR,
                    {"id": args.change_id, "applied": False},
                    f"not applied; change {args.change_id} is unchanged",
                )
            data = owner.apply_as_owner(project, prepared, role, password)
            del password
    print_warnings(data)
    return EXIT_OK, data, format_applied(data) + f"\n{data['approval_note']}"


def _log_render(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import ledger

    data = ledger.render_log(project_from_args(args))
    lines = [
        f"{data['path']}: appended {len(data['appended'])} entries from the ledger "
        f"({data['rows']} rows)"
    ]
    lines += [f"  disagrees: {problem}" for problem in data["problems"]]
    return (EXIT_OK if data["ok"] else EXIT_DIFF), data, "\n".join(lines)


def _list(args: argparse.Namespace) -> tuple[int, Any, str]:
    from database_use.changes import list_changes

    data = list_changes(project_from_args(args), args.status)
    print_warnings(data)  # e.g. an apply a crash left half done, finished
    if not data["changes"]:
        return EXIT_OK, data, "no changes proposed yet"
    lines = [f"{'id':30} {'status':9} {'risk':8} change"]
    for row in data["changes"]:
        lines.append(
            f"{row['id']:30} {row['status']:9} {str(row.get('risk_level') or '-'):8} "
            f"{row.get('action')} {row.get('table')}.{row.get('column')}"
        )
    return EXIT_OK, data, "\n".join(lines)


# -- text -------------------------------------------------------------------------------------
def format_proposal(data: dict[str, Any]) -> str:
    lines = [
        f"proposed change {data['id']}: {data['action']} {data['table']}.{data['column']}",
        "SQL:",
        *("    " + s for s in data["sql_text"].rstrip("\n").splitlines()),
        f"risk: {data['risk_level']}",
    ]
    for finding in data["risk"]:
        lines.append(f"  [{finding['level']}] {finding['code']}: {finding['message']}")
        lines.append(f"      safer: {finding['safe_alternative']}")
    dry = data["dry_run"]
    lines.append("dry-run: " + ("ok (rolled back)" if dry["ok"] else f"FAILED: {dry['error']}"))
    lines.append(f"next: {data['next_step']}")
    return "\n".join(lines)


def format_applied(data: dict[str, Any]) -> str:
    applied = data["applied"]
    earlier = " earlier" if data.get("already_applied") else ""
    lines = [
        f"applied{earlier} change {data['id']} ({data['action']} {data['table']}.{data['column']}), verified",
        f"approved by {applied['approved_by']} via {applied['approval_channel']}; schema "
        f"{applied['schema_hash_before']} → {applied['schema_hash_after']}",
    ]
    if data.get("doc"):
        lines.append(f"doc regenerated: {data['doc'].get('path')}")
    if data.get("log"):
        lines.append(f"logged in: {data['log'].get('path')}")
    todo = data.get("models_todo") or {}
    if todo.get("model_line"):
        lines.append(f"models: add/change → {todo['model_line']}")
    for diff in todo.get("differences", []):
        lines.append(f"models: {diff.get('fix')}")
    if todo.get("note"):
        lines.append(f"models: {todo['note']}")
    return "\n".join(lines)
