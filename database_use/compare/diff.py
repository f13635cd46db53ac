"""One diff over any two snapshots: keys first, then one small comparator per attribute.

Tables, columns and enums match by name. Foreign keys, indexes, unique and check constraints
match by name when both sides carry the same name, otherwise by structure, so an auto-named
constraint in the database and an unnamed (or convention-named) one in the models are the
same constraint. Both snapshots are already normalised by their sources, so comparators
compare plain values and equal schemas give zero differences.

Every difference is a :class:`Difference` record (the contract the CLI, MCP and CI read).
``authority`` is the side that wins by the source-of-truth order live db > models > doc;
``fix`` says in one line what to change on the other side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from database_use.compare import OBJECT_KINDS
from database_use.compare.kinds import comment_fix, comment_sql, diff_schema_objects, qualified
from database_use.compare.model_lines import (
    attribute_name,
    check_line,
    column_foreign_key,
    exclusion_line,
    foreign_key_line,
    index_line,
    model_line,
    unique_line,
)
from database_use.compare.records import (
    Difference,
    Sides,
    changed,
    make_fix,
    missing_status,
    model_origin,
    side_values,
)
from database_use.compare.table_kinds import diff_table_extras
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ExclusionConstraint,
    ForeignKey,
    Index,
    Snapshot,
    Table,
    UniqueConstraint,
)

_OBJECT_ORDER = {name: i for i, name in enumerate(OBJECT_KINDS)}


DOC_FOLLOWS_DB = (
    "the doc follows the live database, which differs from the models here: generate-docs "
    "cannot fix this; settle db ↔ models first (compare-db-models), then regenerate the doc"
)
_AS_DB_STATUS = {"missing_in_doc": "missing_in_db", "missing_in_models": "missing_in_models"}


def explain_doc_follows_db(
    models_doc: list[Difference], db_models: list[Difference]
) -> list[Difference]:
    """Reword models ↔ doc records whose cause is db ↔ models drift (the doc mirrors the db).

    A record is such when db ↔ models has the same record (same object, table, name,
    attribute; ``missing_in_doc`` there being ``missing_in_db``): regenerating the doc would
    not remove it, so its fix says so and points to db ↔ models.
    """
    seen = {(d.object, d.table, d.name, d.status, d.attribute) for d in db_models}
    for record in models_doc:
        status = _AS_DB_STATUS.get(record.status, record.status)
        if (record.object, record.table, record.name, status, record.attribute) in seen:
            record.fix = DOC_FOLLOWS_DB
    return models_doc


BOOKKEEPING_TABLES = ("alembic_version",)
"""Tables a migration tool keeps for itself: never in the models, so never drift against them."""


def diff(
    left: Snapshot,
    right: Snapshot,
    *,
    left_name: str | None = None,
    right_name: str | None = None,
    bookkeeping: Iterable[str] = BOOKKEEPING_TABLES,
) -> list[Difference]:
    """Differences between two snapshots, in a deterministic order.

    Side names default to the sources' kinds (``db``/``models``/``doc``), giving statuses
    ``missing_in_<side>``; two snapshots of the same kind are ``left``/``right`` unless named.
    ``bookkeeping`` tables (bare or schema-qualified names) are skipped when one side is the
    models, unless the models define them. Against the models, what they cannot declare
    (views, partitions, triggers, functions, ...) is no difference: :mod:`not_modelled`
    summarises it.
    """
    lname, rname = left_name or left.source, right_name or right.source
    if lname == rname:
        lname, rname = "left", "right"
    sides = Sides(left, right, lname, rname)
    skip = set(bookkeeping)
    out: list[Difference] = []
    for key in sorted(set(left.tables) | set(right.tables)):
        lt, rt = left.tables.get(key), right.tables.get(key)
        table = lt or rt
        if (
            sides.with_models
            and (lt is None or rt is None)
            and (key in skip or (table is not None and table.name in skip))
        ):
            continue
        if sides.with_models and ((lt and lt.is_view) or (rt and rt.is_view)):
            continue  # models cannot hold views; comparing them would only add noise
        if sides.with_models and ((lt and lt.is_partition) or (rt and rt.is_partition)):
            continue  # nor partitions: the parent's model stands for them (see not_modelled)
        if lt is None or rt is None:
            out.append(_missing_table(sides, key, lt, rt))
            continue
        out.extend(_diff_table(sides, lt, rt))
    for key in sorted(set(left.enums) | set(right.enums)):
        out.extend(_diff_enum(sides, key, left.enums.get(key), right.enums.get(key)))
    out.extend(diff_schema_objects(sides))
    out.sort(key=_order)
    return out


def _order(d: Difference) -> tuple:
    return (
        d.table is None,
        d.table or "",
        _OBJECT_ORDER.get(d.object, 99),
        d.name or "",
        d.status,
        d.attribute or "",
    )


# -- tables ---------------------------------------------------------------------------------


def _missing_table(sides: Sides, key: str, lt: Table | None, rt: Table | None) -> Difference:
    table = lt or rt
    assert table is not None
    holder = sides.lname if lt else sides.rname
    obj = "view" if table.is_view else "table"
    authoritative = holder == sides.authority
    if authoritative:
        cls = "".join(p.capitalize() for p in table.name.split("_")) or "Model"
        fix = make_fix(
            sides,
            None,
            f"add class {cls}(db.Model) with __tablename__ = {table.name!r}"
            f" and its {len(table.columns)} columns (see model_line per column)",
            f"create {obj} {key}"
            + (
                f" as PARTITION OF {table.partition_of} {table.partition_bound}"
                if table.is_partition
                else ""
            ),
        )
    else:
        fix = make_fix(
            sides,
            key,
            "remove the model class (or create the table in the database "
            "first, with an approved change)",
            f"drop {obj} {key} or create it on {sides.authority}",
        )
        if sides.kind_of(sides.follower) in ("doc", "json"):
            fix = sides.regenerate
    return Difference(
        object=obj,
        table=key,
        name=table.name,
        status=missing_status(sides, lt is not None),
        values=side_values(sides, lt.kind if lt else None, rt.kind if rt else None),
        authority=sides.authority,
        fix=fix,
    )


def _diff_table(sides: Sides, lt: Table, rt: Table) -> list[Difference]:
    out: list[Difference] = []
    key = lt.qualified_name
    obj = "view" if (lt.is_view or rt.is_view) else "table"

    def record(attribute: str, lv: Any, rv: Any, change: str, hint: str | None = None) -> None:
        out.append(
            Difference(
                object=obj,
                table=key,
                name=lt.name,
                status="different",
                attribute=attribute,
                values=side_values(sides, lv, rv),
                authority=sides.authority,
                fix=make_fix(sides, key, change, change),
                hint=hint,
            )
        )

    auth = lt if sides.authority == sides.lname else rt
    if (lt.comment or None) != (rt.comment or None):
        record(
            "comment",
            lt.comment,
            rt.comment,
            f"set the table comment to {auth.comment!r}"
            if auth.comment
            else "remove the table comment",
        )
    if not sides.with_models and lt.kind != rt.kind:
        record("type", lt.kind, rt.kind, f"make it a {auth.kind}")
    if lt.is_view and rt.is_view:
        if _squash(lt.definition) != _squash(rt.definition):
            record("expression", lt.definition, rt.definition, f"redefine the {auth.kind}")
        if sides.with_models:
            return out
    out.extend(_diff_columns(sides, lt, rt))
    out.extend(diff_table_extras(sides, lt, rt))
    if lt.is_view or rt.is_view:
        return out
    out.extend(_diff_primary_key(sides, lt, rt))
    out.extend(
        _diff_items(
            sides,
            lt,
            rt,
            "foreign_key",
            lt.foreign_keys,
            rt.foreign_keys,
            _FK_KEYS,
            _FK_COMPARATORS,
            foreign_key_line,
        )
    )
    out.extend(
        _diff_items(
            sides,
            lt,
            rt,
            "index",
            lt.indexes,
            rt.indexes,
            _INDEX_KEYS,
            _INDEX_COMPARATORS,
            index_line,
        )
    )
    out.extend(
        _diff_items(
            sides,
            lt,
            rt,
            "unique_constraint",
            lt.unique_constraints,
            rt.unique_constraints,
            _UNIQUE_KEYS,
            _UNIQUE_COMPARATORS,
            unique_line,
        )
    )
    out.extend(
        _diff_items(
            sides,
            lt,
            rt,
            "check_constraint",
            lt.check_constraints,
            rt.check_constraints,
            _CHECK_KEYS,
            _CHECK_COMPARATORS,
            check_line,
        )
    )
    out.extend(
        _diff_items(
            sides,
            lt,
            rt,
            "exclusion_constraint",
            lt.exclusion_constraints,
            rt.exclusion_constraints,
            _EXCLUDE_KEYS,
            _EXCLUDE_COMPARATORS,
            exclusion_line,
        )
    )
    return out


def _squash(text: str | None) -> str:
    return " ".join((text or "").replace(";", " ").split()).lower()


# -- columns --------------------------------------------------------------------------------


def _default_text(column: Column) -> str | None:
    if column.identity:
        return f"GENERATED {column.identity.upper()} AS IDENTITY"
    if column.generated:
        return f"GENERATED ALWAYS AS ({column.generated}) STORED"
    return column.default


# attribute → value of a column; one entry per comparison (identity/generated fold into default)
_COLUMN_COMPARATORS: list[tuple[str, Callable[[Column], Any]]] = [
    ("type", lambda c: c.type),
    ("nullable", lambda c: c.nullable),
    ("default", _default_text),
    ("comment", lambda c: c.comment or None),
    ("collation", lambda c: c.collation),
]


def _diff_columns(sides: Sides, lt: Table, rt: Table) -> list[Difference]:
    if lt.columns == rt.columns:
        return []  # the same columns in the same order, equal in every field: nothing differs
    out: list[Difference] = []
    key = lt.qualified_name
    lcols = {c.name: c for c in lt.columns}
    rcols = {c.name: c for c in rt.columns}
    auth_table = lt if sides.authority == sides.lname else rt
    auth_snap = sides.snap_of(sides.authority)
    only_left = [c for c in lt.columns if c.name not in rcols]
    only_right = [c for c in rt.columns if c.name not in lcols]
    for column in only_left + only_right:
        in_left = column.name in lcols
        holder = sides.lname if in_left else sides.rname
        if holder == sides.authority:
            fix = make_fix(
                sides,
                key,
                f"add {model_line(column, auth_table, auth_snap)}",
                f"add column {column.name} {column.type}",
            )
        else:
            fix = make_fix(
                sides,
                key,
                f"remove {attribute_name(column.name)} (or add the column "
                "to the database first, with an approved change)",
                f"drop column {column.name}",
            )
        others = only_right if in_left else only_left
        same_type = [o for o in others if o.type == column.type]
        hint = None
        if len(same_type) == 1:
            mate = same_type[0]
            old, new = (
                (mate.name, column.name) if holder == sides.authority else (column.name, mate.name)
            )
            hint = f"possible rename {old} → {new}"
        out.append(
            Difference(
                object="column",
                table=key,
                name=column.name,
                status=missing_status(sides, in_left),
                values=side_values(
                    sides, column.type if in_left else None, None if in_left else column.type
                ),
                authority=sides.authority,
                fix=fix,
                hint=hint,
            )
        )
    for name, lc in lcols.items():
        rc = rcols.get(name)
        if rc is None:
            continue
        auth_col = lc if sides.authority == sides.lname else rc
        for attribute, value in _COLUMN_COMPARATORS:
            lv, rv = value(lc), value(rc)
            if lv != rv:
                out.append(
                    Difference(
                        object="column",
                        table=key,
                        name=name,
                        status="different",
                        attribute=attribute,
                        values=side_values(sides, lv, rv),
                        authority=sides.authority,
                        fix=make_fix(
                            sides,
                            key,
                            model_line(auth_col, auth_table, auth_snap),
                            f"alter column {name} {attribute} to {value(auth_col)!r}",
                        ),
                    )
                )
    return out


def _diff_primary_key(sides: Sides, lt: Table, rt: Table) -> list[Difference]:
    lpk = lt.primary_key.columns if lt.primary_key else None
    rpk = rt.primary_key.columns if rt.primary_key else None
    if lpk == rpk:
        return _primary_key_comment(sides, lt, rt)
    key = lt.qualified_name
    auth = lt if sides.authority == sides.lname else rt
    name = (auth.primary_key.name if auth.primary_key else None) or (
        (lt.primary_key or rt.primary_key).name
    )  # type: ignore[union-attr]
    auth_cols = auth.primary_key.columns if auth.primary_key else []
    change = (
        f"make primary_key=True exactly on {', '.join(auth_cols)}"
        if auth_cols
        else "remove primary_key=True"
    )
    if lpk and rpk and sorted(lpk) == sorted(rpk):
        # same columns, another order: primary_key=True cannot say it (it follows the order of
        # the columns in the class); the constraint can
        named = f", name={name!r}" if name else ""
        change = (
            "the column order differs: declare PrimaryKeyConstraint("
            f"{', '.join(repr(c) for c in auth_cols)}{named}) in __table_args__"
        )
    if lpk is None or rpk is None:
        status, attribute = missing_status(sides, lpk is not None), None
    else:
        status, attribute = "different", "columns"
    return [
        Difference(
            object="primary_key",
            table=key,
            name=name,
            status=status,
            attribute=attribute,
            values=side_values(sides, lpk, rpk),
            authority=sides.authority,
            fix=make_fix(sides, key, change, f"primary key on ({', '.join(auth_cols)})"),
        )
    ]


def _primary_key_comment(sides: Sides, lt: Table, rt: Table) -> list[Difference]:
    lpk, rpk = lt.primary_key, rt.primary_key
    if lpk is None or rpk is None or (lpk.comment or None) == (rpk.comment or None):
        return []
    auth = lpk if sides.authority == sides.lname else rpk
    name = auth.name or lpk.name or rpk.name or ",".join(auth.columns)
    named = f", name={auth.name!r}" if auth.name else ""
    declared = (
        f"declare PrimaryKeyConstraint({', '.join(repr(c) for c in auth.columns)}{named}, "
        f"comment={auth.comment!r}) in __table_args__"
    )
    fix = comment_fix(sides, lt, "primary_key", name, auth, declared)
    values = (lpk.comment, rpk.comment)
    return [changed(sides, "primary_key", lt.qualified_name, name, "comment", values, fix)]


# -- constraints and indexes: match by name, else by structure --------------------------------

Item = ForeignKey | Index | UniqueConstraint | CheckConstraint | ExclusionConstraint

_FK_KEYS: list[Callable[[Any], Any]] = [
    lambda f: (tuple(f.columns), f.ref_table, tuple(f.ref_columns), f.on_delete, f.on_update),
    lambda f: (tuple(f.columns), f.ref_table, tuple(f.ref_columns)),
    lambda f: tuple(f.columns),
]
_FK_COMPARATORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("columns", lambda f: f.columns),
    ("references", lambda f: f"{f.ref_table}({', '.join(f.ref_columns)})"),
    ("on_delete", lambda f: f.on_delete),
    ("on_delete", lambda f: f"ON UPDATE {f.on_update}"),  # folded: referential actions
    (
        "on_delete",
        lambda f: (
            ("DEFERRABLE INITIALLY DEFERRED" if f.initially_deferred else "DEFERRABLE")
            if f.deferrable
            else "NOT DEFERRABLE"
        ),
    ),
    ("validated", lambda f: f.validated),
    ("comment", lambda x: x.comment or None),
]
_INDEX_KEYS: list[Callable[[Any], Any]] = [
    lambda i: (tuple(i.columns), i.unique, i.method, i.where, tuple(i.include)),
    lambda i: (tuple(i.columns), i.where),
    lambda i: tuple(i.columns),
]
_INDEX_COMPARATORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("columns", lambda i: i.columns),
    ("columns", lambda i: {"include": i.include}),  # folded: INCLUDE columns
    ("unique", lambda i: i.unique),
    ("method", lambda i: i.method),
    ("where", lambda i: i.where),
    ("opclass", lambda i: list(i.opclasses) if any(i.opclasses) else []),
    ("nulls_not_distinct", lambda i: i.nulls_not_distinct),
    ("comment", lambda x: x.comment or None),
]
_UNIQUE_KEYS: list[Callable[[Any], Any]] = [lambda u: tuple(u.columns)]
_UNIQUE_COMPARATORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("columns", lambda u: u.columns),
    ("nulls_not_distinct", lambda u: u.nulls_not_distinct),
    ("comment", lambda x: x.comment or None),
]
_EXCLUDE_KEYS: list[Callable[[Any], Any]] = [lambda x: x.definition]
_EXCLUDE_COMPARATORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("expression", lambda x: x.definition),
    ("comment", lambda x: x.comment or None),
]
_CHECK_KEYS: list[Callable[[Any], Any]] = [lambda c: c.expression]
_CHECK_COMPARATORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("expression", lambda c: c.expression),
    ("validated", lambda c: c.validated),
    ("comment", lambda x: x.comment or None),
]


def _label(item: Item) -> str:
    """The record's name: the item's name, else its structure (columns or expression)."""
    if item.name:
        return item.name
    if isinstance(item, CheckConstraint):
        return item.expression
    if isinstance(item, ExclusionConstraint):
        return item.definition
    return ",".join(item.columns)


def _summary(item: Item) -> Any:
    if isinstance(item, CheckConstraint):
        return item.expression
    if isinstance(item, ExclusionConstraint):
        return item.definition
    if isinstance(item, ForeignKey):
        return f"({', '.join(item.columns)}) → {item.ref_table}({', '.join(item.ref_columns)})"
    if isinstance(item, Index):
        text = f"{'UNIQUE ' if item.unique else ''}{item.method} ({', '.join(item.columns)})"
        if item.include:
            text += f" INCLUDE ({', '.join(item.include)})"
        return text + (f" WHERE {item.where}" if item.where else "")
    return list(item.columns)


def match(
    left: Iterable[Item], right: Iterable[Item], keys: list[Callable[[Any], Any]]
) -> tuple[list[tuple[Item, Item]], list[Item], list[Item]]:
    """Pair items by equal name, then by each structural key in turn (most specific first)."""
    lrest, rrest = list(left), list(right)
    pairs: list[tuple[Item, Item]] = []
    rnames = {r.name: r for r in rrest if r.name}
    for item in list(lrest):
        mate = rnames.get(item.name) if item.name else None
        if mate is not None and mate in rrest:
            pairs.append((item, mate))
            lrest.remove(item)
            rrest.remove(mate)
    for key in keys:
        for item in list(lrest):
            k = key(item)
            mate = next((r for r in rrest if key(r) == k), None)
            if mate is not None:
                pairs.append((item, mate))
                lrest.remove(item)
                rrest.remove(mate)
    return pairs, lrest, rrest


def _diff_items(
    sides: Sides,
    lt: Table,
    rt: Table,
    obj: str,
    left: list[Any],
    right: list[Any],
    keys: list[Callable[[Any], Any]],
    comparators: list[tuple[str, Callable[[Any], Any]]],
    line: Callable[[Any], str],
) -> list[Difference]:
    if left == right and _named_once(left):
        # Each pairs by its name with its equal on the other side: no comparator can differ.
        return []
    out: list[Difference] = []
    key = lt.qualified_name
    pairs, only_left, only_right = match(left, right, keys)
    paired = {id(i): _pair_name(sides, li, ri) for li, ri in pairs for i in (li, ri)}
    for item, in_left in [(i, True) for i in only_left] + [(i, False) for i in only_right]:
        holder = sides.lname if in_left else sides.rname
        words = obj.replace("_", " ")
        # the same constraint twice on one side (a ForeignKey on the column plus a named
        # ForeignKeyConstraint: create_all builds both), once on the other
        twin = next(
            (
                paired[id(t)]
                for t in (left if in_left else right)
                if t is not item and id(t) in paired and keys[0](t) == keys[0](item)
            ),
            None,
        )
        if twin is not None:
            same = keys[0](item)
            counts = (
                sum(keys[0](t) == same for t in (left if in_left else right)),
                sum(keys[0](t) == same for t in (right if in_left else left)),
            )
            out.append(_duplicate(sides, key, obj, item, in_left, twin, counts))
            continue
        if holder == sides.authority:
            fix = make_fix(
                sides, key, f"add to __table_args__: {line(item)}", f"create {words} {_label(item)}"
            )
        else:
            fix = make_fix(
                sides,
                key,
                f"remove {line(item)} (or create it in the database first)",
                f"drop {words} {_label(item)}",
            )
        out.append(
            Difference(
                object=obj,
                table=key,
                name=_label(item),
                status=missing_status(sides, in_left),
                values=side_values(
                    sides, _summary(item) if in_left else None, None if in_left else _summary(item)
                ),
                authority=sides.authority,
                fix=fix,
            )
        )
    for litem, ritem in pairs:
        auth_item = litem if sides.authority == sides.lname else ritem
        name = _pair_name(sides, litem, ritem)
        seen: set[str] = set()
        for attribute, value in comparators:
            lv, rv = value(litem), value(ritem)
            if lv == rv or (attribute in seen and attribute == "columns"):
                continue
            seen.add(attribute)
            if attribute == "comment" and obj == "index" and sides.with_models:
                continue  # Index() takes no comment: not modelled (see not_modelled)
            if attribute == "comment":
                fix = comment_fix(
                    sides, lt, obj, name, auth_item, f"declare it as {line(auth_item)}"
                )
            elif attribute == "validated":
                fix = _not_validmake_fix(sides, key, name, auth_item)
            elif obj == "foreign_key" and len(auth_item.columns) == 1:
                # one-column FKs are declared on the column: edit that one, add no second
                fix = make_fix(
                    sides,
                    key,
                    f"edit the ForeignKey of {auth_item.columns[0]} in place: "
                    f"mapped_column(..., {column_foreign_key(auth_item)}, ...)",
                    f"recreate foreign key {name} as on {sides.authority}",
                )
            else:
                fix = make_fix(
                    sides,
                    key,
                    f"declare it as {line(auth_item)}",
                    f"recreate {obj.replace('_', ' ')} {name} as on {sides.authority}",
                )
            out.append(
                Difference(
                    object=obj,
                    table=key,
                    name=name,
                    status="different",
                    attribute=attribute,
                    values=side_values(sides, lv, rv),
                    authority=sides.authority,
                    fix=fix,
                    hint=_columnless(sides, obj, litem, ritem) if attribute == "columns" else None,
                )
            )
    return out


def _named_once(items: list[Any]) -> bool:
    """Every item named, and no name twice (what ``match`` pairs by name alone)."""
    return len({i.name for i in items if i.name}) == len(items)


def _columnless(sides: Sides, obj: str, litem: Item, ritem: Item) -> str | None:
    """``Index("ix_name")`` with no column (a slip MLflow's models carry): create_all would emit
    ``CREATE INDEX ix_name ON t ()``, which PostgreSQL rejects."""
    for side, item in ((sides.lname, litem), (sides.rname, ritem)):
        if obj == "index" and sides.kind_of(side) == "models" and not item.columns:
            return "the models declare this index with no column: create_all cannot build it"
    return None


def _pair_name(sides: Sides, litem: Item, ritem: Item) -> str:
    """The record name of a matched pair: the shared name, else the authority's."""
    auth_item = litem if sides.authority == sides.lname else ritem
    if litem.name and ritem.name and litem.name != ritem.name:
        return auth_item.name  # type: ignore[return-value]
    return litem.name or ritem.name or _label(auth_item)


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _duplicate(
    sides: Sides, table: str, obj: str, item: Item, in_left: bool, twin: str, counts: tuple
) -> Difference:
    """A constraint or index one side holds more often than the other (a copy): real, as
    create_all or the database holds each copy, but the fix is to drop the copy, never to add
    another. ``counts``: (copies on the holder's side, copies on the other side)."""
    holder = sides.lname if in_left else sides.rname
    other = sides.rname if in_left else sides.lname
    words = obj.replace("_", " ")
    label = _label(item)
    held, fewer = _times(counts[0]), _times(counts[1])
    if sides.kind_of(holder) == "models":
        change_models = (
            f"this {words} is declared {held} (a copy of {twin}): create_all builds each copy, "
            f"the {other} holds it {fewer}; remove the extra declaration"
        )
    else:
        change_models = (
            f"the {holder} holds this {words} {held} ({label} is a copy of {twin}), the models "
            f"declare it {fewer}: drop the redundant copy in the database (an approved change) "
            "rather than declaring another"
        )
    change_db = (
        f"drop {words} {label}, a copy of {twin}"
        if holder == sides.follower
        else f"nothing to create: {label} is a copy of {twin} (drop it on {holder})"
    )
    return Difference(
        object=obj,
        table=table,
        name=label,
        status=missing_status(sides, in_left),
        values=side_values(
            sides, _summary(item) if in_left else None, None if in_left else _summary(item)
        ),
        authority=sides.authority,
        fix=make_fix(sides, table, change_models, change_db),
        hint=f"a copy of {twin} on {holder}",
    )


def _not_validmake_fix(sides: Sides, table: str, name: str, auth_item: Any) -> str:
    """A constraint added NOT VALID: the models have no way to say so, nothing to edit there."""
    if sides.kind_of(sides.follower) in ("doc", "json"):
        return sides.regenerate
    holder = "db" if "db" in (sides.left.source, sides.right.source) else sides.authority
    return (
        f"{name} is NOT VALID in the {holder} (rows from before it was added are unchecked); "
        "models cannot declare NOT VALID, so leave them as they are: once the old rows "
        f"comply, run ALTER TABLE {table} VALIDATE CONSTRAINT {name} (an approved change)"
    )


def _enum_users(sides: Sides, enum: EnumType) -> list[tuple[str, str]]:
    """(table, column) of the models side whose type is this enum: where to edit it."""
    snap = next((s for s in (sides.left, sides.right) if s.source == "models"), None)
    if snap is None:
        return []
    spelled = {enum.qualified_name, enum.name if enum.schema == "public" else None}
    found = []
    for key in sorted(snap.tables):
        for column in snap.tables[key].columns:
            if column.type.removesuffix("[]").replace('"', "") in spelled:
                found.append((key, column.name))
    return found


def _enum_comment(sides: Sides, key: str, le: EnumType, re_: EnumType) -> list[Difference]:
    if sides.with_models or (le.comment or None) == (re_.comment or None):
        return []  # Enum() takes no comment: not modelled
    auth = le if sides.authority == sides.lname else re_
    change = comment_sql("TYPE", qualified(auth.schema, auth.name), auth.comment)
    values = (le.comment, re_.comment)
    return [
        changed(sides, "enum", None, key, "comment", values, make_fix(sides, None, change, change))
    ]


# -- enums ----------------------------------------------------------------------------------


def _diff_enum(
    sides: Sides, key: str, le: EnumType | None, re_: EnumType | None
) -> list[Difference]:
    if le is not None and re_ is not None and le.labels == re_.labels:
        return _enum_comment(sides, key, le, re_)
    enum = le or re_
    assert enum is not None
    auth = le if sides.authority == sides.lname else re_
    if le is None or re_ is None:
        holder = sides.lname if le else sides.rname
        labels = ", ".join(repr(x) for x in enum.labels)
        change = (
            f"declare Enum({labels}, name={enum.name!r}) on the column(s) that use it"
            if holder == sides.authority
            else f"remove the Enum named {enum.name!r}"
        )
        return [
            Difference(
                object="enum",
                table=None,
                name=key,
                status=missing_status(sides, le is not None),
                values=side_values(sides, le.labels if le else None, re_.labels if re_ else None),
                authority=sides.authority,
                fix=make_fix(
                    sides,
                    None,
                    change,
                    f"create type {key}" if holder == sides.authority else f"drop type {key}",
                ),
            )
        ]
    added = [x for x in re_.labels if x not in le.labels]
    removed = [x for x in le.labels if x not in re_.labels]
    parts = []
    if added:
        parts.append(f"only in {sides.rname}: {', '.join(added)}")
    if removed:
        parts.append(f"only in {sides.lname}: {', '.join(removed)}")
    hint = "; ".join(parts) if parts else "same labels in a different order"
    labels = ", ".join(repr(x) for x in auth.labels)  # type: ignore[union-attr]
    declared = f"Enum({labels}, name={enum.name!r})"
    fix = make_fix(sides, None, declared, f"make type {key} hold the labels {labels} in that order")
    users = _enum_users(sides, enum)
    if users and sides.kind_of(sides.follower) == "models":
        fix = "; ".join(
            f"in {model_origin(sides, table)}: edit the Enum of {column} in place: {declared}"
            for table, column in users
        )
    return [
        Difference(
            object="enum",
            table=None,
            name=key,
            status="different",
            attribute="values",
            values=side_values(sides, le.labels, re_.labels),
            authority=sides.authority,
            fix=fix,
            hint=hint,
        )
    ]
