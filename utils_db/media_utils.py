"""Media records: list by owner, total size per user, files missing on disk, delete a record.

``delete`` removes the database record only (never the file) and has ``--dry-run``.

    python utils_db/media_utils.py list alice@example.com
    python utils_db/media_utils.py sizes
    python utils_db/media_utils.py missing --media-root /srv/media
    python utils_db/media_utils.py delete 42 --dry-run
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

from database_use.errors import InvalidRequest, NotFound
from database_use.scripts.support import emit, find_user, report, run_main, session

KINDS = ("image", "video", "audio", "document")
_COLUMNS = ("id", "owner_id", "kind", "path", "size_bytes", "created_at")


def _media_rows(s: Any, stmt: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in s.execute(stmt)]


def _select() -> tuple[Any, Any]:
    from sqlalchemy import select

    from models.models_media import Media

    return select(*(getattr(Media, c) for c in _COLUMNS)), Media


def list_media(s: Any, owner: str, *, kind: str | None = None) -> list[dict[str, Any]]:
    """The media of one owner (id or e-mail), newest first."""
    from models.models_media import MediaKind

    user = find_user(s, owner)
    stmt, Media = _select()
    stmt = stmt.where(Media.owner_id == user.id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidRequest(f"unknown media kind {kind!r}; expected one of {', '.join(KINDS)}")
        stmt = stmt.where(Media.kind == MediaKind(kind))
    return _media_rows(s, stmt.order_by(Media.created_at.desc(), Media.id.desc()))


def sizes_by_user(s: Any) -> list[dict[str, Any]]:
    """Number of files and total bytes per user (users without media show 0), largest first."""
    from sqlalchemy import func, select

    from models.models_media import Media
    from models.models_user import User

    stmt = (
        select(
            User.id.label("user_id"),
            User.email,
            func.count(Media.id).label("files"),
            func.coalesce(func.sum(Media.size_bytes), 0).label("total_bytes"),
        )
        .outerjoin(Media, Media.owner_id == User.id)
        .group_by(User.id, User.email)
        .order_by(func.coalesce(func.sum(Media.size_bytes), 0).desc(), User.id)
    )
    return [
        {
            **dict(r._mapping),
            "total_bytes": int(r.total_bytes),
            "total": human_size(int(r.total_bytes)),
        }
        for r in s.execute(stmt)
    ]


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def missing_files(
    s: Any, media_root: str | Path, *, owner: str | None = None
) -> list[dict[str, Any]]:
    """Media whose file is not under ``media_root`` (paths leading outside it count as missing)."""
    root = Path(media_root).expanduser().resolve()
    if not root.is_dir():
        raise NotFound(f"media root {media_root} is not a directory")
    stmt, Media = _select()
    if owner is not None:
        stmt = stmt.where(Media.owner_id == find_user(s, owner).id)
    missing = []
    for row in _media_rows(s, stmt.order_by(Media.id)):
        candidate = (root / row["path"]).resolve()
        if not candidate.is_relative_to(root):
            missing.append({**row, "reason": "path leads outside the media root"})
        elif not candidate.is_file():
            missing.append({**row, "reason": "no such file"})
    return missing


def delete_media(s: Any, media_id: int, *, dry_run: bool = False) -> dict[str, Any]:
    """Delete one media record (the file on disk is left alone)."""
    from models.models_media import Media

    media = s.get(Media, int(media_id))
    if media is None:
        raise NotFound(f"no media record with id {media_id}")
    row = {c: getattr(media, c) for c in _COLUMNS}
    if not dry_run:
        s.delete(media)
        s.flush()
    return {**row, "deleted": not dry_run, "dry_run": dry_run}


# -- command line ------------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    with session() as s:
        rows = list_media(s, args.owner, kind=args.kind)
    emit(rows, ["id", "kind", "size_bytes", "path", "created_at"], args.json, empty="no media")
    return 0


def _cmd_sizes(args: argparse.Namespace) -> int:
    with session() as s:
        rows = sizes_by_user(s)
    emit(rows, ["user_id", "email", "files", "total_bytes", "total"], args.json, empty="no users")
    return 0


def _cmd_missing(args: argparse.Namespace) -> int:
    with session() as s:
        rows = missing_files(s, args.media_root, owner=args.owner)
    emit(rows, ["id", "owner_id", "path", "reason"], args.json, empty="every media file is present")
    return 1 if rows else 0


def _cmd_delete(args: argparse.Namespace) -> int:
    with session() as s:
        result = delete_media(s, args.media_id, dry_run=args.dry_run)
    what = f"media {result['id']} ({result['path']}, owner {result['owner_id']})"
    text = (
        f"dry run: would delete {what}; nothing written"
        if args.dry_run
        else f"deleted {what}; the file itself was not touched"
    )
    report(result, text, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="media_utils.py",
        description="Media records: list by owner, total size per user, missing files, delete a record.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_list = sub.add_parser("list", parents=[common], help="media of one owner, newest first")
    p_list.add_argument("owner", help="owner's user id or e-mail")
    p_list.add_argument("--kind", choices=KINDS, help="only this kind of media")
    p_list.set_defaults(handler=_cmd_list)

    p_sizes = sub.add_parser(
        "sizes", parents=[common], help="number of files and total size per user"
    )
    p_sizes.set_defaults(handler=_cmd_sizes)

    p_missing = sub.add_parser(
        "missing",
        parents=[common],
        help="media whose file is missing under --media-root (exit 1 if any)",
    )
    p_missing.add_argument(
        "--media-root", required=True, help="directory the media paths are relative to"
    )
    p_missing.add_argument("--owner", help="only this owner's media (id or e-mail)")
    p_missing.set_defaults(handler=_cmd_missing)

    p_delete = sub.add_parser(
        "delete", parents=[common], help="delete one media record (not the file)"
    )
    p_delete.add_argument("media_id", type=int, help="id of the media record")
    p_delete.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted; write nothing"
    )
    p_delete.set_defaults(handler=_cmd_delete)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
