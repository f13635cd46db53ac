"""Assembly of the live source's kinds beyond tables, columns, keys, indexes and enums.

One small function per catalog query (``database_use/sources/sql/<kind>.sql``): each takes
that query's rows and adds its objects to the snapshot, with plain loops over tuples (no I/O;
the rows are read in :mod:`database_use.sources.live`). Table-bound kinds (triggers, policies,
rules, privileges) attach to the tables by oid, so rows of relations the snapshot left out
(extension members) fall away.
"""

from __future__ import annotations

from database_use.schema.normalize import normalize_default, normalize_expression
from database_use.schema.snapshot import (
    PRIVILEGE_ORDER,
    Attribute,
    CheckConstraint,
    CompositeType,
    Domain,
    Extension,
    Function,
    Grant,
    Policy,
    RangeType,
    Rule,
    Sequence,
    Snapshot,
    Table,
    Trigger,
)

_ENABLED = {"O": "origin", "D": "disabled", "R": "replica", "A": "always"}
_FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}
_POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
_RULE_EVENTS = {"1": "SELECT", "2": "UPDATE", "3": "INSERT", "4": "DELETE"}
_RANK = {name: rank for rank, name in enumerate(PRIVILEGE_ORDER)}
# (minimum, maximum) of each sequence data type: the default bounds CREATE SEQUENCE picks
_SEQUENCE_RANGE = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
# pg_trigger.tgtype bits
_ROW, _BEFORE, _INSERT, _DELETE, _UPDATE, _TRUNCATE, _INSTEAD = 1, 2, 4, 8, 16, 32, 64


def add_sequences(snap: Snapshot, rows: list[tuple]) -> dict[int, Sequence]:
    by_oid: dict[int, Sequence] = {}
    for schema, name, data_type, start, inc, low, high, cycle, cache, owned, comment, oid in rows:
        type_min, type_max = _SEQUENCE_RANGE.get(data_type, (None, None))
        default_min, default_max = (1, type_max) if inc > 0 else (type_min, -1)
        by_oid[oid] = snap.add(
            Sequence(
                schema=schema,
                name=name,
                data_type=data_type,
                start=start,
                increment=inc,
                min_value=None if low == default_min else low,
                max_value=None if high == default_max else high,
                cycle=bool(cycle),
                cache=cache,
                owned_by=owned,
                comment=comment,
            )
        )
    return by_oid


def add_domains(snap: Snapshot, rows: list[tuple]) -> None:
    """One row per domain and CHECK (the domain's columns repeat on each)."""
    for (
        schema,
        name,
        base_type,
        notnull,
        default,
        collation,
        comment,
        check_name,
        check,
        validated,
        check_comment,
    ) in rows:
        domain = snap.domains.get(f"{schema}.{name}")
        if domain is None:
            domain = snap.add(
                Domain(
                    schema=schema,
                    name=name,
                    base_type=base_type,
                    nullable=not notnull,
                    default=normalize_default(default, base_type),
                    collation=collation,
                    comment=comment,
                )
            )
        if check_name is not None:
            domain.checks.append(check_constraint(check, check_name, validated, check_comment))


def check_constraint(
    expression: str | None, name: str, validated: bool, comment: str | None
) -> CheckConstraint:
    """A CHECK of a table or a domain, from pg_get_expr's text."""
    return CheckConstraint(
        expression=normalize_expression(expression) or "",
        name=name,
        validated=bool(validated),
        comment=comment,
    )


def add_composite_types(snap: Snapshot, rows: list[tuple]) -> None:
    """One row per attribute, in order (NULL attribute columns: a type with none)."""
    for schema, name, comment, attribute, type_text, collation in rows:
        composite = snap.composite_types.get(f"{schema}.{name}")
        if composite is None:
            composite = snap.add(CompositeType(schema=schema, name=name, comment=comment))
        if attribute is not None:
            composite.attributes.append(
                Attribute(name=attribute, type=type_text, collation=collation)
            )


