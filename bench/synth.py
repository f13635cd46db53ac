"""A synthetic schema of N tables, emitted twice: as PostgreSQL DDL and as SQLAlchemy models.

Both emitters read the same plan (:func:`plan_schema`), so a database built from :func:`ddl_batches`
and a project holding :func:`models_files` describe the same schema: the engine must compare
them with zero differences (``tests/test_bench_synth.py`` checks that at a small N).

The mix is meant to look like an application's schema rather than N copies of one table:
identity primary keys; varchar / text / numeric / timestamptz / jsonb / boolean / integer
columns; enum columns sharing a handful of enum types; foreign keys to earlier tables with
various ON DELETE actions; single- and multi-column unique constraints; CHECK constraints;
secondary indexes including partial and GIN ones; table and column comments. The plan is
deterministic (seeded), so the same N always yields the same schema.

Expressions are written in the form PostgreSQL prints them back (``quantity >= 0`` on an
integer column, ``WHERE is_active``) so that equality does not hinge on normalising casts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

NOUNS = (
    "account",
    "invoice",
    "order",
    "product",
    "shipment",
    "customer",
    "ticket",
    "project",
    "task",
    "comment",
    "payment",
    "warehouse",
    "supplier",
    "contract",
    "session",
    "device",
    "report",
    "event",
    "message",
    "review",
    "coupon",
    "refund",
    "asset",
    "license",
)
ENUM_LABELS = (
    ("draft", "active", "archived"),
    ("low", "normal", "high", "urgent"),
    ("pending", "approved", "rejected"),
    ("new", "open", "in_progress", "done", "cancelled"),
    ("red", "green", "blue"),
)
ON_DELETE = ("CASCADE", "SET NULL", "RESTRICT", None)


@dataclass
class ColumnPlan:
    name: str
    kind: str  # key into _SQL_TYPES / _SA_TYPES, or "enum"
    nullable: bool = True
    default: str | None = None  # SQL text, as PostgreSQL prints it back
    comment: str | None = None
    enum: str | None = None
    length: int | None = None


@dataclass
class ForeignKeyPlan:
    column: str
    target: str
    on_delete: str | None


@dataclass
class IndexPlan:
    name: str
    columns: tuple[str, ...]
    method: str = "btree"
    where: str | None = None


@dataclass
class TablePlan:
    name: str
    class_name: str
    comment: str
    columns: list[ColumnPlan] = field(default_factory=list)
    foreign_keys: list[ForeignKeyPlan] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (short name, expression)
    indexes: list[IndexPlan] = field(default_factory=list)


@dataclass
class SchemaPlan:
    tables: list[TablePlan]
    enums: dict[str, tuple[str, ...]]

    def counts(self) -> dict[str, int]:
        return {
            "tables": len(self.tables),
            "columns": sum(len(t.columns) for t in self.tables),
            "foreign_keys": sum(len(t.foreign_keys) for t in self.tables),
            "unique_constraints": sum(len(t.uniques) for t in self.tables),
            "check_constraints": sum(len(t.checks) for t in self.tables),
            "indexes": sum(len(t.indexes) for t in self.tables),
            "enums": len(self.enums),
        }


_SQL_TYPES = {
    "varchar": "character varying({length})",
    "text": "text",
    "numeric": "numeric(12,2)",
    "timestamptz": "timestamp with time zone",
    "jsonb": "jsonb",
    "bool": "boolean",
    "int": "integer",
    "bigint": "bigint",
}
_SA_TYPES = {
    "varchar": "String({length})",
    "text": "Text",
    "numeric": "Numeric(12, 2)",
    "timestamptz": "DateTime(timezone=True)",
    "jsonb": "JSONB",
    "bool": "Boolean",
    "int": "Integer",
    "bigint": "BigInteger",
}


def plan_schema(n_tables: int, seed: int = 20261121) -> SchemaPlan:
    """The deterministic plan of ``n_tables`` tables (names ``<noun>_<00001>``)."""
    rng = random.Random(seed)
    n_enums = max(2, min(40, n_tables // 25))
    enums = {f"bench_state_{k:02d}": ENUM_LABELS[k % len(ENUM_LABELS)] for k in range(n_enums)}
    enum_names = sorted(enums)
    tables: list[TablePlan] = []
    for i in range(1, n_tables + 1):
        noun = NOUNS[(i - 1) % len(NOUNS)]
        name = f"{noun}_{i:05d}"
        table = TablePlan(
            name=name,
            class_name="".join(p.capitalize() for p in noun.split("_")) + f"{i:05d}",
            comment=f"Synthetic {noun} records, table {i} of {n_tables}",
        )
        cols = table.columns
        cols.append(ColumnPlan("id", "bigint", nullable=False))
        cols.append(
            ColumnPlan("name", "varchar", nullable=False, length=rng.choice((80, 120, 255)))
        )
        cols.append(ColumnPlan("description", "text", comment="Free text" if i % 3 == 0 else None))
        cols.append(ColumnPlan("amount", "numeric", nullable=False, default="0"))
        cols.append(ColumnPlan("quantity", "int", nullable=False, default="0"))
        cols.append(ColumnPlan("is_active", "bool", nullable=False, default="true"))
        cols.append(ColumnPlan("created_at", "timestamptz", nullable=False, default="now()"))
        cols.append(ColumnPlan("updated_at", "timestamptz"))
        has_attrs = i % 3 == 1
        if has_attrs:
            cols.append(
                ColumnPlan("attrs", "jsonb", default="'{}'::jsonb", comment="Arbitrary attributes")
            )
        if i % 4 == 0:
            enum = enum_names[rng.randrange(len(enum_names))]
            cols.append(
                ColumnPlan(
                    "state",
                    "enum",
                    nullable=False,
                    enum=enum,
                    default=f"'{enums[enum][0]}'::{enum}",
                )
            )
        if i % 5 == 0:
            cols.append(
                ColumnPlan("code", "varchar", nullable=False, length=32, comment="Business key")
            )
            table.uniques.append(("code",))
        for k in range(rng.randrange(0, 3)):  # a few extra plain columns
            kind = rng.choice(("varchar", "text", "int", "bool", "timestamptz"))
            cols.append(ColumnPlan(f"extra_{k}", kind, length=64 if kind == "varchar" else None))
        # Foreign keys to earlier tables: most tables have one, some two.
        if i > 1:
            n_fk = 1 if i % 7 else 2
            targets = sorted({rng.randrange(1, i) for _ in range(n_fk)})
            for t_index, target_i in enumerate(targets):
                target = tables[target_i - 1].name
                column = "parent_id" if t_index == 0 else "other_id"
                on_delete = ON_DELETE[(i + t_index) % len(ON_DELETE)]
                cols.append(
                    ColumnPlan(column, "bigint", nullable=on_delete == "SET NULL" or t_index > 0)
                )
                table.foreign_keys.append(ForeignKeyPlan(column, target, on_delete))
                table.indexes.append(IndexPlan(f"ix_{name}_{column}", (column,)))
            if i % 6 == 0:
                table.uniques.append(("parent_id", "name"))
        table.checks.append(("quantity_non_negative", "quantity >= 0"))
        if i % 8 == 0:
            table.checks.append(("name_not_blank", "length((name)::text) > 0"))
        table.indexes.append(IndexPlan(f"ix_{name}_created_at", ("created_at",)))
        if i % 7 == 3:
            table.indexes.append(
                IndexPlan(f"ix_{name}_active_created", ("created_at",), where="is_active")
            )
        if has_attrs and i % 2 == 1:
            table.indexes.append(IndexPlan(f"ix_{name}_attrs", ("attrs",), method="gin"))
        tables.append(table)
    return SchemaPlan(tables=tables, enums=enums)


# -- DDL --------------------------------------------------------------------------------------
def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_sql(col: ColumnPlan) -> str:
    if col.kind == "enum":
        sql_type = col.enum or ""
    else:
        sql_type = _SQL_TYPES[col.kind].format(length=col.length)
    parts = [col.name, sql_type]
    if col.name == "id":
        parts.append("GENERATED BY DEFAULT AS IDENTITY")
    if not col.nullable:
        parts.append("NOT NULL")
    if col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    return " ".join(parts)


def table_ddl(table: TablePlan) -> str:
    """CREATE TABLE + indexes + comments for one table; constraint names follow db.Model's
    naming convention so the database looks like one ``create_all`` would have built."""
    t = table.name
    lines = [_column_sql(c) for c in table.columns]
    lines.append(f"CONSTRAINT pk_{t} PRIMARY KEY (id)")
    for fk in table.foreign_keys:
        action = f" ON DELETE {fk.on_delete}" if fk.on_delete else ""
        lines.append(
            f"CONSTRAINT fk_{t}_{fk.column}_{fk.target} FOREIGN KEY ({fk.column}) "
            f"REFERENCES {fk.target} (id){action}"
        )
    for cols in table.uniques:
        lines.append(f"CONSTRAINT uq_{t}_{'_'.join(cols)} UNIQUE ({', '.join(cols)})")
    for short, expr in table.checks:
        lines.append(f"CONSTRAINT ck_{t}_{short} CHECK ({expr})")
    out = [f"CREATE TABLE {t} (\n    " + ",\n    ".join(lines) + "\n);"]
    for ix in table.indexes:
        using = f" USING {ix.method}" if ix.method != "btree" else ""
        where = f" WHERE {ix.where}" if ix.where else ""
        out.append(f"CREATE INDEX {ix.name} ON {t}{using} ({', '.join(ix.columns)}){where};")
    out.append(f"COMMENT ON TABLE {t} IS {_sql_literal(table.comment)};")
    for col in table.columns:
        if col.comment:
            out.append(f"COMMENT ON COLUMN {t}.{col.name} IS {_sql_literal(col.comment)};")
    return "\n".join(out)


def enums_ddl(plan: SchemaPlan) -> str:
    return "\n".join(
        f"CREATE TYPE {name} AS ENUM ({', '.join(_sql_literal(v) for v in labels)});"
        for name, labels in sorted(plan.enums.items())
    )


def ddl_batches(plan: SchemaPlan, batch_size: int = 200) -> Iterator[str]:
    """Multi-statement scripts: the enum types, then ``batch_size`` tables per script.

    Each script is meant for one transaction; batching keeps the number of locks a single
    transaction holds well under ``max_locks_per_transaction`` at 10,000 tables."""
    yield enums_ddl(plan)
    for start in range(0, len(plan.tables), batch_size):
        yield "\n".join(table_ddl(t) for t in plan.tables[start : start + batch_size])


# -- models ------------------------------------------------------------------------------------
_MODELS_HEADER = '''"""Synthetic models generated by bench/synth.py ({n} tables). Do not edit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from utils_db.database import db

