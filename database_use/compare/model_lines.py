"""SQLAlchemy 2.0 model source for snapshot objects: what a fix tells people to write.

``model_line(column)`` gives the ``name: Mapped[...] = mapped_column(...)`` line of a column,
so a difference whose fix is on the model side names the exact line; the guarded-changes
helper uses it for the model update that follows an approved column change. The other
helpers give the ``__table_args__`` entry of an index or constraint.
"""

from __future__ import annotations

import keyword
import re

from database_use.schema.normalize import split_top_level
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    ExclusionConstraint,
    ForeignKey,
    Index,
    Sequence,
    Snapshot,
    Table,
    UniqueConstraint,
)

# PostgreSQL type (without modifiers) → (SQLAlchemy type, Python annotation)
_SIMPLE = {
    "integer": ("Integer", "int"),
    "bigint": ("BigInteger", "int"),
    "smallint": ("SmallInteger", "int"),
    "boolean": ("Boolean", "bool"),
    "text": ("Text", "str"),
    "character varying": ("String", "str"),
    "character": ("CHAR", "str"),
    "numeric": ("Numeric", "Decimal"),
    "real": ("REAL", "float"),
    "double precision": ("Double", "float"),
    "date": ("Date", "date"),
    "timestamp with time zone": ("DateTime(timezone=True)", "datetime"),
    "timestamp without time zone": ("DateTime", "datetime"),
    "time without time zone": ("Time", "time"),
    "time with time zone": ("Time(timezone=True)", "time"),
    "interval": ("Interval", "timedelta"),
    "uuid": ("Uuid", "uuid.UUID"),
    "jsonb": ("JSONB", "dict[str, Any]"),
    "json": ("JSON", "dict[str, Any]"),
    "bytea": ("LargeBinary", "bytes"),
    "inet": ("INET", "str"),
    "cidr": ("CIDR", "str"),
    "macaddr": ("MACADDR", "str"),
    "tsvector": ("TSVECTOR", "str"),
    "money": ("MONEY", "str"),
}
# Names the declarative base reserves: such a column needs another attribute name.
_RESERVED_ATTRS = {"metadata", "registry", "query"}


def sqlalchemy_type(type_text: str, snapshot: Snapshot | None = None) -> tuple[str, str]:
    """``(SQLAlchemy type expression, Python annotation)`` for a canonical PostgreSQL type."""
    if type_text.endswith("[]"):
        inner, annotation = sqlalchemy_type(type_text[:-2], snapshot)
        return f"ARRAY({inner})", f"list[{annotation}]"
    m = re.fullmatch(
        r"(?P<base>[^(]+?)(?:\((?P<mod>[^)]*)\))?(?P<rest> with(?:out)? time zone)?", type_text
    )
    base = (m["base"] + (m["rest"] or "")) if m else type_text
    mod = m["mod"] if m else None
    if base.startswith(("timestamp", "time")) and mod:
        base = re.sub(r"\(\d+\)", "", type_text)
    if base in _SIMPLE:
        sa_type, annotation = _SIMPLE[base]
        if mod and base in ("character varying", "character"):
            sa_type = f"{sa_type}({mod})"
        elif mod and base == "numeric":
            sa_type = f"Numeric({mod.replace(',', ', ')})"
        return sa_type, annotation
    enum = _find_enum(type_text, snapshot)
    if enum is not None:
        labels = ", ".join(repr(label) for label in enum.labels)
        schema = f", schema={enum.schema!r}" if enum.schema != "public" else ""
        return f"Enum({labels}, name={enum.name!r}{schema})", "str"
    return f"NullType()  # PostgreSQL type {type_text}", "Any"


def _find_enum(type_text: str, snapshot: Snapshot | None):  # noqa: ANN202 - EnumType | None
    if snapshot is None:
        return None
    key = type_text.replace('"', "")
    return snapshot.enums.get(key) or snapshot.enums.get(f"public.{key}")


def attribute_name(column_name: str) -> str:
    """The Python attribute for a column (``metadata`` → ``metadata_``, ``select`` → ``select_``)."""
    name = column_name if column_name.isidentifier() else re.sub(r"\W", "_", column_name)
    if keyword.iskeyword(name) or name in _RESERVED_ATTRS or not name.isidentifier():
        name += "_"
    return name


def model_line(column: Column, table: Table | None = None, snapshot: Snapshot | None = None) -> str:
    """The ``Mapped[...] = mapped_column(...)`` line that declares ``column``."""
    sa_type, annotation = sqlalchemy_type(column.type, snapshot)
    comment_tail = ""
    if "  # " in sa_type:
        sa_type, comment_tail = sa_type.split("  # ", 1)
        comment_tail = "  # " + comment_tail
    attr = attribute_name(column.name)
    args: list[str] = []
    if attr != column.name:
        args.append(repr(column.name))
    if column.collation:
        sa_type = _with_collation(sa_type, column.collation)
    args.append(sa_type)
    if column.identity:
        args.append(f"Identity(always={column.identity == 'always'})")
    if column.generated:
        args.append(f"Computed({column.generated!r}, persisted=True)")
    fk = _single_fk(column, table)
    if fk is not None:
        args.append(column_foreign_key(fk))
    if table is not None and table.primary_key and column.name in table.primary_key.columns:
        args.append("primary_key=True")
    if table is not None and any(u.columns == [column.name] for u in table.unique_constraints):
        args.append("unique=True")
    args.append(f"nullable={column.nullable}")
    if column.default is not None:
        args.append(f"server_default=text({column.default!r})")
    if column.comment:
        args.append(f"comment={column.comment!r}")
    optional = " | None" if column.nullable else ""
    return (
        f"{attr}: Mapped[{annotation}{optional}] = mapped_column({', '.join(args)}){comment_tail}"
    )


