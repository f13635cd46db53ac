"""Planning a column change: request → checked request → SQL statements → expected state.

Pure functions over a live :class:`~database_use.schema.snapshot.Snapshot` (no I/O), so the same
request planned against the same schema always yields byte-identical SQL. The apply step
relies on that: it plans again and refuses if the result differs from what was approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from database_use.changes import ACTIONS
from database_use.changes.risk import RiskContext, binary_coercible
from database_use.changes.sqlgen import (
    ParsedDefault,
    ParsedType,
    check_new_name,
    parse_default,
    parse_type,
    qualified,
    quote_ident,
    quote_literal,
    type_of_column,
)
from database_use.errors import InvalidRequest, NotFound
from database_use.schema.normalize import normalize_type
from database_use.schema.snapshot import Column, Snapshot, Table

# Which optional arguments each action takes (anything else given is an error, not ignored).
_ALLOWED: dict[str, set[str]] = {
    "add": {"type", "nullable", "default", "comment"},
    "alter_type": {"type"},
    "rename": {"new_name"},
    "drop": set(),
    "set_not_null": set(),
    "drop_not_null": set(),
    "set_default": {"default"},
    "drop_default": set(),
    "set_comment": {"comment"},
}
MAX_COMMENT = 2000


@dataclass
class Plan:
    request: dict[str, Any]
    table: Table
    column_name: str
    statements: list[str]
    expected: dict[str, Any]
    risk_context: RiskContext
    notes: list[str] = field(default_factory=list)


def normalize_request(
    table: str,
    action: str,
    column: str,
    new_name: str | None = None,
    type: str | None = None,
    nullable: bool | None = None,
    default: str | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """The request as stored in the proposal; InvalidRequest for wrong argument combinations."""
    if action not in ACTIONS:
        raise InvalidRequest(f"unknown action {action!r}; use one of: {', '.join(ACTIONS)}")
    if not isinstance(table, str) or not table.strip():
        raise InvalidRequest("table is required")
    if not isinstance(column, str) or not column:
        raise InvalidRequest("column is required")
    given = {
        "new_name": new_name,
        "type": type,
        "nullable": nullable,
        "default": default,
        "comment": comment,
    }
    extra = sorted(k for k, v in given.items() if v is not None and k not in _ALLOWED[action])
    if extra:
        raise InvalidRequest(f"{', '.join(extra)} does not apply to action {action!r}")
    if action in ("add", "alter_type") and type is None:
        raise InvalidRequest(f"action {action!r} needs a type")
    if action == "rename" and new_name is None:
        raise InvalidRequest("action 'rename' needs new_name")
    if action == "set_default" and default is None:
        raise InvalidRequest("action 'set_default' needs a default")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidRequest(f"comment longer than {MAX_COMMENT} characters")
    return {
        "table": table.strip(),
        "action": action,
        "column": column,
        **{k: v for k, v in given.items() if v is not None},
    }


def _find_table(snapshot: Snapshot, name: str) -> Table:
    table = snapshot.table(name)
    if table is None:
        known = ", ".join(sorted(snapshot.tables)[:20]) or "(none)"
        raise NotFound(f"table {name!r} not found in the live database; tables: {known}")
    if table.kind not in ("table", "partitioned table"):
        raise InvalidRequest(
            f"{table.qualified_name} is a {table.kind}; only tables can be changed"
        )
    return table


def plan_change(
    snapshot: Snapshot,
    request: dict[str, Any],
    server_version_num: int,
    has_rows: bool | None = None,
) -> Plan:
    """Check ``request`` against the live ``snapshot`` and build the exact SQL (no I/O)."""
    action = request["action"]
    table = _find_table(snapshot, request["table"])
    name = request["column"]
    existing = table.column(name)
    if action == "add":
        if existing is not None:
            raise InvalidRequest(f"column {name!r} already exists in {table.qualified_name}")
        check_new_name(name)
    elif existing is None:
        known = ", ".join(c.name for c in table.columns)
        raise NotFound(f"column {name!r} not found in {table.qualified_name}; columns: {known}")
    target = qualified(table)
    col = quote_ident(name)
    new_type: ParsedType | None = None
    old_type: ParsedType | None = type_of_column(existing, snapshot) if existing else None
    default: ParsedDefault | None = None
    statements: list[str] = []
    expected: dict[str, Any] = {"table": table.qualified_name, "column": name}
    new_name = None

    if action == "add":
        new_type = parse_type(request["type"], snapshot)
        nullable = request.get("nullable", True)
        if not isinstance(nullable, bool):
            raise InvalidRequest("nullable must be true or false")
        sql = f"ALTER TABLE {target} ADD COLUMN {col} {new_type.sql}"
        if "default" in request:
            default = parse_default(request["default"], snapshot)
            if default.kind != "null":
                sql += f" DEFAULT {default.sql}"
        if not nullable:
            sql += " NOT NULL"
        statements.append(sql)
        expected.update(
            exists=True,
            type=new_type.canonical,
            nullable=nullable,
            has_default=default is not None and default.kind != "null",
        )
        if request.get("comment") is not None:
            statements.append(_comment_sql(target, col, request["comment"]))
            expected["comment"] = request["comment"] or None
    elif action == "alter_type":
        assert existing is not None
        new_type = parse_type(request["type"], snapshot)
        if normalize_type(existing.type) == normalize_type(new_type.canonical):
            raise InvalidRequest(f"{table.qualified_name}.{name} already has type {existing.type}")
        sql = f"ALTER TABLE {target} ALTER COLUMN {col} TYPE {new_type.sql}"
        if old_type is None or not binary_coercible(old_type, new_type):
            # The same rule as the risk check decides USING. An explicit cast lets conversions without an assignment cast (text → integer) work.
            sql += f" USING {col}::{new_type.sql}"
        statements.append(sql)
        expected.update(exists=True, type=new_type.canonical)
    elif action == "rename":
        new_name = check_new_name(request["new_name"], "column name")
        if table.column(new_name) is not None:
            raise InvalidRequest(f"column {new_name!r} already exists in {table.qualified_name}")
        statements.append(f"ALTER TABLE {target} RENAME COLUMN {col} TO {quote_ident(new_name)}")
        expected.update(exists=False, renamed_to=new_name)
    elif action == "drop":
        statements.append(f"ALTER TABLE {target} DROP COLUMN {col}")
        expected.update(exists=False)
    elif action in ("set_not_null", "drop_not_null"):
        assert existing is not None
        want_nullable = action == "drop_not_null"
        if existing.nullable == want_nullable:
            state = "nullable" if want_nullable else "NOT NULL"
            raise InvalidRequest(f"{table.qualified_name}.{name} is already {state}")
        verb = "DROP" if want_nullable else "SET"
        statements.append(f"ALTER TABLE {target} ALTER COLUMN {col} {verb} NOT NULL")
        expected.update(exists=True, nullable=want_nullable)
    elif action == "set_default":
        assert existing is not None
        if existing.identity or existing.generated:
            raise InvalidRequest(f"{table.qualified_name}.{name} is an identity/generated column")
        default = parse_default(request["default"], snapshot)
        if default.kind == "null":
            raise InvalidRequest("to remove a default use action 'drop_default'")
        statements.append(f"ALTER TABLE {target} ALTER COLUMN {col} SET DEFAULT {default.sql}")
        expected.update(exists=True, has_default=True)
    elif action == "drop_default":
        assert existing is not None
        if existing.default is None:
            raise InvalidRequest(f"{table.qualified_name}.{name} has no default")
        statements.append(f"ALTER TABLE {target} ALTER COLUMN {col} DROP DEFAULT")
        expected.update(exists=True, has_default=False)
    elif action == "set_comment":
        assert existing is not None
        comment = request.get("comment") or None
        if (existing.comment or None) == comment:
            raise InvalidRequest(f"{table.qualified_name}.{name} already has this comment")
        statements.append(_comment_sql(target, col, comment))
        expected.update(exists=True, comment=comment)

    ctx = RiskContext(
        action=action,
        table=table,
        column=existing,
        column_name=name,
        server_version_num=server_version_num,
        has_rows=has_rows,
        new_type=new_type,
        old_type=old_type,
        default=default,
        nullable=request.get("nullable", True) if action == "add" else None,
        new_name=new_name,
    )
    return Plan(
        request=request,
        table=table,
        column_name=name,
        statements=statements,
        expected=expected,
        risk_context=ctx,
    )


def _comment_sql(target: str, col: str, comment: str | None) -> str:
    value = quote_literal(comment) if comment else "NULL"
    return f"COMMENT ON COLUMN {target}.{col} IS {value}"


def sql_text(statements: list[str]) -> str:
    """The exact text a person sees and approves (its SHA-256 binds the approval)."""
    return "".join(f"{s};\n" for s in statements)


def verify_expected(snapshot: Snapshot, expected: dict[str, Any]) -> list[str]:
    """What in ``snapshot`` contradicts ``expected`` (empty list: the change is there)."""
    table = snapshot.table(expected["table"])
    if table is None:
        return [f"table {expected['table']} is gone"]
    name = expected["column"]
    column: Column | None = table.column(name)
    problems: list[str] = []
    if not expected["exists"]:
        if column is not None:
            problems.append(f"column {name} still exists")
        renamed = expected.get("renamed_to")
        if renamed and table.column(renamed) is None:
            problems.append(f"column {renamed} does not exist")
        return problems
    if column is None:
        return [f"column {name} does not exist"]
    if "type" in expected and normalize_type(column.type) != normalize_type(expected["type"]):
        problems.append(f"type is {column.type}, expected {expected['type']}")
    if "nullable" in expected and column.nullable != expected["nullable"]:
        problems.append(f"nullable is {column.nullable}, expected {expected['nullable']}")
    if "has_default" in expected and (column.default is not None) != expected["has_default"]:
        problems.append("default " + ("missing" if expected["has_default"] else "still present"))
    if "comment" in expected and (column.comment or None) != expected["comment"]:
        problems.append("comment differs")
    return problems
