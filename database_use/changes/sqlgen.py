"""Generating the SQL of a column change — and nothing the caller typed goes in unchecked.

- Existing tables and columns are looked up in the live snapshot; their names come from
  the catalog and are always double-quoted (PostgreSQL's own quoting rule: ``"`` → ``""``).
- New column names must be plain lower-case identifiers (``^[a-z_][a-z0-9_]*$``, ≤ 63 bytes):
  anything else is rejected, not quoted into a surprise.
- Types are parsed into a known canonical type (``format_type`` spelling) built from a
  whitelist and integers, or an enum that exists in the snapshot (quoted).
- Defaults are a number, ``true``/``false``/``null``, a quoted string (re-escaped by us),
  optionally with a ``::type`` cast (type parsed as above), or one of a few known functions.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from database_use.errors import InvalidRequest
from database_use.schema.snapshot import Column, Snapshot, Table

NEW_NAME = re.compile(r"[a-z_][a-z0-9_]*")
MAX_IDENTIFIER_BYTES = 63

# alias → canonical base name (format_type spelling, without modifiers)
_BASE_TYPES: dict[str, str] = {
    "integer": "integer",
    "int": "integer",
    "int4": "integer",
    "bigint": "bigint",
    "int8": "bigint",
    "smallint": "smallint",
    "int2": "smallint",
    "text": "text",
    "boolean": "boolean",
    "bool": "boolean",
    "character varying": "character varying",
    "varchar": "character varying",
    "character": "character",
    "char": "character",
    "numeric": "numeric",
    "decimal": "numeric",
    "real": "real",
    "float4": "real",
    "double precision": "double precision",
    "float8": "double precision",
    "date": "date",
    "time": "time",
    "timetz": "timetz",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "interval": "interval",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "jsonb",
    "bytea": "bytea",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
}
_WITH_LENGTH = {"character varying", "character"}
_WITH_PRECISION = {"time", "timetz", "timestamp", "timestamptz", "interval"}
_TYPE_SHAPE = re.compile(
    r"(?P<base>[a-z][a-z0-9 ]*?)\s*(?:\(\s*(?P<a>\d{1,4})\s*(?:,\s*(?P<b>\d{1,4})\s*)?\))?"
    r"(?P<tz>\s+with(?:out)?\s+time\s+zone)?(?P<arr>(?:\s*\[\s*\])*)"
)

# Functions accepted as defaults, with PostgreSQL's volatility (drives the rewrite rule).
DEFAULT_FUNCTIONS: dict[str, tuple[str, str]] = {
    # spelling typed (lower-case) → (SQL we emit, volatility)
    "now()": ("now()", "stable"),
    "current_timestamp": ("CURRENT_TIMESTAMP", "stable"),
    "current_date": ("CURRENT_DATE", "stable"),
    "current_time": ("CURRENT_TIME", "stable"),
    "localtimestamp": ("LOCALTIMESTAMP", "stable"),
    "transaction_timestamp()": ("transaction_timestamp()", "stable"),
    "statement_timestamp()": ("statement_timestamp()", "stable"),
    "clock_timestamp()": ("clock_timestamp()", "volatile"),
    "gen_random_uuid()": ("gen_random_uuid()", "volatile"),
    "random()": ("random()", "volatile"),
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTED = re.compile(r"'((?:[^']|'')*)'(?:\s*::\s*(?P<cast>.+))?", re.S)


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (always quoted; NUL rejected)."""
    if not name or "\x00" in name or len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise InvalidRequest(f"invalid identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a standard SQL string literal (we SET standard_conforming_strings on)."""
    if "\x00" in text:
        raise InvalidRequest("a string may not contain a NUL character")
    return "'" + text.replace("'", "''") + "'"


def display_ident(name: str) -> str:
    """Quote only when needed (how format_type shows a name); for display, not for SQL."""
    from database_use.schema.normalize import quote_ident as pg_quote_ident

    return pg_quote_ident(name)


def qualified(table: Table) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def check_new_name(name: str | None, what: str = "column name") -> str:
    if name is None or not NEW_NAME.fullmatch(name) or len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise InvalidRequest(
            f"invalid new {what} {name!r}: use a lower-case identifier of letters, digits and "
            "underscores, starting with a letter or underscore, at most 63 characters"
        )
    return name


# -- types ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedType:
    canonical: str  # as the live snapshot spells it (format_type)
    sql: str  # what we put into the statement
    base: str  # canonical base (or "enum")
    length: int | None = None  # varchar/char length, numeric precision, time precision
    scale: int | None = None
    array: bool = False
    enum: str | None = None  # qualified enum name

    @property
    def is_json(self) -> bool:
        return self.base == "json"


def parse_type(text: str | None, snapshot: Snapshot) -> ParsedType:
    """A known canonical type, or an existing enum of ``snapshot``; InvalidRequest otherwise."""
    if text is None or not text.strip():
        raise InvalidRequest("a type is required for this action")
    raw = " ".join(text.split())
    enum = _find_enum(raw, snapshot)
    if enum is not None:
        return enum
    lowered = raw.lower()
    match = _TYPE_SHAPE.fullmatch(lowered)
    if not match or match["base"].strip() not in _BASE_TYPES:
        raise InvalidRequest(
            f"unknown or unsupported type {text!r}: use a built-in type such as integer, bigint, "
            "text, varchar(n), numeric(p,s), boolean, date, timestamptz, uuid, jsonb, or an "
            f"existing enum ({', '.join(sorted(snapshot.enums)) or 'none defined'})"
        )
    base = _BASE_TYPES[match["base"].strip()]
    a = int(match["a"]) if match["a"] is not None else None
    b = int(match["b"]) if match["b"] is not None else None
    tz = match["tz"]
    array = bool(match["arr"].strip())
    if tz and base not in ("time", "timestamp"):
        raise InvalidRequest(f"'with time zone' does not apply to {base}")
    if b is not None and base != "numeric":
        raise InvalidRequest(f"type {base} takes at most one modifier")
    if a is not None and base not in _WITH_LENGTH | _WITH_PRECISION | {"numeric"}:
        raise InvalidRequest(f"type {base} takes no modifier")
    if base in _WITH_LENGTH and a is not None and not 1 <= a <= 10_485_760:
        raise InvalidRequest(f"length of {base} must be between 1 and 10485760")
    if base in _WITH_PRECISION and a is not None and not 0 <= a <= 6:
        raise InvalidRequest(f"precision of {base} must be between 0 and 6")
    if base == "numeric" and a is not None:
        if not 1 <= a <= 1000:
            raise InvalidRequest("numeric precision must be between 1 and 1000")
        if b is not None and not 0 <= b <= a:
            raise InvalidRequest("numeric scale must be between 0 and the precision")
    if base == "character" and a is None:
        a = 1  # PostgreSQL's own default: char = char(1)
    with_tz = base == "timestamptz" or base == "timetz" or (tz is not None and "without" not in tz)
    if base in ("timestamp", "timestamptz"):
        base, name = ("timestamptz" if with_tz else "timestamp"), "timestamp"
    elif base in ("time", "timetz"):
        base, name = ("timetz" if with_tz else "time"), "time"
    else:
        name = base
    mods = ""
    if a is not None:
        mods = f"({a},{b})" if b is not None else (f"({a},0)" if base == "numeric" else f"({a})")
    if base in ("timestamp", "timestamptz", "time", "timetz"):
        canonical = f"{name}{mods} {'with' if with_tz else 'without'} time zone"
    else:
        canonical = f"{name}{mods}"
    if array:
        canonical += "[]"
    return ParsedType(canonical=canonical, sql=canonical, base=base, length=a, scale=b, array=array)


def _find_enum(raw: str, snapshot: Snapshot) -> ParsedType | None:
    array = raw.endswith("[]")
    name = raw[:-2].rstrip() if array else raw
    candidates = [name, f"public.{name}"]
    for key in candidates:
        enum = snapshot.enums.get(key)
        if enum is not None:
            # Spelled as the live source spells it (quoted only when PostgreSQL needs it).
            shown = (
                display_ident(enum.name)
                if enum.schema == "public"
                else (f"{display_ident(enum.schema)}.{display_ident(enum.name)}")
            )
            sql = f"{quote_ident(enum.schema)}.{quote_ident(enum.name)}"
            suffix = "[]" if array else ""
            return ParsedType(
                canonical=shown + suffix,
                sql=sql + suffix,
                base="enum",
                array=array,
                enum=enum.qualified_name,
            )
    return None


def type_of_column(column: Column, snapshot: Snapshot) -> ParsedType | None:
    """The parsed form of an existing column's type (None when we cannot read it)."""
    try:
        return parse_type(column.type, snapshot)
    except InvalidRequest:
        return None


# -- defaults -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedDefault:
    sql: str
    volatile: bool
    kind: str  # number | boolean | null | string | function


def parse_default(text: str | None, snapshot: Snapshot) -> ParsedDefault:
    """A checked default expression; InvalidRequest naming the accepted forms otherwise."""
    if text is None:
        raise InvalidRequest("a default is required for this action")
    raw = text.strip()
    lowered = " ".join(raw.lower().split())
    if _NUMBER.fullmatch(raw):
        return ParsedDefault(raw, False, "number")
    if lowered in ("true", "false"):
        return ParsedDefault(lowered, False, "boolean")
    if lowered == "null":
        return ParsedDefault("NULL", False, "null")
    if lowered in DEFAULT_FUNCTIONS:
        sql, volatility = DEFAULT_FUNCTIONS[lowered]
        return ParsedDefault(sql, volatility == "volatile", "function")
    match = _QUOTED.fullmatch(raw)
    if match:
        value = match.group(1).replace("''", "'")
        sql = quote_literal(value)
        if match["cast"]:
            sql += "::" + parse_type(match["cast"], snapshot).sql
        return ParsedDefault(sql, False, "string")
    raise InvalidRequest(
        f"unsupported default {text!r}: use a number, true, false, null, a quoted string "
        "('like this', optionally with ::type), or one of " + ", ".join(sorted(DEFAULT_FUNCTIONS))
    )
