"""The schema doc for every object kind (issue 12): sections, round trip, hostile input, errors.

Pure tests: the snapshots are built by hand from the contract in
``database_use/schema/snapshot.py`` (``all_kinds_snapshot`` mirrors
``tests/corpus/all_kinds.sql`` as the live source reads it), so they hold whatever the live
source does. ``UPDATE_GOLDEN=1 pytest tests/test_render_doc_kinds.py`` rewrites
``tests/golden/all_kinds.md`` after an intended format change.
"""

from __future__ import annotations

import json
import os
import random
import re

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from database_use import service
from database_use.errors import DocParseError
from database_use.project import Project
from database_use.render.doc import render_doc
from database_use.render.doc_kinds import domain_type_spelling
from database_use.schema.snapshot import (
    PRIVILEGE_ORDER,
    Attribute,
    CheckConstraint,
    Column,
    CompositeType,
    Domain,
    EnumType,
    ExclusionConstraint,
    Extension,
    ForeignKey,
    Function,
    Grant,
    Index,
    Policy,
    PrimaryKey,
    RangeType,
    Rule,
    Sequence,
    Snapshot,
    Table,
    Trigger,
    UniqueConstraint,
)
from database_use.sources.doc import doc_header_hash, parse_doc
from database_use.sources.live import from_database
from tests.conftest import REPO_ROOT
from tests.test_render_doc import _NAME, _TEXT, example_snapshot, snapshots

GOLDEN = REPO_ROOT / "tests" / "golden" / "all_kinds.md"
TSTZ = "timestamp with time zone"


def _cols(*specs: tuple) -> list[Column]:
    return [Column(*spec, position=i) for i, spec in enumerate(specs, start=1)]


