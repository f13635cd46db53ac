"""Risk findings for a planned column change: data, not prose.

Each rule is a small function ``rule(ctx) -> Finding | None``; :func:`assess` runs them all.
A finding has a stable ``code``, a ``level`` (info | warning | danger), the lock the
statement takes, what happens, and the safe alternative. Rules know the PostgreSQL version
(``server_version_num``) and the table's size: estimated rows and bytes from the catalog,
plus whether it has any row at all (exact, one cheap query by the caller).

Codes (stable; documented in the README):

======================================  =======  ===========================================
code                                     level    when
======================================  =======  ===========================================
add_column_volatile_default              danger*  ADD COLUMN with a volatile default (rewrite)
add_column_default_rewrite               danger*  ADD COLUMN with any default before PG 11
add_column_not_null_without_default      danger*  ADD COLUMN NOT NULL, no default, rows exist
set_not_null_full_scan                   warning  SET NOT NULL (full scan under ACCESS EXCLUSIVE)
alter_type_rewrite                       danger*  type change that is not binary coercible
alter_type_shrink                        danger   varchar/numeric made smaller (scan + may fail)
rename_column_breaks_code                warning  RENAME COLUMN (running code still uses the name)
drop_column_data_loss                    danger   DROP COLUMN (irreversible)
drop_column_dependents                   danger   the dropped column is in an index/constraint
json_instead_of_jsonb                    warning  a json (not jsonb) column
primary_key_column                       danger   type change / drop of a primary-key column
======================================  =======  ===========================================

``*``: ``warning`` when the table is empty — the same statement is then cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from database_use.changes.sqlgen import ParsedDefault, ParsedType
from database_use.schema.snapshot import Column, Table

Level = Literal["info", "warning", "danger"]
LEVELS: tuple[str, ...] = ("info", "warning", "danger")
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"


@dataclass
class Finding:
    code: str
    level: Level
    message: str
    lock: str
    safe_alternative: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RiskContext:
    """Everything a rule may look at; built by the change planner."""

    action: str
    table: Table
    column: Column | None  # the existing column (None for add)
    column_name: str
    server_version_num: int
    has_rows: bool | None = None  # exact: is there at least one row? (None: unknown)
    new_type: ParsedType | None = None
    old_type: ParsedType | None = None
    default: ParsedDefault | None = None
    nullable: bool | None = None
    new_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def populated(self) -> bool:
        """Assume rows exist unless we know the table is empty (fail closed)."""
        if self.has_rows is not None:
            return self.has_rows
        return (self.table.estimated_rows or 0) != 0

    def size_text(self) -> str:
        rows = self.table.estimated_rows
        if rows is None or rows < 0:
            rows_text = "at least 1" if self.has_rows else "unknown"
        else:
            rows_text = f"~{rows:,}"
        size = self.table.size_bytes
        size_text = "unknown size" if size is None else _bytes(size)
        empty = " (empty)" if self.has_rows is False else ""
        return f"{self.table.qualified_name}: {rows_text} rows, {size_text}{empty}"

    def big(self, danger: Level = "danger") -> Level:
        return danger if self.populated else "warning"


def _bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


Rule = Callable[[RiskContext], Finding | None]


# -- rules ---------------------------------------------------------------------------------
def add_column_volatile_default(ctx: RiskContext) -> Finding | None:
    if ctx.action != "add" or ctx.default is None or not ctx.default.volatile:
        return None
    return Finding(
        "add_column_volatile_default",
        ctx.big(),
        f"the volatile default {ctx.default.sql} is evaluated for every existing row: the whole "
        f"table is rewritten under an ACCESS EXCLUSIVE lock ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "add the column without a default (or with a constant one), set the default for new "
        "rows with SET DEFAULT, then backfill existing rows in small batches",
    )


def add_column_default_rewrite(ctx: RiskContext) -> Finding | None:
    if ctx.action != "add" or ctx.default is None or ctx.default.kind == "null":
        return None
    if ctx.server_version_num >= 110000 or ctx.default.volatile:
        return None  # PG 11+: a non-volatile default is metadata only
    return Finding(
        "add_column_default_rewrite",
        ctx.big(),
        f"before PostgreSQL 11 ADD COLUMN ... DEFAULT rewrites the whole table ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "add the column without a default, SET DEFAULT in a second step, backfill in batches",
    )


def add_column_not_null_without_default(ctx: RiskContext) -> Finding | None:
    if ctx.action != "add" or ctx.nullable is not False:
        return None
    if ctx.default is not None and ctx.default.kind != "null":
        return None
    if not ctx.populated:
        return None
    return Finding(
        "add_column_not_null_without_default",
        "danger",
        f"a NOT NULL column without a default cannot be added to a table that has rows: the "
        f"statement fails ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "add it nullable (or with a constant default), backfill, then SET NOT NULL via a "
        "CHECK (col IS NOT NULL) NOT VALID constraint",
    )


def set_not_null_full_scan(ctx: RiskContext) -> Finding | None:
    if ctx.action != "set_not_null":
        return None
    pg12 = ctx.server_version_num >= 120000
    alternative = (
        "on PostgreSQL 12+: ADD CONSTRAINT <name> CHECK (col IS NOT NULL) NOT VALID; then "
        "VALIDATE CONSTRAINT <name> (only SHARE UPDATE EXCLUSIVE); then SET NOT NULL uses the "
        "validated constraint and skips the scan; finally drop the CHECK"
        if pg12
        else "before PostgreSQL 12 SET NOT NULL always scans; run it in a quiet period, or keep a "
        "validated CHECK (col IS NOT NULL) constraint instead"
    )
    return Finding(
        "set_not_null_full_scan",
        "warning",
        f"SET NOT NULL scans every row under an ACCESS EXCLUSIVE lock (reads and writes wait), "
        f"and fails if any row holds NULL ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        alternative,
    )


def binary_coercible(old: ParsedType, new: ParsedType) -> bool:
    """Type changes PostgreSQL does without rewriting the table."""
    if old.array != new.array:
        return False
    text_like = {"character varying", "text"}
    if old.base in text_like and new.base in text_like:
        if new.base == "text" or new.length is None:
            return True  # varchar(n) → varchar / text, text → varchar
        return (
            old.base == "character varying" and old.length is not None and new.length >= old.length
        )
    if old.base == "numeric" and new.base == "numeric":
        if new.length is None:
            return True
        return (
            old.length is not None
            and new.length >= old.length
            and (new.scale or 0) == (old.scale or 0)
        )
    if old.base == new.base and old.base in (
        "timestamp",
        "timestamptz",
        "time",
        "timetz",
        "interval",
    ):
        return new.length is None or (old.length is not None and new.length >= old.length)
    return old.base == "cidr" and new.base == "inet"


def _shrinks(old: ParsedType, new: ParsedType) -> bool:
    if old.base == new.base == "character varying" and new.length is not None:
        return old.length is None or new.length < old.length
    if old.base == "text" and new.base == "character varying" and new.length is not None:
        return True
    if old.base == new.base == "numeric" and new.length is not None:
        return old.length is None or new.length < old.length or (new.scale or 0) < (old.scale or 0)
    return False


def alter_type_rewrite(ctx: RiskContext) -> Finding | None:
    if ctx.action != "alter_type" or ctx.new_type is None:
        return None
    if ctx.old_type is not None and (
        binary_coercible(ctx.old_type, ctx.new_type) or _shrinks(ctx.old_type, ctx.new_type)
    ):
        return None
    old = ctx.column.type if ctx.column else "?"
    return Finding(
        "alter_type_rewrite",
        ctx.big(),
        f"changing {old} → {ctx.new_type.canonical} rewrites the table and rebuilds its indexes "
        f"under an ACCESS EXCLUSIVE lock; rows that do not convert make it fail ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "add a new column of the new type, backfill it in batches, switch the code over, then "
        "drop the old column (binary-coercible changes such as varchar(n) → varchar(m ≥ n) or "
        "→ text need no rewrite)",
    )


def alter_type_shrink(ctx: RiskContext) -> Finding | None:
    if ctx.action != "alter_type" or ctx.new_type is None or ctx.old_type is None:
        return None
    if not _shrinks(ctx.old_type, ctx.new_type):
        return None
    return Finding(
        "alter_type_shrink",
        "danger",
        f"{ctx.old_type.canonical} → {ctx.new_type.canonical} makes the column smaller: every row "
        f"is checked (and the table rewritten) under ACCESS EXCLUSIVE; longer values make it fail "
        f"or numbers get rounded ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "add a CHECK constraint NOT VALID enforcing the new limit, VALIDATE it, fix offending "
        "rows, then change the type in a quiet period",
    )


def rename_column_breaks_code(ctx: RiskContext) -> Finding | None:
    """The rename breaks running code; whether renaming only the model attribute is a safe
    alternative depends on the project's own code, searched first (``extra["code_uses"]``:
    the ``file:line`` places that use the old name, with ``extra["files_searched"]``)."""
    if ctx.action != "rename":
        return None
    old, new = ctx.column_name, ctx.new_name
    uses: list[str] | None = ctx.extra.get("code_uses")
    message = (
        f"running code and queries that use {old!r} fail the moment the rename commits "
        "(deploys are not atomic with it)"
    )
    staged = "add the new column, write both, backfill, switch reads, then drop the old one"
    if uses is None:  # not searched: say what to check instead of calling it safe
        alternative = (
            f"before renaming only the model attribute ({new} = "
            f'mapped_column("{old}", ...)), find the code that uses .{old}; or {staged}'
        )
    elif not uses:
        alternative = (
            f"rename only the model attribute and keep the column: {new} = "
            f'mapped_column("{old}", ...) — no Python code in the project uses {old!r} '
            f"({ctx.extra.get('files_searched', 0)} files searched, venvs excluded); or {staged}"
        )
    else:
        shown = ", ".join(uses[:8]) + (f" and {len(uses) - 8} more" if len(uses) > 8 else "")
        message += f"; the project's code uses {old!r} at {shown}"
        alternative = (
            f"NOT safe to rename only the model attribute: the code above uses {old!r} and "
            f"would break. Keep the attribute name and point it at the new column ({old} = "
            f'mapped_column("{new}", ...)) in the same deploy, or update those places first; '
            f"or {staged}"
        )
    return Finding("rename_column_breaks_code", "warning", message, ACCESS_EXCLUSIVE, alternative)


def drop_column_data_loss(ctx: RiskContext) -> Finding | None:
    if ctx.action != "drop":
        return None
    return Finding(
        "drop_column_data_loss",
        "danger",
        f"dropping {ctx.column_name!r} deletes its data irreversibly, and code that still "
        f"selects it breaks ({ctx.size_text()})",
        ACCESS_EXCLUSIVE,
        "first remove every use from the code and the models (deploy that), take a backup of "
        "the column's data, then drop it",
    )


def drop_column_dependents(ctx: RiskContext) -> Finding | None:
    if ctx.action != "drop":
        return None
    name = ctx.column_name
    names: list[str] = []
    table = ctx.table
    for index in table.indexes:
        if name in index.columns or name in index.include:
            names.append(f"index {index.name}")
    for fk in table.foreign_keys:
        if name in fk.columns:
            names.append(f"foreign key {fk.name}")
    for unique in table.unique_constraints:
        if name in unique.columns:
            names.append(f"unique constraint {unique.name}")
    if not names:
        return None
    return Finding(
        "drop_column_dependents",
        "danger",
        "dropping the column also drops " + ", ".join(names),
        ACCESS_EXCLUSIVE,
        "check that nothing relies on these indexes or constraints before dropping",
    )


def json_instead_of_jsonb(ctx: RiskContext) -> Finding | None:
    if ctx.action not in ("add", "alter_type") or ctx.new_type is None or not ctx.new_type.is_json:
        return None
    return Finding(
        "json_instead_of_jsonb",
        "warning",
        "json stores the text as typed: no equality operator (DISTINCT, GROUP BY, UNIQUE fail), "
        "no GIN indexing, re-parsed on every access",
        ACCESS_EXCLUSIVE if ctx.action == "alter_type" else "none beyond the statement's",
        "use jsonb",
    )


def primary_key_column(ctx: RiskContext) -> Finding | None:
    if ctx.action not in ("alter_type", "drop", "drop_not_null"):
        return None
    pk = ctx.table.primary_key
    if pk is None or ctx.column_name not in pk.columns:
        return None
    return Finding(
        "primary_key_column",
        "danger",
        f"{ctx.column_name!r} is part of the primary key; foreign keys elsewhere may reference it",
        ACCESS_EXCLUSIVE,
        "plan primary-key changes as a migration of their own (new key column, backfill, swap)",
    )


RULES: tuple[Rule, ...] = (
    add_column_volatile_default,
    add_column_default_rewrite,
    add_column_not_null_without_default,
    set_not_null_full_scan,
    alter_type_rewrite,
    alter_type_shrink,
    rename_column_breaks_code,
    drop_column_data_loss,
    drop_column_dependents,
    json_instead_of_jsonb,
    primary_key_column,
)


def assess(ctx: RiskContext, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """All findings for ``ctx``, most severe first (stable order within a level)."""
    found = [f for f in (rule(ctx) for rule in rules) if f is not None]
    return sorted(found, key=lambda f: -LEVELS.index(f.level))


def lock_of(action: str) -> str:
    """The table lock the generated statement takes."""
    return "SHARE UPDATE EXCLUSIVE" if action == "set_comment" else ACCESS_EXCLUSIVE
