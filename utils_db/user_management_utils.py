"""List, find, create, activate/deactivate users and change their role.

Never prints pw_hashed. A new user's password comes from a prompt or ``--password-stdin``
(never the command line) and is stored as an argon2id hash. Every write has ``--dry-run``.

    python utils_db/user_management_utils.py list --role admin
    python utils_db/user_management_utils.py find alice
    python utils_db/user_management_utils.py create --email a@example.com --username alice --dry-run
    python utils_db/user_management_utils.py set-role 3 editor
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python utils_db/<script>.py`: import from the project root
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from database_use.errors import InvalidRequest
from database_use.scripts.support import emit, find_user, read_password, report, run_main, session

ROLES = ("admin", "editor", "viewer")
# What may be shown about a user: everything but the password hash.
PUBLIC_COLUMNS = ("id", "email", "username", "role", "is_active", "created_at", "last_login_at")
MAX_LIMIT = 10_000


def _public(user: Any) -> dict[str, Any]:
    return {c: getattr(user, c) for c in PUBLIC_COLUMNS}


def _public_select() -> Any:
    from sqlalchemy import select

    from models.models_user import User

    # Select the public columns only, so the hash never even leaves the database.
    return select(*(getattr(User, c) for c in PUBLIC_COLUMNS)), User


def _role(value: str) -> Any:
    from models.models_user import UserRole

    if value not in ROLES:
        raise InvalidRequest(f"unknown role {value!r}; expected one of {', '.join(ROLES)}")
    return UserRole(value)


def list_users(
    s: Any, *, role: str | None = None, active: bool | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Users ordered by id, optionally filtered by role and active flag (no hashes)."""
    stmt, User = _public_select()
    if role is not None:
        stmt = stmt.where(User.role == _role(role))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    limit = max(1, min(int(limit), MAX_LIMIT))
    return [dict(r._mapping) for r in s.execute(stmt.order_by(User.id).limit(limit))]