def _with_collation(sa_type: str, collation: str) -> str:
    """``Text`` → ``Text(collation='C')``, ``String(50)`` → ``String(50, collation='C')``."""
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", sa_type)
    if not m:
        return sa_type
    inner = f"{m[2]}, " if m[2] else ""
    return f"{m[1]}({inner}collation={collation!r})"


def column_foreign_key(fk: ForeignKey) -> str:
    """The ``ForeignKey(...)`` argument of ``mapped_column`` for a one-column foreign key."""
    ref = fk.ref_table.removeprefix("public.")
    return f"ForeignKey({', '.join([repr(f'{ref}.{fk.ref_columns[0]}'), *_fk_options(fk)])})"


def _fk_options(fk: ForeignKey) -> list[str]:
    options = []
    if fk.on_delete != "NO ACTION":
        options.append(f"ondelete={fk.on_delete!r}")
    if fk.on_update != "NO ACTION":
        options.append(f"onupdate={fk.on_update!r}")
    if fk.deferrable:
        options.append("deferrable=True")
    if fk.initially_deferred:
        options.append("initially='DEFERRED'")
    return options


def _single_fk(column: Column, table: Table | None) -> ForeignKey | None:
    if table is None:
        return None
    return next((fk for fk in table.foreign_keys if fk.columns == [column.name]), None)


def index_line(index: Index) -> str:
    """The ``__table_args__`` entry that declares ``index``."""
    args = [repr(index.name)] + [_key_arg(k) for k in index.columns]
    if index.unique:
        args.append("unique=True")
    if index.method != "btree":
        args.append(f"postgresql_using={index.method!r}")
    if index.where:
        args.append(f"postgresql_where=text({index.where!r})")
    if index.include:
        args.append(f"postgresql_include={index.include!r}")
    if index.nulls_not_distinct:
        args.append("postgresql_nulls_not_distinct=True")
    if any(index.opclasses):
        ops = {k: o for k, o in zip(index.columns, index.opclasses, strict=False) if o}
        args.append(f"postgresql_ops={ops!r}")
    return f"Index({', '.join(args)})"


def _key_arg(key: str) -> str:
    return repr(key) if re.fullmatch(r"\w+", key) else f"text({key!r})"


def _comment_kw(item: object) -> str:
    comment = getattr(item, "comment", None)
    return f", comment={comment!r}" if comment else ""


def unique_line(constraint: UniqueConstraint) -> str:
    name = f", name={constraint.name!r}" if constraint.name else ""
    if constraint.nulls_not_distinct:
        name += ", postgresql_nulls_not_distinct=True"
    name += _comment_kw(constraint)
    return f"UniqueConstraint({', '.join(repr(c) for c in constraint.columns)}{name})"


def exclusion_line(constraint: ExclusionConstraint) -> str:
    """``ExcludeConstraint(('during', '&&'), using='gist', name=...)`` (postgresql dialect)."""
    m = re.match(r"EXCLUDE USING (\w+) \((.*?)\)(?: WHERE \((.*)\))?$", constraint.definition)
    if not m:
        return f"ExcludeConstraint(...)  # {constraint.definition}"
    pairs = []
    for element in split_top_level(m.group(2)):
        key, _, op = element.rpartition(" WITH ")
        pairs.append(f"({_key_arg(key)}, {op!r})")
    args = pairs + [f"using={m.group(1)!r}"]
    if m.group(3):
        args.append(f"where=text({m.group(3)!r})")
    if constraint.name:
        args.append(f"name={constraint.name!r}")
    if constraint.comment:
        args.append(f"comment={constraint.comment!r}")
    return f"ExcludeConstraint({', '.join(args)})"


def check_line(constraint: CheckConstraint) -> str:
    name = f", name={constraint.name!r}" if constraint.name else ""
    name += _comment_kw(constraint)
    return f"CheckConstraint({constraint.expression!r}{name})"


def foreign_key_line(fk: ForeignKey) -> str:
    ref = fk.ref_table.removeprefix("public.")
    args = [repr(fk.columns), repr([f"{ref}.{c}" for c in fk.ref_columns])]
    if fk.name:
        args.append(f"name={fk.name!r}")
    if fk.comment:
        args.append(f"comment={fk.comment!r}")
    return f"ForeignKeyConstraint({', '.join(args + _fk_options(fk))})"


_SEQUENCE_TYPES = {"smallint": "SmallInteger", "integer": "Integer", "bigint": "BigInteger"}


def sequence_line(seq: Sequence) -> str:
    """``Sequence('invoice_no', start=1000, increment=10, ..., schema='shop')``."""
    args = [repr(seq.name)]
    if seq.start != 1:
        args.append(f"start={seq.start}")
    if seq.increment != 1:
        args.append(f"increment={seq.increment}")
    if seq.min_value is not None:
        args.append(f"minvalue={seq.min_value}")
    if seq.max_value is not None:
        args.append(f"maxvalue={seq.max_value}")
    if seq.cycle:
        args.append("cycle=True")
    if seq.cache != 1:
        args.append(f"cache={seq.cache}")
    if seq.data_type != "bigint":
        args.append(f"data_type={_SEQUENCE_TYPES.get(seq.data_type, seq.data_type)}")
    if seq.schema != "public":
        args.append(f"schema={seq.schema!r}")
    return f"Sequence({', '.join(args)}, metadata=Base.metadata)"
