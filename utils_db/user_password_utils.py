"""Set, verify and rehash user passwords (argon2id, stored in users.pw_hashed).

The password is typed at a prompt by the person, in their own terminal: setting or checking
a password is person-only (an agent relays the command, it never handles the password). It is
never taken from the command line, and no hash is ever printed. Every write has ``--dry-run``.
``--password-stdin`` exists for the person's own test harnesses, not for agents.

    python utils_db/user_password_utils.py set alice@example.com
    python utils_db/user_password_utils.py verify 3
    python utils_db/user_password_utils.py needs-rehash
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

from database_use.scripts.support import emit, find_user, read_password, report, run_main, session

_HASHER: Any = None


def hasher() -> Any:
    """The argon2id hasher (argon2-cffi's recommended parameters)."""
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


def hash_password(password: str) -> str:
    return hasher().hash(password)


def check_password(pw_hashed: str | None, password: str) -> bool:
    """True when ``password`` matches the stored hash (False for a malformed hash)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if not pw_hashed:
        return False
    try:
        return bool(hasher().verify(pw_hashed, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(pw_hashed: str | None) -> bool:
    """True when the hash was made with other parameters (or is not an argon2 hash at all)."""
    from argon2.exceptions import InvalidHashError

    if not pw_hashed or not pw_hashed.startswith("$argon2"):
        return True
    try:
        return bool(hasher().check_needs_rehash(pw_hashed))
    except InvalidHashError:
        return True


def _who(user: Any) -> dict[str, Any]:
    return {"user_id": user.id, "email": user.email}


def set_password(s: Any, ident: str, password: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Store a new argon2id hash of ``password`` for the user ``ident`` (id or e-mail)."""
    user = find_user(s, ident)
    if not dry_run:
        user.pw_hashed = hash_password(password)
        s.flush()
    return {**_who(user), "changed": not dry_run, "dry_run": dry_run}


def verify_password(s: Any, ident: str, password: str) -> bool:
    return check_password(find_user(s, ident).pw_hashed, password)


def rehash_password(s: Any, ident: str, password: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Re-hash with current parameters after checking ``password`` (a hash alone can't be upgraded)."""
    user = find_user(s, ident)
    if not check_password(user.pw_hashed, password):
        return {**_who(user), "matches": False, "rehashed": False, "dry_run": dry_run}
    stale = needs_rehash(user.pw_hashed)
    if stale and not dry_run:
        user.pw_hashed = hash_password(password)
        s.flush()
    return {
        **_who(user),
        "matches": True,
        "needed": stale,
        "rehashed": stale and not dry_run,
        "dry_run": dry_run,
    }


def users_needing_rehash(s: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from models.models_user import User

    rows = s.execute(select(User.id, User.email, User.pw_hashed).order_by(User.id)).all()
    return [{"user_id": r.id, "email": r.email} for r in rows if needs_rehash(r.pw_hashed)]


# -- command line ------------------------------------------------------------------------------
def _cmd_set(args: argparse.Namespace) -> int:
    with session() as s:
        user = find_user(s, args.user)  # fail on an unknown user before asking for a password
        if args.dry_run:
            result = set_password(s, args.user, "", dry_run=True)
            report(
                result,
                f"dry run: would set the password of user {user.id} <{user.email}>; nothing written",
                args.json,
            )
            return 0
        password = read_password(
            args.password_stdin, confirm=not args.password_stdin, prompt="New password: "
        )
        result = set_password(s, args.user, password)
    report(result, f"password set for user {result['user_id']} <{result['email']}>", args.json)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    with session() as s:
        find_user(s, args.user)
        password = read_password(args.password_stdin, check_policy=False)
        ok = verify_password(s, args.user, password)
    report(
        {"user": args.user, "matches": ok},
        "password matches" if ok else "password does NOT match",
        args.json,
    )
    return 0 if ok else 1


def _cmd_rehash(args: argparse.Namespace) -> int:
    with session() as s:
        find_user(s, args.user)
        password = read_password(args.password_stdin, check_policy=False)
        result = rehash_password(s, args.user, password, dry_run=args.dry_run)
    if not result["matches"]:
        report(result, "password does NOT match; nothing changed", args.json)
        return 1
    if not result["needed"]:
        text = "hash already uses the current parameters; nothing to do"
    elif args.dry_run:
        text = "dry run: would re-hash with the current parameters; nothing written"
    else:
        text = f"re-hashed the password of user {result['user_id']} with the current parameters"
    report(result, text, args.json)
    return 0


def _cmd_needs_rehash(args: argparse.Namespace) -> int:
    with session() as s:
        rows = users_needing_rehash(s)
    emit(rows, ["user_id", "email"], args.json, empty="every hash uses the current parameters")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="user_password_utils.py",
        description="Set, verify and rehash user passwords (argon2id in users.pw_hashed).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    stdin_help = "read the password from the first line of stdin instead of prompting"

    p_set = sub.add_parser(
        "set", parents=[common], help="set a user's password (prompted, or --password-stdin)"
    )
    p_set.add_argument("user", help="user id or e-mail")
    p_set.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p_set.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    p_set.set_defaults(handler=_cmd_set)

    p_verify = sub.add_parser(
        "verify",
        parents=[common],
        help="check a password against the stored hash (exit 1 if no match)",
    )
    p_verify.add_argument("user", help="user id or e-mail")
    p_verify.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p_verify.set_defaults(handler=_cmd_verify)

    p_rehash = sub.add_parser(
        "rehash",
        parents=[common],
        help="re-hash with current argon2 parameters (needs the password)",
    )
    p_rehash.add_argument("user", help="user id or e-mail")
    p_rehash.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p_rehash.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    p_rehash.set_defaults(handler=_cmd_rehash)

    p_needs = sub.add_parser(
        "needs-rehash", parents=[common], help="list users whose hash uses outdated parameters"
    )
    p_needs.set_defaults(handler=_cmd_needs_rehash)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