def find_users(s: Any, text: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Users whose e-mail or username contains ``text`` (case-insensitive)."""
    from sqlalchemy import or_

    stmt, User = _public_select()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    stmt = stmt.where(
        or_(User.email.ilike(pattern, escape="\\"), User.username.ilike(pattern, escape="\\"))
    )
    limit = max(1, min(int(limit), MAX_LIMIT))
    return [dict(r._mapping) for r in s.execute(stmt.order_by(User.id).limit(limit))]


def create_user(
    s: Any,
    *,
    email: str,
    username: str,
    password: str | None,
    role: str = "viewer",
    active: bool = True,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Create a user with a hashed password; refuses a duplicate e-mail (case-insensitive)."""
    from sqlalchemy import func, select

    from models.models_user import User
    from utils_db.user_password_utils import hash_password

    email = email.strip()
    if "@" not in email or len(email) > 255:
        raise InvalidRequest(f"{email!r} is not an e-mail address")
    if not username.strip() or len(username) > 64:
        raise InvalidRequest("username must have 1 to 64 characters")
    role_value = _role(role)
    if s.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None:
        raise InvalidRequest(f"a user with e-mail {email!r} already exists")
    planned = {"email": email, "username": username, "role": role, "is_active": active}
    if dry_run:
        return {**planned, "id": None, "created": False, "dry_run": True}
    if not password:
        raise InvalidRequest("a password is required to create a user")
    user = User(
        email=email,
        username=username,
        role=role_value,
        is_active=active,
        pw_hashed=hash_password(password),
    )
    s.add(user)
    s.flush()
    return {**planned, "id": user.id, "created": True, "dry_run": False}


def set_active(s: Any, ident: str, active: bool, *, dry_run: bool = False) -> dict[str, Any]:
    user = find_user(s, ident)
    before = user.is_active
    if not dry_run and before != active:
        user.is_active = active
        s.flush()
    return {
        "id": user.id,
        "email": user.email,
        "is_active_before": before,
        "is_active": active,
        "changed": before != active and not dry_run,
        "dry_run": dry_run,
    }


def set_role(s: Any, ident: str, role: str, *, dry_run: bool = False) -> dict[str, Any]:
    user = find_user(s, ident)
    new = _role(role)
    before = user.role.value
    if not dry_run and before != role:
        user.role = new
        s.flush()
    return {
        "id": user.id,
        "email": user.email,
        "role_before": before,
        "role": role,
        "changed": before != role and not dry_run,
        "dry_run": dry_run,
    }


# -- command line ------------------------------------------------------------------------------
_TABLE = ["id", "email", "username", "role", "is_active", "last_login_at"]


def _cmd_list(args: argparse.Namespace) -> int:
    with session() as s:
        rows = list_users(s, role=args.role, active=args.active, limit=args.limit)
    emit(rows, _TABLE, args.json, empty="no users")
    return 0


def _cmd_find(args: argparse.Namespace) -> int:
    with session() as s:
        rows = find_users(s, args.text, limit=args.limit)
    emit(rows, _TABLE, args.json, empty="no user matches")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    with session() as s:
        row = _public(find_user(s, args.user))
    emit([row], list(PUBLIC_COLUMNS), args.json)
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    with session() as s:
        if args.dry_run:
            result = create_user(
                s,
                email=args.email,
                username=args.username,
                password=None,
                role=args.role,
                active=not args.inactive,
                dry_run=True,
            )
            report(
                result,
                f"dry run: would create {args.role} {args.email} ({args.username}); nothing written",
                args.json,
            )
            return 0
        # Check everything that needs no password first, so a typo fails before the prompt.
        create_user(
            s,
            email=args.email,
            username=args.username,
            password=None,
            role=args.role,
            active=not args.inactive,
            dry_run=True,
        )
        password = read_password(
            args.password_stdin,
            confirm=not args.password_stdin,
            prompt="Password for the new user: ",
        )
        result = create_user(
            s,
            email=args.email,
            username=args.username,
            password=password,
            role=args.role,
            active=not args.inactive,
        )
    report(
        result, f"created user {result['id']} <{result['email']}> as {result['role']}", args.json
    )
    return 0


def _cmd_active(active: bool):
    def handler(args: argparse.Namespace) -> int:
        with session() as s:
            result = set_active(s, args.user, active, dry_run=args.dry_run)
        state = "active" if active else "inactive"
        if result["is_active_before"] == active:
            text = f"user {result['id']} <{result['email']}> is already {state}; nothing to do"
        elif args.dry_run:
            text = f"dry run: would make user {result['id']} <{result['email']}> {state}; nothing written"
        else:
            text = f"user {result['id']} <{result['email']}> is now {state}"
        report(result, text, args.json)
        return 0

    return handler


def _cmd_set_role(args: argparse.Namespace) -> int:
    with session() as s:
        result = set_role(s, args.user, args.role, dry_run=args.dry_run)
    if result["role_before"] == args.role:
        text = f"user {result['id']} already has role {args.role}; nothing to do"
    elif args.dry_run:
        text = f"dry run: would change the role of user {result['id']} from {result['role_before']} to {args.role}; nothing written"
    else:
        text = (
            f"user {result['id']} <{result['email']}>: role {result['role_before']} -> {args.role}"
        )
    report(result, text, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="user_management_utils.py",
        description="List, find, create, activate/deactivate users and change their role.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_list = sub.add_parser("list", parents=[common], help="list users (never their password hash)")
    p_list.add_argument("--role", choices=ROLES, help="only users with this role")
    state = p_list.add_mutually_exclusive_group()
    state.add_argument(
        "--active", dest="active", action="store_const", const=True, help="only active users"
    )
    state.add_argument(
        "--inactive", dest="active", action="store_const", const=False, help="only inactive users"
    )
    p_list.add_argument(
        "--limit", type=int, default=100, help="at most this many rows (default 100)"
    )
    p_list.set_defaults(handler=_cmd_list)

    p_find = sub.add_parser(
        "find", parents=[common], help="users whose e-mail or username contains TEXT"
    )
    p_find.add_argument("text", help="part of an e-mail or username")
    p_find.add_argument(
        "--limit", type=int, default=100, help="at most this many rows (default 100)"
    )
    p_find.set_defaults(handler=_cmd_find)

    p_show = sub.add_parser("show", parents=[common], help="one user by id or e-mail")
    p_show.add_argument("user", help="user id or e-mail")
    p_show.set_defaults(handler=_cmd_show)

    p_create = sub.add_parser(
        "create", parents=[common], help="create a user (password prompted or --password-stdin)"
    )
    p_create.add_argument("--email", required=True, help="e-mail address (unique)")
    p_create.add_argument("--username", required=True, help="display name")
    p_create.add_argument("--role", choices=ROLES, default="viewer", help="role (default viewer)")
    p_create.add_argument("--inactive", action="store_true", help="create the account deactivated")
    p_create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    p_create.add_argument(
        "--dry-run", action="store_true", help="show what would be created; write nothing"
    )
    p_create.set_defaults(handler=_cmd_create)

    # Spelled out (no loop) so list_scripts, which reads argparse calls statically, sees both.
    p_act = sub.add_parser("activate", parents=[common], help="activate a user")
    p_act.add_argument("user", help="user id or e-mail")
    p_act.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    p_act.set_defaults(handler=_cmd_active(True))

    p_deact = sub.add_parser(
        "deactivate", parents=[common], help="deactivate a user (keeps the record)"
    )
    p_deact.add_argument("user", help="user id or e-mail")
    p_deact.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    p_deact.set_defaults(handler=_cmd_active(False))

    p_role = sub.add_parser("set-role", parents=[common], help="change a user's role")
    p_role.add_argument("user", help="user id or e-mail")
    p_role.add_argument("role", choices=ROLES, help="the new role")
    p_role.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    p_role.set_defaults(handler=_cmd_set_role)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
