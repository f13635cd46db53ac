"""Answers that fit a context window: one page of a list, within a size budget, saying what
it cut and how to get the rest; and the name filter the listings share.

Every default answer of the MCP tools keeps to :data:`ANSWER_BUDGET` (about 8k tokens); the
listings (introspect, compare, list_changes, validate) page their records with :func:`page`.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from database_use.errors import InvalidRequest

ANSWER_BUDGET = 32_000  # bytes of JSON: about 8k tokens, what one default answer may take


def page(
    items: list[dict[str, Any]],
    offset: int = 0,
    limit: int | None = None,
    budget: int | None = None,
    what: str = "items",
) -> dict[str, Any]:
    """One page of ``items``: at most ``limit`` of them from ``offset``, and no more than
    ``budget`` bytes of JSON. Says what it cut and how to get the rest (``next_offset``)."""
    if offset < 0:
        raise InvalidRequest(f"offset must be >= 0, got {offset}")
    if limit is not None and limit < 1:
        raise InvalidRequest(f"limit must be >= 1, got {limit}")
    window = items[offset : offset + limit if limit is not None else None]
    kept: list[dict[str, Any]] = []
    used = 0
    for item in window:
        size = len(json.dumps(item, ensure_ascii=False, default=str)) + 1
        if budget is not None and kept and used + size > budget:
            break
        kept.append(item)
        used += size
    end = offset + len(kept)
    truncated = end < len(items)
    note = None
    if truncated:
        why = (
            f"the ~{budget // 1000} KB size budget"
            if budget is not None and (limit is None or len(kept) < limit)
            else f"limit={limit}"
        )
        note = (
            f"{what} {offset + 1}-{end} of {len(items)} (cut at {why}); ask for the rest with "
            f"offset={end}, or narrow with the filters"
        )
    return {
        "offset": offset,
        "returned": len(kept),
        "truncated": truncated,
        "next_offset": end if truncated else None,
        "page": kept,
        "note": note,
    }


def name_matcher(pattern: str | None) -> Any:
    """A case-insensitive test for names: a glob (``user*``, ``*_log``, ``public.?x``) when the
    pattern has ``*`` or ``?``, else a substring. None matches everything."""
    if not pattern:
        return lambda _name: True
    wanted = pattern.lower()
    if any(c in wanted for c in "*?["):
        return lambda name: fnmatch.fnmatchcase(name.lower(), wanted)
    return lambda name: wanted in name.lower()