def add_range_types(snap: Snapshot, rows: list[tuple]) -> None:
    for schema, name, subtype, opclass, collation, canonical, diff, multirange, comment in rows:
        snap.add(
            RangeType(
                schema=schema,
                name=name,
                subtype=subtype,
                subtype_opclass=opclass,
                collation=collation,
                canonical=canonical,
                subtype_diff=diff,
                multirange=multirange,
                comment=comment,
            )
        )


def add_functions(snap: Snapshot, rows: list[tuple]) -> dict[int, Function]:
    by_oid: dict[int, Function] = {}
    for (
        schema,
        name,
        identity_args,
        prokind,
        arguments,
        returns,
        language,
        volatility,
        strict,
        secdef,
        parallel,
        leakproof,
        config,
        sql_body,
        source,
        comment,
        sfunc,
        stype,
        finalfunc,
        initcond,
        oid,
    ) in rows:
        kind = _FUNCTION_KINDS.get(prokind, "function")
        if kind == "aggregate":
            body = _aggregate_body(sfunc, stype, finalfunc, initcond)
        else:
            body = sql_body if sql_body is not None else (source or "")
        by_oid[oid] = snap.add(
            Function(
                schema=schema,
                name=name,
                identity_arguments=identity_args,
                kind=kind,
                arguments=arguments,
                returns=returns,
                language=language,
                volatility=_VOLATILITY.get(volatility, "volatile"),
                strict=bool(strict),
                security_definer=bool(secdef),
                parallel=_PARALLEL.get(parallel, "unsafe"),
                leakproof=bool(leakproof),
                config=list(config or []),
                body=body,
                comment=comment,
            )
        )
    return by_oid


def _aggregate_body(sfunc: str, stype: str, finalfunc: str | None, initcond: str | None) -> str:
    parts = [f"SFUNC = {sfunc}", f"STYPE = {stype}"]
    if finalfunc:
        parts.append(f"FINALFUNC = {finalfunc}")
    if initcond is not None:
        parts.append("INITCOND = '" + initcond.replace("'", "''") + "'")
    return ", ".join(parts)


def add_triggers(tables: dict[int, Table], rows: list[tuple]) -> None:
    for (
        oid,
        name,
        tgtype,
        attnums,
        function,
        args,
        nargs,
        enabled,
        is_constraint,
        definition,
        relation,
        comment,
    ) in rows:
        table = tables.get(oid)
        if table is None:
            continue
        when, extra = _trigger_clauses(definition, relation)
        if is_constraint:
            extra = f"CONSTRAINT {extra}" if extra else "CONSTRAINT"
        table.triggers.append(
            Trigger(
                name=name,
                timing="BEFORE"
                if tgtype & _BEFORE
                else "INSTEAD OF"
                if tgtype & _INSTEAD
                else "AFTER",
                events=_trigger_events(tgtype, attnums, table),
                level="ROW" if tgtype & _ROW else "STATEMENT",
                function=f"{function}({_trigger_arguments(args, nargs)})",
                when=when,
                enabled=_ENABLED.get(enabled, "origin"),
                extra=extra,
                comment=comment,
            )
        )


def _trigger_events(tgtype: int, attnums: list[int] | None, table: Table) -> list[str]:
    events = []
    if tgtype & _INSERT:
        events.append("INSERT")
    if tgtype & _UPDATE:
        if attnums:
            names = {c.position: c.name for c in table.columns}
            events.append("UPDATE OF " + ", ".join(names.get(n, str(n)) for n in attnums))
        else:
            events.append("UPDATE")
    if tgtype & _DELETE:
        events.append("DELETE")
    if tgtype & _TRUNCATE:
        events.append("TRUNCATE")
    return events


def _trigger_arguments(raw: bytes | None, count: int) -> str:
    if not count or not raw:
        return ""
    values = bytes(raw).split(b"\x00")[:count]
    return ", ".join("'" + v.decode().replace("'", "''") + "'" for v in values)


