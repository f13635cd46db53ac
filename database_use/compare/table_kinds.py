"""The diff of what a table holds beyond columns, keys and indexes: partitioning, row-level
security, triggers, policies, rules and grants (table and column privileges).

Triggers, policies and rules match by name on the matched table, then one comparator per
attribute. Against the models only the partition key is compared (``postgresql_partition_by``);
the rest is summarised once by :mod:`database_use.compare.not_modelled`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from database_use.compare.kinds import (
    Attr,
    comment_attr,
    diff_grants,
    grantee_label,
    qualified,
    role,
)
from database_use.compare.records import Difference, Sides, changed, make_fix, missing
from database_use.schema.normalize import quote_ident
from database_use.schema.snapshot import Policy, Table, Trigger

# -- table-bound kinds --------------------------------------------------------------------------

_ENABLED_SQL = {
    "origin": "ENABLE",
    "disabled": "DISABLE",
    "replica": "ENABLE REPLICA",
    "always": "ENABLE ALWAYS",
}


@dataclass(frozen=True)
class Bound:
    """A kind held by a table, matched by name: triggers, policies, rules."""

    object: str
    attr: str
    sql_word: str  # TRIGGER, POLICY, RULE
    attrs: tuple[Attr, ...]  # sql(target, item) with target = '"name" ON "schema"."table"'
    create: Callable[[str, Any], str]  # (table SQL, item)
    summary: Callable[[Any], str]


def _enabled_attr(word: str) -> Attr:
    def sql(target: str, item: Any) -> str:
        name, _, table = target.partition(" ON ")
        return f"ALTER TABLE {table} {_ENABLED_SQL[item.enabled]} {word} {name}"

    return Attr("enabled", lambda x: x.enabled, sql)


def _trigger_summary(t: Trigger) -> str:
    text = f"{t.timing} {' OR '.join(t.events)} FOR EACH {t.level}"
    if t.when:
        text += f" WHEN ({t.when})"
    return f"{text} EXECUTE FUNCTION {t.function}"


def _policy_create(table: str, p: Policy) -> str:
    text = f"CREATE POLICY {quote_ident(p.name)} ON {table}"
    if not p.permissive:
        text += " AS RESTRICTIVE"
    text += f" FOR {p.command} TO {', '.join(role(r) for r in p.roles)}"
    if p.using:
        text += f" USING ({p.using})"
    if p.with_check:
        text += f" WITH CHECK ({p.with_check})"
    return text


def _policy_summary(p: Policy) -> str:
    kind = "permissive" if p.permissive else "restrictive"
    return f"{kind} FOR {p.command} TO {', '.join(p.roles)}"


TRIGGER = Bound(
    object="trigger",
    attr="triggers",
    sql_word="TRIGGER",
    attrs=(
        Attr("timing", lambda t: t.timing),
        Attr("events", lambda t: list(t.events)),
        Attr("level", lambda t: t.level),
        Attr("function", lambda t: t.function),
        Attr("when", lambda t: t.when),
        Attr("extra", lambda t: t.extra),
        _enabled_attr("TRIGGER"),
        comment_attr("TRIGGER"),
    ),
    create=lambda table, t: (
        f"create trigger {quote_ident(t.name)} on {table}: {_trigger_summary(t)}"
    ),
    summary=_trigger_summary,
)
POLICY = Bound(
    object="policy",
    attr="policies",
    sql_word="POLICY",
    attrs=(
        Attr("command", lambda p: p.command),
        Attr("permissive", lambda p: p.permissive),
        Attr(
            "roles",
            lambda p: sorted(p.roles),
            lambda t, p: f"ALTER POLICY {t} TO {', '.join(role(r) for r in p.roles)}",
        ),
        Attr(
            "using",
            lambda p: p.using,
            lambda t, p: f"ALTER POLICY {t} USING ({p.using})" if p.using else "",
        ),
        Attr(
            "with_check",
            lambda p: p.with_check,
            lambda t, p: f"ALTER POLICY {t} WITH CHECK ({p.with_check})" if p.with_check else "",
        ),
        comment_attr("POLICY"),
    ),
    create=_policy_create,
    summary=_policy_summary,
)
RULE = Bound(
    object="rule",
    attr="rules",
    sql_word="RULE",
    attrs=(
        Attr("event", lambda r: r.event),
        Attr("definition", lambda r: " ".join(r.definition.split())),
        _enabled_attr("RULE"),
        comment_attr("RULE"),
    ),
    create=lambda table, r: r.definition,
    summary=lambda r: f"ON {r.event}",
)
BOUND_KINDS = (TRIGGER, POLICY, RULE)


def partition_key_value(text: str | None) -> str | None:
    """``RANGE (placed_at)`` and ``range(placed_at)`` alike (SQLAlchemy keeps what was written)."""
    return "".join(text.split()).lower() if text else None


def _rls_sql(table: str, t: Table) -> str:
    return f"ALTER TABLE {table} {'ENABLE' if t.rls_enabled else 'DISABLE'} ROW LEVEL SECURITY"


def _force_sql(table: str, t: Table) -> str:
    return f"ALTER TABLE {table} {'FORCE' if t.rls_forced else 'NO FORCE'} ROW LEVEL SECURITY"


def _attach_sql(table: str, t: Table) -> str:
    if not t.partition_of:
        return f"detach {table} from its parent"
    schema, _, name = t.partition_of.partition(".")
    return f"ALTER TABLE {qualified(schema, name)} ATTACH PARTITION {table} {t.partition_bound}"


TABLE_ATTRS = (
    Attr(
        "partition_key",
        lambda t: partition_key_value(t.partition_key),
        lambda table, t: (
            f"recreate {table} as PARTITION BY {t.partition_key}"
            if t.partition_key
            else f"recreate {table} as a plain table"
        ),
        True,
    ),
    Attr("partition_of", lambda t: t.partition_of, _attach_sql),
    Attr("partition_bound", lambda t: t.partition_bound, _attach_sql),
    Attr("rls_enabled", lambda t: t.rls_enabled, _rls_sql),
    Attr("rls_forced", lambda t: t.rls_forced, _force_sql),
)


def _partition_by_line(t: Table) -> str:
    if not t.partition_key:
        return "remove postgresql_partition_by from __table_args__"
    return f"add postgresql_partition_by={t.partition_key!r} to __table_args__"


def diff_table_extras(sides: Sides, lt: Table, rt: Table) -> list[Difference]:
    """Partitioning, row-level security, triggers, policies, rules and grants of one table."""
    out: list[Difference] = []
    key = lt.qualified_name
    table_sql = qualified(lt.schema, lt.name)
    obj = "view" if (lt.is_view or rt.is_view) else "table"
    auth = lt if sides.authority == sides.lname else rt
    for attr in TABLE_ATTRS:
        if sides.with_models and not attr.modelled:
            continue
        lv, rv = attr.value(lt), attr.value(rt)
        if lv == rv:
            continue
        lv, rv = getattr(lt, attr.name), getattr(rt, attr.name)  # shown as written
        change = attr.sql(table_sql, auth)  # type: ignore[misc]
        out.append(
            changed(
                sides,
                obj,
                key,
                lt.name,
                attr.name,
                (lv, rv),
                make_fix(sides, key, _partition_by_line(auth), change),
            )
        )
    if sides.with_models:
        return out  # the rest is not modelled: reported once
    for kind in BOUND_KINDS:
        out.extend(_diff_bound(sides, kind, lt, rt, table_sql))
    out.extend(
        diff_grants(sides, key, f"TABLE {table_sql}", lt.privileges, rt.privileges, grantee_label)
    )
    return out


def _diff_bound(
    sides: Sides, kind: Bound, lt: Table, rt: Table, table_sql: str
) -> list[Difference]:
    out: list[Difference] = []
    key = lt.qualified_name
    litems = {x.name: x for x in getattr(lt, kind.attr)}
    ritems = {x.name: x for x in getattr(rt, kind.attr)}
    for name in sorted(set(litems) | set(ritems)):
        li, ri = litems.get(name), ritems.get(name)
        target = f"{quote_ident(name)} ON {table_sql}"
        if li is None or ri is None:
            item = li or ri
            holder = sides.lname if li is not None else sides.rname
            change = (
                kind.create(table_sql, item)
                if holder == sides.authority
                else f"DROP {kind.sql_word} {target}"
            )
            summary = kind.summary(item)
            out.append(
                missing(
                    sides,
                    kind.object,
                    key,
                    name,
                    li is not None,
                    (summary if li else None, summary if ri else None),
                    make_fix(sides, key, change, change),
                )
            )
            continue
        auth = li if sides.authority == sides.lname else ri
        for attr in kind.attrs:
            lv, rv = attr.value(li), attr.value(ri)
            if lv == rv:
                continue
            change = (attr.sql(target, auth) if attr.sql else "") or (
                f"recreate {kind.object} {target}: DROP {kind.sql_word} {target}, "
                "then create it as there"
            )
            out.append(
                changed(
                    sides,
                    kind.object,
                    key,
                    name,
                    attr.name,
                    (lv, rv),
                    make_fix(sides, key, change, change),
                )
            )
    return out
