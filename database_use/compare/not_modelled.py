"""Against the models: what the other side holds that SQLAlchemy models cannot declare.

Views, partitions, row-level security, triggers, policies, rules, grants, comments on indexes,
enums and sequences, sequences the models do not declare, domains, composite and range types,
functions, extensions and schema comments. Each kind is reported once, with a count and the
first names: information, not drift (``compare`` never counts it, so it never fails).
"""

from __future__ import annotations

from database_use.compare.kinds import SCHEMA_KINDS, SEQUENCE, grantee_label
from database_use.compare.table_kinds import BOUND_KINDS
from database_use.schema.snapshot import Sequence, Snapshot

NOT_MODELLED = "not_modelled"
NAMES_SHOWN = 20  # names listed per entry (``count`` says how many in all)


# -- against the models: what they cannot hold, once per kind --------------------------------


def _owned_by_model(seq: Sequence, models: Snapshot) -> bool:
    """A serial column's sequence, the column in a modelled table: the models imply it."""
    if not seq.owned_by:
        return False
    table, _, _column = seq.owned_by.rpartition(".")
    return table in models.tables


def _not_modelled_names(other: Snapshot, models: Snapshot) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def add(kind: str, name: str) -> None:
        found.setdefault(kind, []).append(name)

    for key in sorted(other.tables):
        t = other.tables[key]
        if t.is_view and key not in models.tables:
            add("view", key)
        elif t.is_partition:
            add("partition", key)
        if t.rls_enabled or t.rls_forced:
            add("row_level_security", key)
        for kind in BOUND_KINDS:
            for item in getattr(t, kind.attr):
                add(kind.object, f"{key}.{item.name}")
        for grant in t.privileges:
            add("grant", f"{grantee_label(grant)} on {key}")
        if not (t.is_view or t.is_partition):
            for index in t.indexes:
                if index.comment:
                    add("comment", f"index {key}.{index.name or ','.join(index.columns)}")
    for kind in SCHEMA_KINDS:
        objs = getattr(other, kind.attr)
        for key in sorted(objs):
            obj = objs[key]
            if kind is SEQUENCE:
                if key not in models.sequences and not _owned_by_model(obj, models):
                    add("sequence", key)
                if obj.comment:
                    add("comment", f"sequence {key}")
            elif not kind.modelled:
                add(kind.object, key)
            for grant in getattr(obj, "privileges", []):
                add("grant", f"{grantee_label(grant)} on {kind.object} {key}")
    for key in sorted(other.enums):
        if other.enums[key].comment:
            add("comment", f"enum {key}")
    for schema in sorted(other.schema_comments):
        add("schema_comment", schema)
    for schema in sorted(other.schema_privileges):
        for grant in other.schema_privileges[schema]:
            add("grant", f"{grantee_label(grant)} on schema {schema}")
    return found


_NOT_MODELLED_ORDER = (
    "view",
    "partition",
    "row_level_security",
    "trigger",
    "policy",
    "rule",
    "grant",
    "comment",
    "sequence",
    "domain",
    "composite_type",
    "range_type",
    "function",
    "extension",
    "schema_comment",
)


def not_modelled(left: Snapshot, right: Snapshot, left_name: str, right_name: str) -> list[dict]:
    """What the non-models side holds that SQLAlchemy models cannot declare: one entry per kind
    (``object``, ``status`` "not_modelled", ``side``, ``count``, the first ``names``,
    ``message``). Information, not drift: it never makes a compare fail. Empty unless exactly
    one side is the models."""
    if (left.source == "models") == (right.source == "models"):
        return []
    models, other, side = (
        (left, right, right_name) if left.source == "models" else (right, left, left_name)
    )
    found = _not_modelled_names(other, models)
    where = {"db": "database", "doc": "doc"}.get(side, side)
    out = []
    for kind in _NOT_MODELLED_ORDER:
        names = found.get(kind)
        if not names:
            continue
        words = kind.replace("_", " ")
        more = len(names) - NAMES_SHOWN
        out.append(
            {
                "object": kind,
                "status": NOT_MODELLED,
                "side": side,
                "count": len(names),
                "names": names[:NAMES_SHOWN],
                "message": f"{len(names)} × {words} in the {where}, not modelled (SQLAlchemy "
                "models cannot declare it): information, nothing to change in the models"
                + (f"; {more} more not listed" if more > 0 else ""),
            }
        )
    return out