'''
_PY_TYPES = {
    "varchar": "str",
    "text": "str",
    "numeric": "Decimal",
    "timestamptz": "datetime",
    "jsonb": "dict[str, Any]",
    "bool": "bool",
    "int": "int",
    "bigint": "int",
    "enum": "str",
}


def _column_source(col: ColumnPlan, fk: ForeignKeyPlan | None) -> str:
    if col.kind == "enum":
        sa_type = f"ENUM_{(col.enum or '').upper()}"
    else:
        sa_type = _SA_TYPES[col.kind].format(length=col.length)
    args = [sa_type]
    if col.name == "id":
        args += ["Identity(always=False)", "primary_key=True"]
    if fk is not None:
        ondelete = f", ondelete={fk.on_delete!r}" if fk.on_delete else ""
        args.insert(1, f"ForeignKey({(fk.target + '.id')!r}{ondelete})")
    if col.name != "id":
        args.append(f"nullable={col.nullable}")
    if col.default is not None:
        default = col.default
        if col.kind == "enum":  # a model spells the label; the cast is PostgreSQL's rendering
            default = default.split("::", 1)[0]
        args.append(f"server_default=text({default!r})")
    if col.comment:
        args.append(f"comment={col.comment!r}")
    py_type = _PY_TYPES[col.kind]
    if col.nullable:
        py_type += " | None"
    return f"    {col.name}: Mapped[{py_type}] = mapped_column({', '.join(args)})"


def table_source(table: TablePlan) -> str:
    """One SQLAlchemy 2.0 declarative class (``Mapped`` / ``mapped_column``) on ``db.Model``."""
    fks = {fk.column: fk for fk in table.foreign_keys}
    args: list[str] = []
    for cols in table.uniques:
        args.append(f"UniqueConstraint({', '.join(repr(c) for c in cols)})")
    for short, expr in table.checks:
        args.append(f"CheckConstraint({expr!r}, name={short!r})")
    for ix in table.indexes:
        extra = ""
        if ix.method != "btree":
            extra += f", postgresql_using={ix.method!r}"
        if ix.where:
            extra += f", postgresql_where=text({ix.where!r})"
        cols = ", ".join(repr(c) for c in ix.columns)
        args.append(f"Index({ix.name!r}, {cols}{extra})")
    args.append(f"{{'comment': {table.comment!r}}}")
    lines = [
        f"class {table.class_name}(db.Model):",
        f"    __tablename__ = {table.name!r}",
        "    __table_args__ = (",
        *(f"        {a}," for a in args),
        "    )",
        "",
    ]
    lines += [_column_source(col, fks.get(col.name)) for col in table.columns]
    return "\n".join(lines)


TABLES_PER_FILE = 250


def models_source(plan: SchemaPlan, tables: list[TablePlan] | None = None) -> str:
    """The text of one models file declaring ``tables`` (default: all of ``plan``'s)."""
    tables = plan.tables if tables is None else tables
    used = {c.enum for t in tables for c in t.columns if c.enum}
    out = [_MODELS_HEADER.format(n=len(tables))]
    for name, labels in sorted(plan.enums.items()):
        if name in used:
            values = ", ".join(repr(v) for v in labels)
            out.append(f"ENUM_{name.upper()} = Enum({values}, name={name!r})")
    for table in tables:
        out.append("\n")
        out.append(table_source(table))
    out.append("")
    return "\n".join(out)


def models_files(plan: SchemaPlan, per_file: int = TABLES_PER_FILE) -> dict[str, str]:
    """``{file name: source}``: ``models_bench_0000.py`` … with ``per_file`` tables each.

    Split as a large application splits its models, and because SQLAlchemy resolves each
    string annotation against a copy of its module's namespace: one module of 10,000 classes
    makes loading quadratic for every tool alike (alembic included), which would measure
    SQLAlchemy rather than the comparer."""
    return {
        f"models_bench_{start // per_file:04d}.py": models_source(
            plan, plan.tables[start : start + per_file]
        )
        for start in range(0, len(plan.tables), per_file)
    }
