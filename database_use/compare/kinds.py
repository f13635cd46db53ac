"""The diff of the schema-wide kinds beyond tables and enums, and the pieces every new kind uses.

Sequences, domains and their checks, composite types and their attributes, range types,
functions, extensions, schema comments and privileges match by their key in the snapshot (a
function by its signature), then one comparator per attribute, as for columns (table-bound
kinds are in :mod:`table_kinds`). A function's body is compared by digest:
its record says "body differs" and carries the two digests, never the two bodies.

Fixes between two databases name the statement where it is simple and safe to state
(``ALTER SEQUENCE "shop"."invoice_no" INCREMENT BY 10``), identifiers quoted, literals
escaped; otherwise they say what to recreate as on the authority.

Against the models, only what SQLAlchemy can declare is drift (``Sequence``, a table's
``postgresql_partition_by``, constraint comments); everything else is summarised once per kind
by :mod:`not_modelled`: information, not a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from database_use.compare.model_lines import sequence_line
from database_use.compare.records import (
    Difference,
    Sides,
    changed,
    make_fix,
    missing,
    missing_status,
    side_values,
)
from database_use.schema.normalize import quote_ident
from database_use.schema.snapshot import (
    CheckConstraint,
    CompositeType,
    Domain,
    Function,
    Grant,
    Sequence,
    Table,
)

# -- SQL spelling -------------------------------------------------------------------------------


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def literal(text: str | None) -> str:
    """A string literal (``NULL`` for None), quotes doubled."""
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def role(name: str) -> str:
    return "PUBLIC" if name == "PUBLIC" else quote_ident(name)


def _function_target(f: Function) -> str:
    return f"{qualified(f.schema, f.name)}({f.identity_arguments})"


_ROUTINE_WORD = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}


def _routine_word(f: Function) -> str:
    return _ROUTINE_WORD.get(f.kind, "FUNCTION")


def comment_sql(what: str, target: str, comment: str | None) -> str:
    return f"COMMENT ON {what} {target} IS {literal(comment)}"


def comment_fix(sides: Sides, table: Table, obj: str, name: str, item: Any, models: str) -> str:
    """The fix of a constraint's or index's comment: ``COMMENT ON CONSTRAINT ... ON ...``."""
    if obj == "index":
        sql = comment_sql("INDEX", qualified(table.schema, name), item.comment)
    else:
        on = f"{quote_ident(name)} ON {qualified(table.schema, table.name)}"
        sql = comment_sql("CONSTRAINT", on, item.comment)
    return make_fix(sides, table.qualified_name, models, sql)


# -- specs: one comparator per attribute ----------------------------------------------------


@dataclass(frozen=True)
class Attr:
    """One compared attribute: its value, the statement that sets it on the follower
    (``sql(target, authority's object)``; None: recreate), whether models can declare it."""

    name: str
    value: Callable[[Any], Any]
    sql: Callable[[str, Any], str] | None = None
    modelled: bool = False


@dataclass(frozen=True)
class Kind:
    """A schema-wide kind: where it lives in the snapshot and how to spell it in SQL."""

    object: str
    attr: str
    sql_word: Callable[[Any], str]  # SEQUENCE, DOMAIN, TYPE, FUNCTION, EXTENSION
    target: Callable[[Any], str]  # the object's name in SQL
    attrs: tuple[Attr, ...]
    create: Callable[[Any], str]  # the statement (or words) that creates it on the follower
    summary: Callable[[Any], Any]
    modelled: bool = False  # SQLAlchemy can declare it (Sequence)


def comment_attr(word: str | Callable[[Any], str]) -> Attr:
    def sql(target: str, obj: Any) -> str:
        what = word(obj) if callable(word) else word
        return comment_sql(what, target, obj.comment)

    return Attr("comment", lambda o: o.comment or None, sql)


def _min_sql(target: str, s: Sequence) -> str:
    value = "NO MINVALUE" if s.min_value is None else f"MINVALUE {s.min_value}"
    return f"ALTER SEQUENCE {target} {value}"


def _max_sql(target: str, s: Sequence) -> str:
    value = "NO MAXVALUE" if s.max_value is None else f"MAXVALUE {s.max_value}"
    return f"ALTER SEQUENCE {target} {value}"


def _owned_sql(target: str, s: Sequence) -> str:
    if not s.owned_by:
        return f"ALTER SEQUENCE {target} OWNED BY NONE"
    return f"ALTER SEQUENCE {target} OWNED BY " + ".".join(
        quote_ident(p) for p in s.owned_by.split(".", 2)
    )


def _create_sequence(s: Sequence) -> str:
    parts = [f"CREATE SEQUENCE {qualified(s.schema, s.name)} AS {s.data_type}"]
    parts.append(f"INCREMENT BY {s.increment}")
    if s.min_value is not None:
        parts.append(f"MINVALUE {s.min_value}")
    if s.max_value is not None:
        parts.append(f"MAXVALUE {s.max_value}")
    parts.append(f"START WITH {s.start} CACHE {s.cache}")
    parts.append("CYCLE" if s.cycle else "NO CYCLE")
    return " ".join(parts)


SEQUENCE = Kind(
    object="sequence",
    attr="sequences",
    sql_word=lambda s: "SEQUENCE",
    target=lambda s: qualified(s.schema, s.name),
    attrs=(
        Attr(
            "type", lambda s: s.data_type, lambda t, s: f"ALTER SEQUENCE {t} AS {s.data_type}", True
        ),
        Attr(
            "start",
            lambda s: s.start,
            lambda t, s: f"ALTER SEQUENCE {t} START WITH {s.start}",
            True,
        ),
        Attr(
            "increment",
            lambda s: s.increment,
            lambda t, s: f"ALTER SEQUENCE {t} INCREMENT BY {s.increment}",
            True,
        ),
        Attr("min_value", lambda s: s.min_value, _min_sql, True),
        Attr("max_value", lambda s: s.max_value, _max_sql, True),
        Attr(
            "cycle",
            lambda s: s.cycle,
            lambda t, s: f"ALTER SEQUENCE {t} {'CYCLE' if s.cycle else 'NO CYCLE'}",
            True,
        ),
        Attr("cache", lambda s: s.cache, lambda t, s: f"ALTER SEQUENCE {t} CACHE {s.cache}", True),
        Attr("owned_by", lambda s: s.owned_by, _owned_sql),
        comment_attr("SEQUENCE"),
    ),
    create=_create_sequence,
    summary=lambda s: f"{s.data_type} start {s.start} increment {s.increment}",
    modelled=True,
)


def _domain_default_sql(target: str, d: Domain) -> str:
    if d.default is None:
        return f"ALTER DOMAIN {target} DROP DEFAULT"
    return f"ALTER DOMAIN {target} SET DEFAULT {d.default}"


def _create_domain(d: Domain) -> str:
    text = f"CREATE DOMAIN {qualified(d.schema, d.name)} AS {d.base_type}"
    if d.collation:
        text += f" COLLATE {quote_ident(d.collation)}"
    if d.default is not None:
        text += f" DEFAULT {d.default}"
    if not d.nullable:
        text += " NOT NULL"
    return text + "".join(
        f" CONSTRAINT {quote_ident(c.name)} CHECK ({c.expression})"
        if c.name
        else f" CHECK ({c.expression})"
        for c in d.checks
    )


DOMAIN = Kind(
    object="domain",
    attr="domains",
    sql_word=lambda d: "DOMAIN",
    target=lambda d: qualified(d.schema, d.name),
    attrs=(
        Attr("type", lambda d: d.base_type),
        Attr(
            "nullable",
            lambda d: d.nullable,
            lambda t, d: f"ALTER DOMAIN {t} {'DROP' if d.nullable else 'SET'} NOT NULL",
        ),
        Attr("default", lambda d: d.default, _domain_default_sql),
        Attr("collation", lambda d: d.collation),
        comment_attr("DOMAIN"),
    ),
    create=_create_domain,
    summary=lambda d: d.base_type + ("" if d.nullable else " NOT NULL"),
)

COMPOSITE = Kind(
    object="composite_type",
    attr="composite_types",
    sql_word=lambda c: "TYPE",
    target=lambda c: qualified(c.schema, c.name),
    attrs=(comment_attr("TYPE"),),
    create=lambda c: (
        f"CREATE TYPE {qualified(c.schema, c.name)} AS ("
        + ", ".join(_attribute_sql(a) for a in c.attributes)
        + ")"
    ),
    summary=lambda c: [f"{a.name} {a.type}" for a in c.attributes],
)


def _attribute_sql(a: Any) -> str:
    collate = f" COLLATE {quote_ident(a.collation)}" if a.collation else ""
    return f"{quote_ident(a.name)} {a.type}{collate}"


def _create_range(r: Any) -> str:
    options = [f"SUBTYPE = {r.subtype}"]
    if r.subtype_opclass:
        options.append(f"SUBTYPE_OPCLASS = {r.subtype_opclass}")
    if r.collation:
        options.append(f"COLLATION = {quote_ident(r.collation)}")
    if r.canonical:
        options.append(f"CANONICAL = {r.canonical}")
    if r.subtype_diff:
        options.append(f"SUBTYPE_DIFF = {r.subtype_diff}")
    return f"CREATE TYPE {qualified(r.schema, r.name)} AS RANGE ({', '.join(options)})"


RANGE = Kind(
    object="range_type",
    attr="range_types",
    sql_word=lambda r: "TYPE",
    target=lambda r: qualified(r.schema, r.name),
    attrs=(
        Attr("subtype", lambda r: r.subtype),
        Attr("opclass", lambda r: r.subtype_opclass),
        Attr("collation", lambda r: r.collation),
        Attr("canonical", lambda r: r.canonical),
        Attr("subtype_diff", lambda r: r.subtype_diff),
        Attr("multirange", lambda r: r.multirange),
        comment_attr("TYPE"),
    ),
    create=_create_range,
    summary=lambda r: f"range of {r.subtype}",
)


def _alter_routine(clause: Callable[[Function], str]) -> Callable[[str, Function], str]:
    return lambda target, f: f"ALTER {_routine_word(f)} {target} {clause(f)}"


FUNCTION = Kind(
    object="function",
    attr="functions",
    sql_word=_routine_word,
    target=_function_target,
    attrs=(
        Attr("kind", lambda f: f.kind),
        Attr("arguments", lambda f: f.arguments),
        Attr("returns", lambda f: f.returns),
        Attr("language", lambda f: f.language),
        Attr("volatility", lambda f: f.volatility, _alter_routine(lambda f: f.volatility.upper())),
        Attr(
            "strict",
            lambda f: f.strict,
            _alter_routine(lambda f: "STRICT" if f.strict else "CALLED ON NULL INPUT"),
        ),
        Attr(
            "security_definer",
            lambda f: f.security_definer,
            _alter_routine(
                lambda f: "SECURITY DEFINER" if f.security_definer else "SECURITY INVOKER"
            ),
        ),
        Attr(
            "parallel",
            lambda f: f.parallel,
            _alter_routine(lambda f: f"PARALLEL {f.parallel.upper()}"),
        ),
        Attr(
            "leakproof",
            lambda f: f.leakproof,
            _alter_routine(lambda f: "LEAKPROOF" if f.leakproof else "NOT LEAKPROOF"),
        ),
        Attr("config", lambda f: list(f.config)),
        Attr("body", lambda f: f.body_digest),
        comment_attr(_routine_word),
    ),
    create=lambda f: (
        f"create {f.kind} {_function_target(f)} "
        "(pg_get_functiondef on that side gives its definition)"
    ),
    summary=lambda f: f"{f.kind} {f.signature}" + (f" returns {f.returns}" if f.returns else ""),
)

EXTENSION = Kind(
    object="extension",
    attr="extensions",
    sql_word=lambda e: "EXTENSION",
    target=lambda e: quote_ident(e.name),
    attrs=(
        Attr(
            "version",
            lambda e: e.version,
            lambda t, e: f"ALTER EXTENSION {t} UPDATE TO {literal(e.version)}",
        ),
        Attr(
            "schema",
            lambda e: e.schema,
            lambda t, e: f"ALTER EXTENSION {t} SET SCHEMA {quote_ident(e.schema)}",
        ),
    ),
    create=lambda e: (
        f"CREATE EXTENSION {quote_ident(e.name)} WITH SCHEMA {quote_ident(e.schema)} "
        f"VERSION {literal(e.version)}"
    ),
    summary=lambda e: f"{e.version} in {e.schema}",
)

SCHEMA_KINDS = (SEQUENCE, DOMAIN, COMPOSITE, RANGE, FUNCTION, EXTENSION)


# -- schema-wide kinds ------------------------------------------------------------------------


def diff_schema_objects(sides: Sides) -> list[Difference]:
    """Records of every schema-wide kind, schema comments and schema privileges."""
    out: list[Difference] = []
    for kind in SCHEMA_KINDS:
        out.extend(_diff_kind(sides, kind))
    if not sides.with_models:
        out.extend(_diff_schemas(sides))
    return out


def _diff_kind(sides: Sides, kind: Kind) -> list[Difference]:
    if sides.with_models and not kind.modelled:
        return []  # reported once by not_modelled
    left, right = getattr(sides.left, kind.attr), getattr(sides.right, kind.attr)
    out: list[Difference] = []
    for key in sorted(set(left) | set(right)):
        lo, ro = left.get(key), right.get(key)
        if lo is None or ro is None:
            holder = sides.lname if lo is not None else sides.rname
            if sides.with_models and sides.kind_of(holder) != "models":
                continue  # in the database only: not modelled, reported once
            out.append(_missing_object(sides, kind, key, lo, ro))
            continue
        auth = lo if sides.authority == sides.lname else ro
        target = kind.target(auth)
        for attr in kind.attrs:
            if sides.with_models and not attr.modelled:
                continue
            lv, rv = attr.value(lo), attr.value(ro)
            if lv == rv:
                continue
            words = kind.object.replace("_", " ")
            change_db = (
                attr.sql(target, auth)
                if attr.sql
                else f"recreate {words} {target} with its {attr.name.replace('_', ' ')}"
            )
            out.append(
                changed(
                    sides,
                    kind.object,
                    None,
                    key,
                    attr.name,
                    (lv, rv),
                    make_fix(sides, None, _declare(auth), change_db),
                    hint="body differs (the values are digests of the two bodies)"
                    if attr.name == "body"
                    else None,
                )
            )
        if isinstance(lo, Domain):
            out.extend(_diff_domain_checks(sides, lo, ro))
        if isinstance(lo, CompositeType):
            out.extend(_diff_attributes(sides, lo, ro))
        if not sides.with_models and hasattr(lo, "privileges"):
            # GRANT ... ON FUNCTION covers aggregates and window functions, not procedures
            word = kind.sql_word(auth).replace("AGGREGATE", "FUNCTION")
            out.extend(
                diff_grants(
                    sides,
                    None,
                    f"{word} {target}",
                    lo.privileges,
                    ro.privileges,
                    lambda g, w=kind.object, k=key: f"{grantee_label(g)} on {w} {k}",
                )
            )
    return out


def _declare(obj: Any) -> str:
    """The models' declaration of an object they can hold (a Sequence)."""
    return f"declare {sequence_line(obj)}" if isinstance(obj, Sequence) else ""


def _missing_object(sides: Sides, kind: Kind, key: str, lo: Any, ro: Any) -> Difference:
    obj = lo if lo is not None else ro
    holder = sides.lname if lo is not None else sides.rname
    words = kind.object.replace("_", " ")
    if holder == sides.authority:
        change_db, change_models = kind.create(obj), _declare(obj)
    else:
        change_db = f"DROP {kind.sql_word(obj)} {kind.target(obj)}"
        change_models = f"remove the {words} {key} (or create it in the database first)"
    summary = kind.summary(obj)
    return missing(
        sides,
        kind.object,
        None,
        key,
        lo is not None,
        (summary if lo is not None else None, summary if ro is not None else None),
        make_fix(sides, None, change_models, change_db),
    )


def _check_label(c: CheckConstraint) -> str:
    return c.name or c.expression


def _diff_domain_checks(sides: Sides, ld: Domain, rd: Domain) -> list[Difference]:
    out: list[Difference] = []
    auth_domain = ld if sides.authority == sides.lname else rd
    target = qualified(auth_domain.schema, auth_domain.name)
    lchecks = {_check_label(c): c for c in ld.checks}
    rchecks = {_check_label(c): c for c in rd.checks}
    for label in sorted(set(lchecks) | set(rchecks)):
        lc, rc = lchecks.get(label), rchecks.get(label)
        name = f"{ld.qualified_name}.{label}"
        if lc is None or rc is None:
            check = lc or rc
            holder = sides.lname if lc is not None else sides.rname
            constraint = f"CONSTRAINT {quote_ident(check.name)} " if check.name else ""
            change = (
                f"ALTER DOMAIN {target} ADD {constraint}CHECK ({check.expression})"
                if holder == sides.authority
                else f"ALTER DOMAIN {target} DROP CONSTRAINT {quote_ident(check.name or label)}"
            )
            out.append(
                missing(
                    sides,
                    "domain_check",
                    None,
                    name,
                    lc is not None,
                    (lc.expression if lc else None, rc.expression if rc else None),
                    make_fix(sides, None, change, change),
                )
            )
            continue
        auth = lc if sides.authority == sides.lname else rc
        constraint = quote_ident(auth.name or label)
        comparators: list[tuple[str, Any, Any, str]] = [
            (
                "expression",
                lc.expression,
                rc.expression,
                f"ALTER DOMAIN {target} DROP CONSTRAINT {constraint}; ALTER DOMAIN {target} "
                f"ADD CONSTRAINT {constraint} CHECK ({auth.expression})",
            ),
            (
                "validated",
                lc.validated,
                rc.validated,
                f"ALTER DOMAIN {target} VALIDATE CONSTRAINT {constraint}",
            ),
            (
                "comment",
                lc.comment or None,
                rc.comment or None,
                comment_sql("CONSTRAINT", f"{constraint} ON DOMAIN {target}", auth.comment),
            ),
        ]
        for attribute, lv, rv, change in comparators:
            if lv != rv:
                out.append(
                    changed(
                        sides,
                        "domain_check",
                        None,
                        name,
                        attribute,
                        (lv, rv),
                        make_fix(sides, None, change, change),
                    )
                )
    return out


def _diff_attributes(sides: Sides, lc: CompositeType, rc: CompositeType) -> list[Difference]:
    out: list[Difference] = []
    auth_type = lc if sides.authority == sides.lname else rc
    target = qualified(auth_type.schema, auth_type.name)
    lattrs = {a.name: a for a in lc.attributes}
    rattrs = {a.name: a for a in rc.attributes}

    def record(
        name: str, status: str, attribute: str | None, lv: Any, rv: Any, change: str
    ) -> None:
        out.append(
            Difference(
                object="type_attribute",
                table=None,
                name=f"{lc.qualified_name}.{name}",
                status=status,
                attribute=attribute,
                values=side_values(sides, lv, rv),
                authority=sides.authority,
                fix=make_fix(sides, None, change, change),
            )
        )

    for name in [a.name for a in lc.attributes if a.name not in rattrs] + [
        a.name for a in rc.attributes if a.name not in lattrs
    ]:
        la, ra = lattrs.get(name), rattrs.get(name)
        holder = sides.lname if la is not None else sides.rname
        a = la or ra
        change = (
            f"ALTER TYPE {target} ADD ATTRIBUTE {_attribute_sql(a)}"
            if holder == sides.authority
            else f"ALTER TYPE {target} DROP ATTRIBUTE {quote_ident(name)}"
        )
        record(
            name,
            missing_status(sides, la is not None),
            None,
            la and la.type,
            ra and ra.type,
            change,
        )
    for name, la in lattrs.items():
        ra = rattrs.get(name)
        if ra is None:
            continue
        auth = la if sides.authority == sides.lname else ra
        if la.type != ra.type:
            change = f"ALTER TYPE {target} ALTER ATTRIBUTE {quote_ident(name)} TYPE {auth.type}"
            record(name, "different", "type", la.type, ra.type, change)
        if la.collation != ra.collation:
            change = (
                f"recreate attribute {quote_ident(name)} of {target} with collation "
                f"{quote_ident(auth.collation) if auth.collation else 'default'}"
            )
            record(name, "different", "collation", la.collation, ra.collation, change)
    lorder = [a.name for a in lc.attributes if a.name in rattrs]
    rorder = [a.name for a in rc.attributes if a.name in lattrs]
    if lorder != rorder:
        out.append(
            Difference(
                object="composite_type",
                table=None,
                name=lc.qualified_name,
                status="different",
                attribute="attribute_order",
                values=side_values(sides, lorder, rorder),
                authority=sides.authority,
                fix=make_fix(
                    sides,
                    None,
                    "",
                    f"recreate type {target} with its attributes in that order",
                ),
            )
        )
    return out


def _diff_schemas(sides: Sides) -> list[Difference]:
    out: list[Difference] = []
    left, right = sides.left, sides.right
    for schema in sorted(set(left.schema_comments) | set(right.schema_comments)):
        lv, rv = left.schema_comments.get(schema) or None, right.schema_comments.get(schema) or None
        if lv == rv:
            continue
        auth = lv if sides.authority == sides.lname else rv
        change = comment_sql("SCHEMA", quote_ident(schema), auth)
        out.append(
            changed(
                sides,
                "schema",
                None,
                schema,
                "comment",
                (lv, rv),
                make_fix(sides, None, change, change),
            )
        )
    for schema in sorted(set(left.schema_privileges) | set(right.schema_privileges)):
        out.extend(
            diff_grants(
                sides,
                None,
                f"SCHEMA {quote_ident(schema)}",
                left.schema_privileges.get(schema, []),
                right.schema_privileges.get(schema, []),
                lambda g, s=schema: f"{grantee_label(g)} on schema {s}",
            )
        )
    return out


# -- grants -----------------------------------------------------------------------------------


def grantee_label(g: Grant) -> str:
    return f"{g.grantee} (column {g.column})" if g.column else g.grantee


def grant_text(g: Grant | None) -> str | None:
    """``SELECT, INSERT (grant option: INSERT)``; None for no grant."""
    if g is None:
        return None
    text = ", ".join(g.privileges)
    return text + (f" (grant option: {', '.join(g.grantable)})" if g.grantable else "")


def _grant_sql(on: str, g: Grant) -> str:
    cols = f" ({quote_ident(g.column)})" if g.column else ""
    plain = [p for p in g.privileges if p not in g.grantable]
    statements = []
    if plain:
        statements.append(
            f"GRANT {', '.join(p + cols for p in plain)} ON {on} TO {role(g.grantee)}"
        )
    if g.grantable:
        statements.append(
            f"GRANT {', '.join(p + cols for p in g.grantable)} ON {on} TO {role(g.grantee)} "
            "WITH GRANT OPTION"
        )
    return "; ".join(statements)


def _revoke_sql(on: str, g: Grant) -> str:
    cols = f" ({quote_ident(g.column)})" if g.column else ""
    return f"REVOKE ALL{cols} ON {on} FROM {role(g.grantee)}"


def diff_grants(
    sides: Sides,
    table: str | None,
    on: str,
    left: Iterable[Grant],
    right: Iterable[Grant],
    label: Callable[[Grant], str],
) -> list[Difference]:
    """Records of the grants of one object; ``on`` is its SQL (``TABLE "shop"."notes"``)."""
    lmap = {(g.grantee, g.column): g for g in left}
    rmap = {(g.grantee, g.column): g for g in right}
    out: list[Difference] = []
    for key in sorted(set(lmap) | set(rmap), key=lambda k: (k[0], k[1] or "")):
        lg, rg = lmap.get(key), rmap.get(key)
        lv, rv = grant_text(lg), grant_text(rg)
        if lv == rv:
            continue
        auth = lg if sides.authority == sides.lname else rg
        follower = rg if auth is lg else lg
        if auth is None:
            change = _revoke_sql(on, follower)  # type: ignore[arg-type]
        elif follower is None:
            change = _grant_sql(on, auth)
        else:
            change = f"{_revoke_sql(on, auth)}; {_grant_sql(on, auth)}"
        grant = lg or rg
        out.append(
            Difference(
                object="grant",
                table=table,
                name=label(grant),  # type: ignore[arg-type]
                status="different" if lg and rg else missing_status(sides, lg is not None),
                attribute="privileges" if lg and rg else None,
                values=side_values(sides, lv, rv),
                authority=sides.authority,
                fix=make_fix(sides, table, change, change),
            )
        )
    return out
