"""The schema snapshot: plain typed objects every source fills and every renderer reads.

No I/O and no SQLAlchemy here. A snapshot round-trips through JSON (``to_dict`` /
``from_dict``) and has a stable hash of its structure (``schema_hash``) that ignores
statistics and where the snapshot came from, so the live database, the models and the
doc of the same schema hash alike when they hold the same facts.

Conventions every source follows (normalise at the edges):
- table keys are schema-qualified: ``public.users``;
- ``Column.type`` is PostgreSQL's canonical spelling (``format_type``): ``integer``,
  ``character varying(255)``, ``timestamp with time zone``, ``numeric(12,2)``, ``integer[]``,
  user types schema-qualified only outside ``public`` (``audit.level``);
- defaults, CHECK and index expressions are normalised text (redundant casts stripped);
- identity columns carry ``identity`` = ``always`` | ``by default`` and no default;
- referential actions are upper-case words: ``NO ACTION``, ``CASCADE``, ``SET NULL``, ...
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

TableKind = Literal["table", "partitioned table", "view", "materialized view", "foreign table"]
SourceKind = Literal["db", "models", "doc", "json"]
VIEW_KINDS = ("view", "materialized view")


@dataclass
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: Literal["always", "by default"] | None = None
    generated: str | None = None  # the expression of GENERATED ALWAYS AS (...) STORED
    comment: str | None = None
    position: int = 0
    collation: str | None = None  # only when it is not the type's default collation


@dataclass
class PrimaryKey:
    columns: list[str]
    name: str | None = None


@dataclass
class ForeignKey:
    columns: list[str]
    ref_table: str  # schema-qualified
    ref_columns: list[str]
    name: str | None = None
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False
    validated: bool = True  # False: added NOT VALID and never validated


@dataclass
class Index:
    columns: list[str]  # column names or expression text, in order
    name: str | None = None
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: list[str] = field(default_factory=list)
    nulls_not_distinct: bool = False  # UNIQUE ... NULLS NOT DISTINCT (PostgreSQL 15+)
    # operator class per key column, "" where it is the type's default (empty: all default)
    opclasses: list[str] = field(default_factory=list)


@dataclass
class UniqueConstraint:
    columns: list[str]
    name: str | None = None
    nulls_not_distinct: bool = False  # UNIQUE NULLS NOT DISTINCT (PostgreSQL 15+)


@dataclass
class CheckConstraint:
    expression: str
    name: str | None = None
    validated: bool = True  # False: added NOT VALID and never validated


@dataclass
class ExclusionConstraint:
    """``EXCLUDE USING <method> (<element> WITH <operator>, ...) [WHERE (...)]``."""

    definition: str  # normalised: "EXCLUDE USING gist (during WITH &&)"
    name: str | None = None


@dataclass
class Table:
    schema: str
    name: str
    kind: TableKind = "table"
    columns: list[Column] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    check_constraints: list[CheckConstraint] = field(default_factory=list)
    exclusion_constraints: list[ExclusionConstraint] = field(default_factory=list)
    comment: str | None = None
    definition: str | None = None  # views and materialized views
    # Statistics from the catalog; never part of the structure or its hash.
    estimated_rows: int | None = None
    size_bytes: int | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def is_view(self) -> bool:
        return self.kind in VIEW_KINDS

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class EnumType:
    schema: str
    name: str
    labels: list[str]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


_STATS = ("estimated_rows", "size_bytes")


@dataclass
class Snapshot:
    """One schema as seen by one source. ``tables``/``enums`` are keyed by qualified name."""

    source: SourceKind
    tables: dict[str, Table] = field(default_factory=dict)
    enums: dict[str, EnumType] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)
    server_version: str | None = None  # e.g. "16.2" for the live source

    def add_table(self, table: Table) -> Table:
        self.tables[table.qualified_name] = table
        if table.schema not in self.schemas:
            self.schemas.append(table.schema)
        return table

    def add_enum(self, enum: EnumType) -> EnumType:
        self.enums[enum.qualified_name] = enum
        if enum.schema not in self.schemas:
            self.schemas.append(enum.schema)
        return enum

    def table(self, name: str) -> Table | None:
        """A table by qualified name, or by bare name when that is unambiguous."""
        if name in self.tables:
            return self.tables[name]
        matches = [t for t in self.tables.values() if t.name == name]
        if len(matches) == 1:
            return matches[0]
        return self.tables.get(f"public.{name}")

    # -- JSON -----------------------------------------------------------------------
    def to_dict(self, *, stats: bool = True) -> dict[str, Any]:
        tables = []
        for key in sorted(self.tables):
            data = asdict(self.tables[key])
            if not stats:
                for name in _STATS:
                    data.pop(name, None)
            tables.append(data)
        return {
            "source": self.source,
            "server_version": self.server_version,
            "schemas": sorted(self.schemas),
            "tables": tables,
            "enums": [asdict(self.enums[k]) for k in sorted(self.enums)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        snap = cls(source=data.get("source", "json"), server_version=data.get("server_version"))
        for schema in data.get("schemas", []):
            if schema not in snap.schemas:
                snap.schemas.append(schema)
        for raw in data.get("tables", []):
            snap.add_table(_table_from_dict(raw))
        for raw in data.get("enums", []):
            snap.add_enum(EnumType(**raw))
        return snap

    def to_json(self, *, stats: bool = True) -> str:
        return json.dumps(self.to_dict(stats=stats), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        return cls.from_dict(json.loads(text))

    # -- hashing --------------------------------------------------------------------
    def structure(self) -> dict[str, Any]:
        """The facts that define the schema: no statistics, positions or provenance.

        Attributes added later (collation, opclasses, validated, nulls_not_distinct) appear only when they differ
        from their default, so the hash of a schema that uses none of them did not change.

        Built by hand rather than with ``asdict`` (which deep-copies): hashing 1,000 tables
        is on the hot path of generate-docs, validate and every guarded change.
        """
        tables = []
        for key in sorted(self.tables):
            t = self.tables[key]
            pk = t.primary_key
            tables.append(
                {
                    "schema": t.schema,
                    "name": t.name,
                    "kind": t.kind,
                    "comment": t.comment,
                    "definition": t.definition,
                    "columns": [
                        {
                            "name": c.name,
                            "type": c.type,
                            "nullable": c.nullable,
                            "default": c.default,
                            "identity": c.identity,
                            "generated": c.generated,
                            "comment": c.comment,
                            **({"collation": c.collation} if c.collation else {}),
                        }
                        for c in t.columns
                    ],
                    "primary_key": None
                    if pk is None
                    else {"columns": list(pk.columns), "name": pk.name},
                    "foreign_keys": _sorted_items(
                        {
                            "columns": list(f.columns),
                            "ref_table": f.ref_table,
                            "ref_columns": list(f.ref_columns),
                            "name": f.name,
                            "on_delete": f.on_delete,
                            "on_update": f.on_update,
                            "deferrable": f.deferrable,
                            "initially_deferred": f.initially_deferred,
                            **({} if f.validated else {"validated": False}),
                        }
                        for f in t.foreign_keys
                    ),
                    "indexes": _sorted_items(
                        {
                            "columns": list(i.columns),
                            "name": i.name,
                            "unique": i.unique,
                            "method": i.method,
                            "where": i.where,
                            "include": list(i.include),
                            **({"opclasses": list(i.opclasses)} if any(i.opclasses) else {}),
                            **({"nulls_not_distinct": True} if i.nulls_not_distinct else {}),
                        }
                        for i in t.indexes
                    ),
                    "unique_constraints": _sorted_items(
                        {
                            "columns": list(u.columns),
                            "name": u.name,
                            **({"nulls_not_distinct": True} if u.nulls_not_distinct else {}),
                        }
                        for u in t.unique_constraints
                    ),
                    **(
                        {
                            "exclusion_constraints": _sorted_items(
                                {"definition": x.definition, "name": x.name}
                                for x in t.exclusion_constraints
                            )
                        }
                        if t.exclusion_constraints
                        else {}
                    ),
                    "check_constraints": _sorted_items(
                        {
                            "expression": c.expression,
                            "name": c.name,
                            **({} if c.validated else {"validated": False}),
                        }
                        for c in t.check_constraints
                    ),
                }
            )
        enums = [
            {"schema": e.schema, "name": e.name, "labels": list(e.labels)}
            for e in (self.enums[k] for k in sorted(self.enums))
        ]
        return {"tables": tables, "enums": enums}

    def schema_hash(self) -> str:
        """SHA-256 (hex, first 16 chars) of :meth:`structure` in canonical JSON."""
        canonical = json.dumps(self.structure(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _sort_key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


def _sorted_items(items) -> list[dict[str, Any]]:
    items = list(items)
    # Most tables hold zero or one of each kind: skip the (costly) JSON sort key then.
    return items if len(items) < 2 else sorted(items, key=_sort_key)


def _table_from_dict(raw: dict[str, Any]) -> Table:
    raw = dict(raw)
    pk = raw.pop("primary_key", None)
    known = {f.name for f in fields(Table)}
    table = Table(
        **{k: v for k, v in raw.items() if k in known and k not in _NESTED},
        primary_key=PrimaryKey(**pk) if pk else None,
    )
    table.columns = [Column(**c) for c in raw.get("columns", [])]
    table.foreign_keys = [ForeignKey(**f) for f in raw.get("foreign_keys", [])]
    table.indexes = [Index(**i) for i in raw.get("indexes", [])]
    table.unique_constraints = [UniqueConstraint(**u) for u in raw.get("unique_constraints", [])]
    table.check_constraints = [CheckConstraint(**c) for c in raw.get("check_constraints", [])]
    table.exclusion_constraints = [
        ExclusionConstraint(**x) for x in raw.get("exclusion_constraints", [])
    ]
    return table


_NESTED = {
    "columns",
    "foreign_keys",
    "indexes",
    "unique_constraints",
    "check_constraints",
    "exclusion_constraints",
}
