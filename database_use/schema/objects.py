"""Every object of a snapshot by kind and by name: what ``introspect`` lists and shows.

Pure functions over a :class:`~database_use.schema.snapshot.Snapshot` (no I/O). Object names
are the snapshot's keys: ``schema.name`` for schema objects, the signature
``schema.name(identity arguments)`` for functions, the extension's name, and
``schema.table.name`` for what hangs on a table (triggers, policies, rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from database_use.errors import InvalidRequest
from database_use.schema import LISTED_KINDS
from database_use.schema.normalize import normalize_type, split_top_level
from database_use.schema.snapshot import Function, Policy, Rule, Snapshot, Table, Trigger

_DICTS = {
    "enums": "enums",
    "domains": "domains",
    "composite_types": "composite_types",
    "range_types": "range_types",
    "sequences": "sequences",
    "functions": "functions",
    "extensions": "extensions",
}
_ON_TABLES = {"triggers": "triggers", "policies": "policies", "rules": "rules"}
_SINGULAR = {
    "tables": "table",
    "views": "view",
    "partitions": "partition",
    "enums": "enum",
    "domains": "domain",
    "composite_types": "composite type",
    "range_types": "range type",
    "sequences": "sequence",
    "functions": "function",
    "triggers": "trigger",
    "policies": "policy",
    "rules": "rule",
    "extensions": "extension",
}
# words that begin a type name of more than one word (an argument "double precision" has no
# name; "amount integer" has one)
_MULTIWORD_TYPES = {"double", "character", "bit", "time", "timestamp", "interval", "national"}
_MODES = {"IN", "OUT", "INOUT", "VARIADIC"}


def kind_argument(kind: str) -> str:
    """The canonical spelling of a kind argument ("composite types", "range-types" too)."""
    canonical = kind.strip().lower().replace(" ", "_").replace("-", "_")
    if canonical not in LISTED_KINDS:
        raise InvalidRequest(f"unknown kind '{kind}'; use one of: {', '.join(LISTED_KINDS)}")
    return canonical


def objects_of(snap: Snapshot, kind: str) -> Iterator[tuple[str, Any]]:
    """``(name, object)`` of one kind, sorted by name."""
    if kind in _DICTS:
        objs = getattr(snap, _DICTS[kind])
        for key in sorted(objs):
            yield key, objs[key]
        return
    if kind in _ON_TABLES:
        attr = _ON_TABLES[kind]
        for key in sorted(snap.tables):
            for item in sorted(getattr(snap.tables[key], attr), key=lambda x: x.name):
                yield f"{key}.{item.name}", item
        return
    for key in sorted(snap.tables):
        table = snap.tables[key]
        if _table_kind(table) == kind:
            yield key, table


def _table_kind(table: Table) -> str:
    if table.is_partition:
        return "partitions"
    return "views" if table.is_view else "tables"


def counts(snap: Snapshot) -> dict[str, int]:
    """How many objects of each kind beyond tables, views and enums (only kinds present): the
    overview lists those one per line already."""
    out: dict[str, int] = {}
    for kind in LISTED_KINDS:
        if kind in ("tables", "views", "enums"):
            continue
        n = sum(1 for _ in objects_of(snap, kind))
        if n:
            out[kind] = n
    return out


def summary(kind: str, obj: Any) -> str:
    """One line about one object (tables have their own, richer line in the service)."""
    if kind == "enums":
        return " | ".join(obj.labels)
    if kind == "domains":
        bits = [obj.base_type]
        if not obj.nullable:
            bits.append("NOT NULL")
        if obj.default is not None:
            bits.append(f"default {obj.default}")
        bits.extend(f"check ({c.expression})" for c in obj.checks)
        return " ".join(bits)
    if kind == "composite_types":
        return ", ".join(f"{a.name} {a.type}" for a in obj.attributes)
    if kind == "range_types":
        return f"range of {obj.subtype}"
    if kind == "sequences":
        line = f"{obj.data_type} start {obj.start} increment {obj.increment}"
        return line + (f", owned by {obj.owned_by}" if obj.owned_by else "")
    if kind == "functions":
        returns = f" returns {obj.returns}" if obj.returns else ""
        return f"{obj.kind}{returns}, {obj.language} {obj.volatility}"
    if kind == "triggers":
        state = "" if obj.enabled == "origin" else f" [{obj.enabled}]"
        return (
            f"{obj.timing} {' OR '.join(obj.events)} FOR EACH {obj.level} "
            f"EXECUTE {obj.function}{state}"
        )
    if kind == "policies":
        how = "permissive" if obj.permissive else "restrictive"
        return f"{obj.command} to {', '.join(obj.roles)} ({how})"
    if kind == "rules":
        return f"ON {obj.event}" + ("" if obj.enabled == "origin" else f" [{obj.enabled}]")
    if kind == "extensions":
        return f"{obj.version} in schema {obj.schema}"
    return ""


def find(snap: Snapshot, name: str) -> list[tuple[str, str, Any]]:
    """Every ``(kind, name, object)`` that ``name`` designates: a qualified or unambiguous
    bare name of any kind, a function with or without its argument types."""
    found: list[tuple[str, str, Any]] = []
    table = snap.table(name)
    if table is not None:
        found.append((_table_kind(table), table.qualified_name, table))
    for kind in LISTED_KINDS:
        if kind in ("tables", "views", "partitions"):
            continue
        for key, obj in objects_of(snap, kind):
            if _designates(name, key, obj):
                found.append((kind, key, obj))
    return found


def _designates(name: str, key: str, obj: Any) -> bool:
    if name == key:
        return True
    if isinstance(obj, Function):
        wanted_name, paren, args = name.partition("(")
        if wanted_name not in (obj.name, f"{obj.schema}.{obj.name}"):
            return False
        if not paren:
            return True
        return argument_types(args.removesuffix(")")) == argument_types(obj.identity_arguments)
    if isinstance(obj, (Trigger, Policy, Rule)):
        return name == obj.name
    return name == getattr(obj, "name", None)


def argument_types(arguments: str) -> list[str]:
    """The argument types of ``pg_get_function_identity_arguments`` (or of a user's
    ``integer, text``), without names and modes, in canonical spelling."""
    types = []
    for arg in split_top_level(arguments):
        words = arg.split()
        if words and words[0].upper() in _MODES:
            words = words[1:]
        if words and words[0].startswith('"'):  # a quoted name (may hold spaces)
            rest = arg[arg.index('"') + 1 :]
            end = rest.find('"')
            while end >= 0 and rest[end : end + 2] == '""':
                end = rest.find('"', end + 2)
            words = rest[end + 1 :].split()
        elif len(words) > 1 and words[0].lower() not in _MULTIWORD_TYPES:
            words = words[1:]
        if words:
            types.append(normalize_type(" ".join(words)))
    return types


def detail(kind: str, obj: Any) -> dict[str, Any]:
    """The object in full, as plain data (a table's rows and sizes included)."""
    data = asdict(obj)
    if kind == "functions":
        data["signature"] = obj.signature
        data["body_digest"] = obj.body_digest
    return data


def singular(kind: str) -> str:
    return _SINGULAR[kind]