def _trigger_clauses(definition: str, relation: str) -> tuple[str | None, str | None]:
    """WHEN and the rest (FROM, deferral, REFERENCING) of a pg_get_triggerdef text.

    The text is ``CREATE [CONSTRAINT] TRIGGER name timing events ON relation [rest] FOR EACH
    ROW|STATEMENT [WHEN (cond)] EXECUTE FUNCTION f(args)``; names and literals are skipped
    as whole tokens, so an identifier that spells a keyword does not derail the cut.
    """
    on = _top_level_find(definition, f" ON {relation} ")
    if on < 0:
        return None, None
    tail = definition[on + len(relation) + 5 :]
    each = _top_level_find(tail, "FOR EACH ")
    if each < 0:
        return None, None
    extra = tail[:each].strip() or None
    after = tail[each + len("FOR EACH ") :]
    after = after.split(" ", 1)[1] if " " in after else ""
    when = None
    if after.startswith("WHEN "):
        end = _top_level_find(after, " EXECUTE ")
        when = normalize_expression(after[len("WHEN ") : end if end >= 0 else None])
    return when, (" ".join(extra.split()) if extra else None)


def _top_level_find(text: str, needle: str) -> int:
    """Index of ``needle`` in ``text`` outside quotes and parentheses, or -1."""
    depth = 0
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                if text.startswith(quote * 2, i):
                    i += 2
                    continue
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(needle, i):
            return i
        i += 1
    return -1


def add_policies(tables: dict[int, Table], rows: list[tuple]) -> None:
    for oid, name, command, permissive, roles, using, check, comment in rows:
        table = tables.get(oid)
        if table is not None:
            table.policies.append(
                Policy(
                    name=name,
                    command=_POLICY_COMMANDS.get(command, "ALL"),
                    permissive=bool(permissive),
                    roles=sorted(roles),  # by code point, whatever the server collation
                    using=normalize_expression(using),
                    with_check=normalize_expression(check),
                    comment=comment,
                )
            )


def add_rules(tables: dict[int, Table], rows: list[tuple]) -> None:
    for oid, name, event, definition, enabled, comment in rows:
        table = tables.get(oid)
        if table is not None:
            table.rules.append(
                Rule(
                    name=name,
                    event=_RULE_EVENTS.get(event, "SELECT"),
                    # one line: pg_get_ruledef's pretty layout, whitespace folded
                    definition=" ".join(definition.split()).removesuffix(";"),
                    enabled=_ENABLED.get(enabled, "origin"),
                    comment=comment,
                )
            )


def add_extensions(snap: Snapshot, rows: list[tuple]) -> None:
    for name, version, schema in rows:
        snap.add(Extension(name=name, version=version, schema=schema))


def add_privileges(
    snap: Snapshot,
    rows: list[tuple],
    tables: dict[int, Table],
    sequences: dict[int, Sequence],
    functions: dict[int, Function],
) -> None:
    """One row per (object kind, oid, column or schema name, grantee, privilege)."""
    held: dict[tuple, tuple[set[str], set[str]]] = {}
    for kind, oid, column, grantee, privilege, grantable in rows:
        key = (kind, oid, column, grantee)
        entry = held.get(key)
        if entry is None:
            entry = held[key] = (set(), set())
        entry[0].add(privilege)
        if grantable:
            entry[1].add(privilege)
    owners: dict[str, dict[int, object]] = {
        "table": tables,
        "column": tables,
        "sequence": sequences,
        "function": functions,
    }
    touched: list[list[Grant]] = []
    for (kind, oid, column, grantee), (privileges, grantable) in held.items():
        grant = Grant(
            grantee=grantee,
            privileges=sorted(privileges, key=_rank),
            grantable=sorted(grantable, key=_rank),
            column=column if kind == "column" else None,
        )
        if kind == "schema":
            if column in snap.schemas:
                target = snap.schema_privileges.setdefault(column, [])
            else:
                continue
        else:
            obj = owners[kind].get(oid)
            if obj is None:
                continue
            target = obj.privileges
        if not target:
            touched.append(target)
        target.append(grant)
    for grants in touched:
        grants.sort(key=lambda g: (g.column is not None, g.column or "", g.grantee))


def _rank(privilege: str) -> int:
    return _RANK.get(privilege, len(_RANK))