def all_kinds_snapshot() -> Snapshot:
    """tests/corpus/all_kinds.sql as the live source reads it (by the contract's conventions)."""
    snap = Snapshot(source="db", server_version="16.4", schemas=["public", "shop"])
    snap.schema_comments["shop"] = "The shop's own objects"
    snap.schema_privileges["public"] = [Grant("PUBLIC", ["USAGE"])]
    snap.schema_privileges["shop"] = [Grant("ak_reader", ["USAGE"])]
    snap.add(
        Domain(
            "shop",
            "nonempty_text",
            "text",
            nullable=False,
            checks=[CheckConstraint("VALUE <> ''", "nonempty")],
        )
    )
    snap.add(
        Domain(
            "shop",
            "sku",
            "shop.nonempty_text",
            checks=[CheckConstraint("VALUE ~ '^[A-Z]{3}-[0-9]+$'", "sku_format")],
        )
    )
    snap.add(
        Domain(
            "shop",
            "price",
            "numeric(12,2)",
            default="0",
            checks=[CheckConstraint("VALUE >= 0", "price_check")],
            comment="Money, never negative",
        )
    )
    snap.add(EnumType("shop", "order_state", ["new", "paid", "shipped"]))
    snap.add(
        CompositeType(
            "shop",
            "address",
            [
                Attribute("street", "text"),
                Attribute("city", "text", collation="C"),
                Attribute("zip", "character varying(10)"),
            ],
            comment="A postal address",
        )
    )
    snap.add(RangeType("shop", "price_range", "numeric", multirange="shop.price_multirange"))
    snap.add(
        Sequence(
            "shop",
            "audit_id_seq",
            owned_by="shop.audit.id",
            privileges=[Grant("ak_reader", ["SELECT"])],
        )
    )
    snap.add(
        Sequence(
            "shop",
            "invoice_no",
            data_type="integer",
            start=1000,
            increment=10,
            min_value=1000,
            max_value=999999,
            cycle=True,
            cache=5,
            comment="Invoice numbers",
            privileges=[Grant("ak_writer", ["USAGE"])],
        )
    )
    snap.add(Sequence("shop", "products_id_seq", data_type="integer", owned_by="shop.products.id"))
    reader = Grant("ak_reader", ["SELECT"])
    snap.add(
        Table(
            "shop",
            "audit",
            columns=_cols(
                ("id", "bigint", False, "nextval('shop.audit_id_seq'::regclass)"),
                ("at", TSTZ, False, "now()"),
                ("what", "text", False),
            ),
            primary_key=PrimaryKey(["id"], "audit_pkey"),
            privileges=[reader],
        )
    )
    snap.add(
        Table(
            "shop",
            "bookings",
            columns=_cols(("id", "integer", False), ("during", "tsrange", False)),
            primary_key=PrimaryKey(["id"], "bookings_pkey"),
            exclusion_constraints=[
                ExclusionConstraint("EXCLUDE USING gist (during WITH &&)", "bookings_during_excl")
            ],
            privileges=[reader],
        )
    )
    snap.add(
        Table(
            "shop",
            "cheap_products",
            kind="view",
            columns=_cols(
                ("id", "integer", True), ("name", "text", True), ("price", "shop.price", True)
            ),
            definition=" SELECT id,\n    name,\n    price\n   FROM shop.products\n"
            "  WHERE price < 10::numeric;",
            rules=[
                Rule(
                    "cheap_products_delete",
                    "DELETE",
                    "CREATE RULE cheap_products_delete AS\n    ON DELETE TO shop.cheap_products DO "
                    "INSTEAD  DELETE FROM shop.products\n  WHERE products.id = old.id;",
                )
            ],
            privileges=[reader],
        )
    )
    notes = Table(
        "shop",
        "notes",
        columns=_cols(
            ("id", "integer", False),
            ("owner_name", "text", False, "CURRENT_USER"),
            ("body", "text", True),
        ),
        primary_key=PrimaryKey(["id"], "notes_pkey"),
        rls_enabled=True,
        rls_forced=True,
        triggers=[
            Trigger(
                "notes_audit",
                "BEFORE",
                ["INSERT"],
                "STATEMENT",
                "shop.log_row()",
                enabled="disabled",
            )
        ],
        policies=[
            Policy(
                "notes_insert",
                "INSERT",
                permissive=False,
                with_check="owner_name = CURRENT_USER",
            ),
            Policy(
                "notes_own",
                "SELECT",
                roles=["ak_reader"],
                using="owner_name = CURRENT_USER",
                comment="Readers see their own notes",
            ),
        ],
        privileges=[
            reader,
            Grant("ak_writer", ["SELECT", "UPDATE"], column="body"),
            Grant("ak_writer", ["SELECT"], column="id"),
        ],
    )
    snap.add(notes)
    snap.add(
        Table(
            "shop",
            "order_counts",
            kind="materialized view",
            comment="Orders per region",
            columns=_cols(("region", "text", True), ("n", "bigint", True)),
            indexes=[Index(["region"], "order_counts_region", unique=True)],
            definition=" SELECT region,\n    count(*) AS n\n   FROM shop.orders\n  GROUP BY region;",
            privileges=[reader],
        )
    )
    order_cols = (
        ("id", "bigint", False, None, "always"),
        ("placed_at", "date", False),
        ("region", "text", False),
        ("state", "shop.order_state", False, "'new'"),
        ("product_id", "integer", False),
        ("invoice", "integer", True, "nextval('shop.invoice_no'::regclass)"),
    )
    parts = [
        ("orders", "partitioned table", "RANGE (placed_at)", None, None),
        (
            "orders_2025",
            "partitioned table",
            "LIST (region)",
            "shop.orders",
            "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        ),
        ("orders_2025_eu", "table", None, "shop.orders_2025", "FOR VALUES IN ('eu')"),
        ("orders_2025_other", "table", None, "shop.orders_2025", "DEFAULT"),
        (
            "orders_2026",
            "table",
            None,
            "shop.orders",
            "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        ),
    ]
    for name, kind, key, parent, bound in parts:
        table = Table(
            "shop",
            name,
            kind=kind,  # type: ignore[arg-type]
            columns=_cols(*order_cols),
            primary_key=PrimaryKey(["id", "placed_at", "region"], f"{name}_pkey"),
            partition_key=key,
            partition_of=parent,
            partition_bound=bound,
            privileges=[reader],
        )
        if name == "orders_2026":
            table.foreign_keys.append(
                ForeignKey(["product_id"], "shop.products", ["id"], "orders_2026_product_fk")
            )
            table.indexes.append(
                Index(["state"], "orders_2026_state_idx", comment="Open orders of 2026")
            )
        snap.add(table)
    snap.add(
        Table(
            "shop",
            "products",
            columns=_cols(
                ("id", "integer", False, "nextval('shop.products_id_seq'::regclass)"),
                ("sku", "shop.sku", True),
                ("name", "text", False),
                ("price", "shop.price", True),
                ("ship_to", "shop.address", True),
                ("band", "shop.price_range", True),
            ),
            primary_key=PrimaryKey(["id"], "products_pkey"),
            unique_constraints=[
                UniqueConstraint(["sku"], "products_sku_key", comment="One row per SKU")
            ],
            triggers=[
                Trigger(
                    "products_audit",
                    "AFTER",
                    ["INSERT", "UPDATE OF price", "DELETE"],
                    "ROW",
                    "shop.log_row()",
                    when="pg_trigger_depth() = 0",
                    comment="Every price change",
                )
            ],
            privileges=[
                reader,
                Grant("ak_writer", ["SELECT", "INSERT"], grantable=["SELECT", "INSERT"]),
            ],
        )
    )
    snap.tables["shop.products"].columns[2].collation = "C"
    public_execute = [Grant("PUBLIC", ["EXECUTE"])]
    for function in (
        Function(
            "shop",
            "add_tax",
            "amount integer",
            arguments="amount integer",
            returns="integer",
            volatility="immutable",
            body="SELECT amount + amount / 5",
            privileges=[Grant("ak_reader", ["EXECUTE"])],
        ),
        Function(
            "shop",
            "add_tax",
            "amount numeric, rate numeric",
            arguments="amount numeric, rate numeric DEFAULT 0.2",
            returns="numeric",
            volatility="immutable",
            strict=True,
            parallel="safe",
            body="RETURN (amount * ((1)::numeric + rate))",
            privileges=public_execute,
        ),
        Function(
            "shop",
            "log_row",
            "",
            returns="trigger",
            language="plpgsql",
            security_definer=True,
            config=["search_path=pg_catalog"],
            body="\nBEGIN\n    INSERT INTO shop.audit (what) VALUES (TG_TABLE_NAME || ' ' || TG_OP);"
            "\n    RETURN NEW;\nEND\n",
            comment="Writes one audit row",
            privileges=public_execute,
        ),
        Function(
            "shop",
            "purge_audit",
            "IN keep_days integer",
            kind="procedure",
            arguments="IN keep_days integer",
            body="\n    DELETE FROM shop.audit WHERE at < now() - make_interval(days => keep_days)\n",
            privileges=public_execute,
        ),
        Function(
            "shop",
            "sum_step",
            "state numeric, value numeric",
            returns="numeric",
            volatility="immutable",
            body="SELECT state + value",
            privileges=public_execute,
        ),
        Function(
            "shop",
            "total",
            "numeric",
            kind="aggregate",
            returns="numeric",
            language="internal",
            body="SFUNC = shop.sum_step, STYPE = numeric, INITCOND = '0'",
            privileges=public_execute,
        ),
    ):
        function.arguments = function.arguments or function.identity_arguments
        snap.add(function)
    return snap


def _comparable(snap: Snapshot) -> dict:
    """``to_dict(stats=False)`` without what the doc does not carry (source, server version)."""
    data = snap.to_dict(stats=False)
    data.pop("source")
    data.pop("server_version")
    return data


def _round_trip(snap: Snapshot) -> Snapshot:
    text = render_doc(snap)
    parsed = parse_doc(text)
    assert parsed.structure() == snap.structure()
    assert parsed.schema_hash() == doc_header_hash(text) == snap.schema_hash()
    assert render_doc(parsed) == text
    return parsed


# --------------------------------------------------------------------------------------------
# the all-kinds schema
# --------------------------------------------------------------------------------------------
def test_all_kinds_round_trip_exactly() -> None:
    snap = all_kinds_snapshot()
    parsed = _round_trip(snap)
    assert _comparable(parsed) == _comparable(snap)
    body = snap.functions["shop.log_row()"].body
    assert parsed.functions["shop.log_row()"].body == body
    assert (
        parsed.functions["shop.log_row()"].body_digest
        == snap.functions["shop.log_row()"].body_digest
    )


def test_all_kinds_golden_and_deterministic() -> None:
    text = render_doc(all_kinds_snapshot())
    shuffled = all_kinds_snapshot()
    for attr in ("tables", "sequences", "domains", "functions", "schema_privileges"):
        setattr(shuffled, attr, dict(reversed(list(getattr(shuffled, attr).items()))))
    for table in shuffled.tables.values():
        table.privileges.reverse()
        table.policies.reverse()
    assert render_doc(shuffled) == text
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_all_kinds_doc_shows_each_fact() -> None:
    text = render_doc(all_kinds_snapshot())
    assert (
        "- Tables: 9 · Views: 2 · Enums: 1 · Foreign keys: 1 · Sequences: 3 · Domains: 3 · "
        "Composite types: 1 · Range types: 1 · Functions: 6\n" in text
    )
    for link in ("sequences", "domains", "composite-types", "range-types", "functions", "schemas"):
        assert f"](#{link})\n" in text
    assert "[Extensions]" not in text  # none here: no section, no count, no link
    # a NOT NULL domain (through its base domain) does not read as plainly nullable
    assert "| sku | shop.sku | yes (domain NOT NULL) |  | UQ |  |" in text
    assert "| price | shop.price | yes |  |  |  |" in text
    assert "- Partition key: RANGE (placed_at)" in text
    assert "- Partition of: shop.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')" in text
    assert "- Partition of: shop.orders_2025 DEFAULT" in text
    tree = text.split("#### Partitions\n\n", 1)[1].split("\n\n", 1)[0].split("\n")
    assert tree == [
        "- [shop.orders_2025](#t-shop-orders-2025) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "  - [shop.orders_2025_eu](#t-shop-orders-2025-eu) FOR VALUES IN ('eu')",
        "  - [shop.orders_2025_other](#t-shop-orders-2025-other) DEFAULT",
        "- [shop.orders_2026](#t-shop-orders-2026) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    ]
    assert "- Row-level security: enabled, forced" in text
    assert (
        "| products_audit | AFTER | INSERT, UPDATE OF price, DELETE | ROW | shop.log_row() | "
        "pg_trigger_depth() = 0 | origin |  | Every price change |" in text
    )
    assert (
        "| notes_insert | INSERT | restrictive | PUBLIC |  | owner_name = CURRENT_USER |  |" in text
    )
    assert "| ak_writer | body | SELECT, UPDATE |  |" in text
    assert "| ak_writer |  | SELECT, INSERT | SELECT, INSERT |" in text
    assert "| Name | Type | Columns | Expression | Comment |" in text  # products' UQ comment
    assert "| orders_2026_state_idx | state | no | btree |  |  | Open orders of 2026 |" in text
    assert "- Privileges: ak_reader: EXECUTE" in text
    assert "| shop | The shop's own objects | ak_reader: USAGE |" in text
    assert "| Enum | Labels |\n" in text  # no enum comment here: no Comment column
    assert "```sql\n\nBEGIN\n" in text and "```text\nSFUNC = shop.sum_step" in text


# --------------------------------------------------------------------------------------------
# byte-identical for a schema without the new facts
# --------------------------------------------------------------------------------------------
def test_new_sections_only_when_present() -> None:
    text = render_doc(example_snapshot())
    for word in (
        "Sequences",
        "Domains",
        "Functions",
        "## Schemas",
        "Partition",
        "Triggers",
        "Privileges",
    ):
        assert word not in text
    snap = example_snapshot()
    snap.add(Extension("pg_trgm", "1.6", "public"))
    with_extension = render_doc(snap)
    assert "· Extensions: 1\n" in with_extension and "- [Extensions](#extensions)" in with_extension
    assert "| pg_trgm | 1.6 | public |" in with_extension
    _round_trip(snap)


# --------------------------------------------------------------------------------------------
# hostile identifiers and bodies, per kind
# --------------------------------------------------------------------------------------------
HOSTILE = [
    'we"ird',
    "sp ace",
    "pi|pe",
    "back`tick",
    "new\nline",
    "ünï ✓ 表",
    "do$llar",
    "*bold* _it_ [l](x) # h",
    "<b>x</b>",
    "line\u2028sep",
    "cr\ronly",
]
HOSTILE_BODIES = [
    "```\nnot the end\n```",
    "````````",
    "a | b\n## Not a section\n### nor a table\n#### nor a subsection",
    "<script>alert(1)</script>",
    "\u2028 and \r lone CR and \r\n CRLF",
    "trailing   \n\n\n",
    "",
    "\n",
    "`",
    "- Kind: table",
]


def hostile_kinds_snapshot(name: str, body: str) -> Snapshot:
    snap = Snapshot(source="db")
    snap.schema_comments[name] = name
    snap.schema_privileges[name] = [Grant(name, ["USAGE", "CREATE"], ["CREATE"])]
    snap.add(
        Domain(
            name,
            name,
            name,
            nullable=False,
            default=name,
            collation=name,
            checks=[CheckConstraint(name, name, validated=False, comment=name)],
            comment=name,
        )
    )
    snap.add(CompositeType(name, name + "c", [Attribute(name, name, name)], comment=name))
    snap.add(RangeType(name, name + "r", name, name, name, name, name, name, name))
    snap.add(
        Sequence(
            name,
            name + "s",
            name,
            -5,
            -1,
            -100,
            -1,
            True,
            3,
            name,
            name,
            [Grant(name, ["SELECT", "USAGE"], ["USAGE"])],
        )
    )
    snap.add(Extension(name, name, name))
    snap.add(EnumType(name, name + "e", [name, ""], comment=name))
    snap.add(
        Function(
            name,
            name,
            f'"{name}" integer, b text',
            kind="window",
            arguments=name,
            returns=name,
            language=name,
            volatility="stable",
            strict=True,
            security_definer=True,
            parallel="restricted",
            leakproof=True,
            config=[name, "a, b"],
            body=body,
            comment=name,
            privileges=[Grant(name, ["EXECUTE"], ["EXECUTE"])],
        )
    )
    parent = Table(
        name,
        name,
        kind="partitioned table",
        partition_key=name,
        columns=[Column(name, domain_type_spelling(name, name), True, position=1)],
        primary_key=PrimaryKey([name], name, comment=name),
        indexes=[Index([name], name, comment=name)],
        rls_forced=True,
        triggers=[
            Trigger(
                name,
                "INSTEAD OF",
                [name, "UPDATE OF a, b"],
                "STATEMENT",
                name,
                name,
                "replica",
                name,
                name,
            )
        ],
        policies=[Policy(name, "DELETE", False, [name, "PUBLIC"], name, name, name)],
        rules=[Rule(name, "UPDATE", name, "always", name)],
        privileges=[
            Grant(name, ["TRIGGER", "MAINTAIN"], ["MAINTAIN"]),
            Grant(name, ["REFERENCES"], [], column=name),
        ],
    )
    snap.add(parent)
    snap.add(
        Table(
            name,
            name + " p",
            partition_of=parent.qualified_name,
            partition_bound=name,
            foreign_keys=[ForeignKey([name], parent.qualified_name, [name], name, comment=name)],
        )
    )
    return snap


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_identifiers_round_trip_for_every_kind(name: str) -> None:
    snap = hostile_kinds_snapshot(name, "SELECT 1")
    text = render_doc(snap)
    parsed = _round_trip(snap)
    assert _comparable(parsed) == _comparable(snap)
    # no raw HTML, and every Markdown table row has its header's number of cells
    outside_code = re.sub(r"^(`{3,}).*?^\1$", "", text, flags=re.M | re.S)
    assert not re.search(r"(?<!\\)<(?!br>|a id=\"|/a>|!-- database-use)", outside_code)
    lines = text.split("\n")
    for no, line in enumerate(lines):
        if line.startswith("| ") and lines[no - 1].startswith("| "):
            assert len(re.split(r"(?<!\\)\|", line)) == len(re.split(r"(?<!\\)\|", lines[no - 1]))


@pytest.mark.parametrize("name", ["plain", *HOSTILE])
def test_compact_json_is_the_dict_form_dumped(name: str) -> None:
    """The models child sends ``to_compact_json``: the very text of ``json.dumps(to_dict())``,
    for every kind, hostile names and bodies included, and it reads back to the same dict."""
    for snap in (all_kinds_snapshot(), hostile_kinds_snapshot(name, HOSTILE_BODIES[-1])):
        text = snap.to_compact_json()
        assert text == json.dumps(snap.to_dict())
        assert Snapshot.from_dict(json.loads(text)).to_dict() == snap.to_dict()


def test_compact_json_refuses_what_json_refuses() -> None:
    snap = all_kinds_snapshot()
    snap.schema_comments["public"] = {"a set"}  # type: ignore[assignment]
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        snap.to_compact_json()
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        json.dumps(snap.to_dict())


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_bodies_stay_verbatim(body: str) -> None:
    snap = hostile_kinds_snapshot("f", body)
    parsed = _round_trip(snap)
    assert parsed.functions[next(iter(snap.functions))].body == body
    # the section and table parts of the doc resources are not fooled by heading-like lines
    sections = dict(service._doc_sections(render_doc(snap)))
    assert "Not a section" not in sections and "Functions" in sections
    assert body.split("\n")[0] in sections["Functions"]


# --------------------------------------------------------------------------------------------
# property-based: any snapshot of every kind renders and parses back exactly
# --------------------------------------------------------------------------------------------
_BODY = st.lists(
    st.one_of(
        _TEXT,
        st.sampled_from(["```", "````", "\n", "\r", "\r\n", "\u2028", "## x", "|", "<p>", "~~~"]),
    ),
    max_size=6,
).map("".join)


@st.composite
def _grant(draw: st.DrawFn, column: bool = False) -> Grant:
    privileges = draw(
        st.lists(st.sampled_from(PRIVILEGE_ORDER), min_size=1, max_size=4, unique=True)
    )
    privileges.sort(key=PRIVILEGE_ORDER.index)
    grantable = [p for p in privileges if draw(st.booleans())]
    return Grant(draw(_NAME), privileges, grantable, draw(st.none() | _NAME) if column else None)


def _opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def all_kinds_snapshots(draw: st.DrawFn) -> Snapshot:
    snap = draw(snapshots())
    grants = st.lists(_grant(), max_size=2)
    for _ in range(draw(st.integers(0, 2))):
        snap.add(
            Domain(
                draw(_NAME),
                draw(_NAME),
                draw(_NAME),
                draw(st.booleans()),
                draw(_opt(_TEXT)),
                draw(_opt(_TEXT)),
                draw(
                    st.lists(
                        st.builds(CheckConstraint, _TEXT, _opt(_NAME), st.booleans(), _opt(_TEXT)),
                        max_size=2,
                    )
                ),
                draw(_opt(_TEXT)),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        snap.add(
            Sequence(
                draw(_NAME),
                draw(_NAME),
                draw(_NAME),
                draw(st.integers()),
                draw(st.integers()),
                draw(_opt(st.integers())),
                draw(_opt(st.integers())),
                draw(st.booleans()),
                draw(st.integers(1, 10**6)),
                draw(_opt(_TEXT)),
                draw(_opt(_TEXT)),
                draw(grants),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        snap.add(
            CompositeType(
                draw(_NAME),
                draw(_NAME),
                draw(st.lists(st.builds(Attribute, _NAME, _NAME, _opt(_TEXT)), max_size=3)),
                draw(_opt(_TEXT)),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        snap.add(
            RangeType(draw(_NAME), draw(_NAME), draw(_NAME), *(draw(_opt(_TEXT)) for _ in range(6)))
        )
    for _ in range(draw(st.integers(0, 3))):
        snap.add(
            Function(
                draw(_NAME),
                draw(_NAME),
                draw(_TEXT),
                draw(st.sampled_from(["function", "procedure", "aggregate", "window"])),
                draw(_TEXT),
                draw(_opt(_TEXT)),
                draw(_NAME),
                draw(st.sampled_from(["immutable", "stable", "volatile"])),
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.sampled_from(["safe", "restricted", "unsafe"])),
                draw(st.booleans()),
                draw(st.lists(_TEXT, max_size=2)),
                draw(_BODY),
                draw(_opt(_TEXT)),
                draw(grants),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        snap.add(Extension(draw(_NAME), draw(_TEXT), draw(_NAME)))
    for _ in range(draw(st.integers(0, 2))):
        schema = draw(_NAME)
        if draw(st.booleans()):
            snap.schema_comments[schema] = draw(_TEXT)
        if draw(st.booleans()):
            snap.schema_privileges[schema] = draw(st.lists(_grant(), min_size=1, max_size=2))
    for enum in snap.enums.values():
        enum.comment = draw(_opt(_TEXT))
    domains = [domain_type_spelling(d.schema, d.name) for d in snap.domains.values()]
    keys = list(snap.tables)
    for table in snap.tables.values():
        if domains and table.columns and draw(st.booleans()):
            table.columns[0].type = draw(st.sampled_from(domains))
        if draw(st.booleans()):
            table.partition_key = draw(_TEXT)
        if keys and draw(st.booleans()):
            table.partition_of = draw(st.sampled_from(keys))
            table.partition_bound = draw(_opt(_TEXT))
        table.rls_enabled, table.rls_forced = draw(st.booleans()), draw(st.booleans())
        table.triggers = draw(
            st.lists(
                st.builds(
                    Trigger,
                    _NAME,
                    st.sampled_from(["BEFORE", "AFTER", "INSTEAD OF"]),
                    st.lists(_TEXT, max_size=3),
                    st.sampled_from(["ROW", "STATEMENT"]),
                    _NAME,
                    _opt(_TEXT),
                    st.sampled_from(["origin", "disabled", "replica", "always"]),
                    _opt(_TEXT),
                    _opt(_TEXT),
                ),
                max_size=2,
            )
        )
        table.policies = draw(
            st.lists(
                st.builds(
                    Policy,
                    _NAME,
                    st.sampled_from(["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"]),
                    st.booleans(),
                    st.lists(_NAME, max_size=2),
                    _opt(_TEXT),
                    _opt(_TEXT),
                    _opt(_TEXT),
                ),
                max_size=2,
            )
        )
        table.rules = draw(
            st.lists(
                st.builds(
                    Rule,
                    _NAME,
                    st.sampled_from(["SELECT", "INSERT", "UPDATE", "DELETE"]),
                    _NAME,
                    st.sampled_from(["origin", "disabled", "replica", "always"]),
                    _opt(_TEXT),
                ),
                max_size=2,
            )
        )
        table.privileges = draw(st.lists(_grant(column=True), max_size=3))
        for item in [
            table.primary_key,
            *table.indexes,
            *table.unique_constraints,
            *table.check_constraints,
            *table.foreign_keys,
        ]:
            if item is not None and draw(st.booleans()):
                item.comment = draw(_TEXT)
    return snap


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(all_kinds_snapshots())
def test_round_trip_property_every_kind(snap: Snapshot) -> None:
    text = render_doc(snap)
    parsed = parse_doc(text)
    assert parsed.structure() == snap.structure()
    assert doc_header_hash(text) == parsed.schema_hash()
    assert render_doc(parsed) == text
    assert snap.to_compact_json() == json.dumps(snap.to_dict())
    for signature, function in snap.functions.items():
        assert parsed.functions[signature].body == function.body


# --------------------------------------------------------------------------------------------
# a hand-edited doc with a malformed new section: one line naming the section and the line
# --------------------------------------------------------------------------------------------
def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


BROKEN = [
    # (what is replaced, by what, the line it is on, fragments of the message)
    (
        "| shop.invoice_no | integer | 1000 |",
        "| shop.invoice_no | integer | ten |",
        "the Sequences section",
        "whole number in the Start cell",
    ),
    ("- Base type: numeric(12,2)", "- Base: numeric(12,2)", "the Domains section", "property line"),
    ("#### Attributes", "#### Fields", "the Composite types section", "'#### Attributes'"),
    (
        "| shop.price_range | numeric |",
        "| shop.price_range |  |",
        "the Range types section",
        "subtype",
    ),
    ("### shop.total(numeric)", "### shop.total", "the Functions section", "function signature"),
    ("- Kind: aggregate", "- Kind: macro", "the Functions section", "one of function"),
    (
        "| shop | The shop's own objects | ak_reader: USAGE |",
        "| shop | The shop's own objects | ak_reader: usage |",
        "the Schemas section",
        "'grantee: PRIVILEGE ...'",
    ),
    (
        "| products_audit | AFTER |",
        "| products_audit | LATER |",
        "table shop.products",
        "Timing",
    ),
    (
        "| notes_insert | INSERT | restrictive |",
        "| notes_insert | INSERT | strict |",
        "table shop.notes",
        "permissive, restrictive",
    ),
    (
        "| cheap_products_delete | DELETE |",
        "| cheap_products_delete | DROP |",
        "table shop.cheap_products",
        "Event",
    ),
    (
        "| ak_writer | body | SELECT, UPDATE |",
        "| ak_writer | body | select |",
        "table shop.notes",
        "upper-case privileges",
    ),
    (
        "- Row-level security: enabled, forced",
        "- Row-level security: sometimes",
        "table shop.notes",
        "row-level security",
    ),
    (
        "- Partition of: shop.orders_2025 DEFAULT",
        "- Partition of: shop.(orders DEFAULT",
        "table shop.orders_2025_other",
        "Partition of",
    ),
]


@pytest.mark.parametrize("old,new,where,fragment", BROKEN)
def test_malformed_sections_name_the_section_and_line(
    old: str, new: str, where: str, fragment: str
) -> None:
    text = render_doc(all_kinds_snapshot())
    assert old in text
    broken = text.replace(old, new, 1)
    with pytest.raises(DocParseError) as info:
        parse_doc(broken)
    message = str(info.value)
    assert f"line {_line_of(text, old)}:" in message, message
    assert where in message and fragment in message, message
    assert "\n" not in message and "Traceback" not in message


def test_randomly_damaged_docs_fail_with_one_line_never_a_traceback() -> None:
    texts = [
        render_doc(all_kinds_snapshot()),
        render_doc(hostile_kinds_snapshot('a|"b', "```\n## x")),
    ]
    rng = random.Random(12)
    failures = 0
    for _ in range(600):
        lines = rng.choice(texts).split("\n")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            op = rng.randrange(4)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(i, lines[rng.randrange(len(lines))])
            elif lines[i]:
                j = rng.randrange(len(lines[i]))
                extra = rng.choice('|`*\\:-# ()",') if op == 2 else ""
                lines[i] = lines[i][:j] + extra + lines[i][j + 1 :]
        try:
            parse_doc("\n".join(lines))
        except DocParseError as exc:
            failures += 1
            assert "\n" not in exc.message and exc.message.startswith("schema doc line ")
    assert failures > 300, failures  # most damage is noticed; the rest changed only free text


def test_unclosed_function_body_names_its_opening_line() -> None:
    snap = all_kinds_snapshot()
    snap.schema_comments.clear()
    snap.schema_privileges.clear()
    text = render_doc(snap)
    cut = text[: text.index("SFUNC = shop.sum_step")] + "SFUNC = x\n"
    with pytest.raises(DocParseError) as info:
        parse_doc(cut)
    message = str(info.value)
    assert "closing ``` of the code block opened on line" in message
    assert "the Functions section" in message


def test_extension_section_errors() -> None:
    snap = example_snapshot()
    snap.add(Extension("pg_trgm", "1.6", "public"))
    text = render_doc(snap)
    broken = text.replace("| pg_trgm | 1.6 | public |", "| pg_trgm | 1.6 |")
    with pytest.raises(DocParseError, match=r"line \d+: expected 3 cells .* \(in the Extensions"):
        parse_doc(broken)


# --------------------------------------------------------------------------------------------
# the doc resources: every new section by name, any table or object by its heading
# --------------------------------------------------------------------------------------------
def test_doc_part_reaches_every_new_section(tmp_path) -> None:
    project = Project(root=tmp_path)
    project.doc_path.parent.mkdir(parents=True)
    snap = all_kinds_snapshot()
    snap.add(Extension("pg_trgm", "1.6", "public"))
    project.doc_path.write_text(render_doc(snap), encoding="utf-8")
    for section in (
        "Sequences",
        "Domains",
        "Composite types",
        "Range types",
        "Functions",
        "Extensions",
        "Schemas",
    ):
        for spelling in (section, section.lower().replace(" ", "-"), section.replace(" ", "%20")):
            part = service.doc_part(project, section=spelling)
            assert part.startswith(f"## {section}\n"), spelling
    functions = service.doc_part(project, section="functions")
    assert "BEGIN" in functions and "## Extensions" not in functions
    assert "#### Triggers" in service.doc_part(project, table="shop.products")
    assert "- Partition of: shop.orders" in service.doc_part(project, table="shop.orders_2026")
    assert "SFUNC" in service.doc_part(project, table="shop.total(numeric)")
    assert "#### Checks" in service.doc_part(project, table="shop.sku")


# --------------------------------------------------------------------------------------------
# the live all-kinds schema through the doc (whatever the live source reads of it)
# --------------------------------------------------------------------------------------------
def test_live_all_kinds_schema_round_trips_through_the_doc(db_url: str) -> None:
    corpus = REPO_ROOT / "tests" / "corpus" / "all_kinds.sql"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(corpus.read_text())
    live = from_database(db_url)
    assert "shop.orders" in live.tables
    parsed = _round_trip(live)
    for signature, function in live.functions.items():
        assert parsed.functions[signature].body == function.body
