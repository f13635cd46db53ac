"""The live source reads every object kind (issue 12), and introspect shows them compactly.

Real PostgreSQL: ``tests/corpus/all_kinds.sql`` is loaded into a throwaway database and each
kind's snapshot content is asserted exactly; an extension written into the test server's
share directory shows as an extension while its members stay out; the number of catalog
round trips does not grow with the number of objects; hostile names survive every kind; any
change to any kind changes the schema hash; the CLI and a real MCP client list kinds and show
one object in full.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import psycopg
import pytest
from mcp import Client

from database_use.cli import main as cli_main
from database_use.schema.snapshot import (
    Attribute,
    CheckConstraint,
    CompositeType,
    Domain,
    Grant,
    Policy,
    RangeType,
    Rule,
    Sequence,
    Snapshot,
    Trigger,
)
from database_use.sources.live import QUERIES, from_database, load_live
from mcp_server.server import build_server

ALL_KINDS = (Path(__file__).parent / "corpus" / "all_kinds.sql").read_text()


def run(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def kinds_url(db_url: str) -> str:
    run(db_url, ALL_KINDS)
    return db_url


@pytest.fixture
def snap(kinds_url: str) -> Snapshot:
    return from_database(kinds_url)


# -- each kind, exactly ------------------------------------------------------------------------
def test_partition_tree_bounds_and_what_is_declared_on_a_partition(snap: Snapshot) -> None:
    orders = snap.tables["shop.orders"]
    assert (orders.kind, orders.partition_key, orders.partition_of) == (
        "partitioned table",
        "RANGE (placed_at)",
        None,
    )
    tree = {
        t.qualified_name: (t.kind, t.partition_of, t.partition_bound, t.partition_key)
        for t in snap.tables.values()
        if t.is_partition
    }
    assert tree == {
        "shop.orders_2025": (
            "partitioned table",
            "shop.orders",
            "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
            "LIST (region)",
        ),
        "shop.orders_2025_eu": ("table", "shop.orders_2025", "FOR VALUES IN ('eu')", None),
        "shop.orders_2025_other": ("table", "shop.orders_2025", "DEFAULT", None),
        "shop.orders_2026": (
            "table",
            "shop.orders",
            "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            None,
        ),
    }
    assert [t.name for t in snap.partitions_of("shop.orders")] == ["orders_2025", "orders_2026"]
    p2026 = snap.tables["shop.orders_2026"]
    # its own columns; only what was declared on it (the parent's key is the parent's)
    assert [c.name for c in p2026.columns] == [c.name for c in orders.columns]
    assert p2026.primary_key is None
    assert [(f.name, f.columns, f.ref_table) for f in p2026.foreign_keys] == [
        ("orders_2026_product_fk", ["product_id"], "shop.products")
    ]
    assert [(i.name, i.columns, i.comment) for i in p2026.indexes] == [
        ("orders_2026_state_idx", ["state"], "Open orders of 2026")
    ]
    assert snap.tables["shop.orders_2025_eu"].indexes == []


def test_what_a_parent_declares_stays_on_the_parent(kinds_url: str) -> None:
    # row triggers, checks and keys of a partitioned table are cloned onto every partition,
    # and a foreign key to it onto the referencing side once per partition: all described
    # once, where they were declared
    run(
        kinds_url,
        """
        CREATE TRIGGER orders_audit AFTER INSERT ON shop.orders
            FOR EACH ROW EXECUTE FUNCTION shop.log_row();
        ALTER TABLE shop.orders ADD CONSTRAINT orders_product_positive CHECK (product_id > 0);
        CREATE TABLE shop.order_refs (
            order_id bigint, placed_at date, region text,
            CONSTRAINT order_refs_order_fk FOREIGN KEY (order_id, placed_at, region)
                REFERENCES shop.orders
        );
        """,
    )
    snap = from_database(kinds_url)
    with_trigger = sorted(k for k, t in snap.tables.items() if t.triggers and k != "shop.notes")
    assert with_trigger == ["shop.orders", "shop.products"]
    with_check = sorted(k for k, t in snap.tables.items() if t.check_constraints)
    assert with_check == ["shop.orders"]
    refs = snap.tables["shop.order_refs"]
    assert [(f.name, f.ref_table) for f in refs.foreign_keys] == [
        ("order_refs_order_fk", "shop.orders")
    ]


def test_domains_over_domains_with_checks(snap: Snapshot) -> None:
    assert snap.domains == {
        "shop.nonempty_text": Domain(
            schema="shop",
            name="nonempty_text",
            base_type="text",
            nullable=False,
            checks=[CheckConstraint(expression="value <> ''", name="nonempty")],
        ),
        "shop.sku": Domain(
            schema="shop",
            name="sku",
            base_type="shop.nonempty_text",  # a domain over a domain names it
            checks=[CheckConstraint(expression="value ~ '^[A-Z]{3}-[0-9]+$'", name="sku_format")],
        ),
        "shop.price": Domain(
            schema="shop",
            name="price",
            base_type="numeric(12,2)",
            default="0",
            checks=[CheckConstraint(expression="value >= 0", name="price_check")],
            comment="Money, never negative",
        ),
    }


def test_composite_and_range_types_and_enum(snap: Snapshot) -> None:
    assert snap.composite_types == {
        "shop.address": CompositeType(
            schema="shop",
            name="address",
            attributes=[
                Attribute("street", "text"),
                Attribute("city", "text", collation="C"),
                Attribute("zip", "character varying(10)"),
            ],
            comment="A postal address",
        )
    }  # the tables' own row types are not composite types here
    assert snap.range_types == {
        "shop.price_range": RangeType(
            schema="shop",
            name="price_range",
            subtype="numeric",
            multirange="shop.price_multirange",
        )
    }
    assert snap.enums["shop.order_state"].labels == ["new", "paid", "shipped"]


def test_sequences_free_and_serial_identity_left_out(snap: Snapshot) -> None:
    assert snap.sequences == {
        "shop.invoice_no": Sequence(
            schema="shop",
            name="invoice_no",
            data_type="integer",
            start=1000,
            increment=10,
            min_value=1000,
            max_value=999999,
            cycle=True,
            cache=5,
            comment="Invoice numbers",
            privileges=[Grant("ak_writer", ["USAGE"])],
        ),
        "shop.products_id_seq": Sequence(
            schema="shop", name="products_id_seq", data_type="integer", owned_by="shop.products.id"
        ),
        "shop.audit_id_seq": Sequence(
            schema="shop", name="audit_id_seq", data_type="bigint", owned_by="shop.audit.id"
        ),
    }  # orders.id is an identity column: its sequence is not listed


def test_functions_procedures_aggregates_keyed_by_signature(snap: Snapshot) -> None:
    assert sorted(snap.functions) == [
        "shop.add_tax(amount integer)",
        "shop.add_tax(amount numeric, rate numeric)",
        "shop.log_row()",
        "shop.purge_audit(IN keep_days integer)",
        "shop.sum_step(state numeric, value numeric)",
        "shop.total(numeric)",
    ]  # a range type's own constructors are PostgreSQL's, not listed
    f = snap.functions
    standard = f["shop.add_tax(amount numeric, rate numeric)"]
    assert (standard.arguments, standard.returns, standard.body) == (
        "amount numeric, rate numeric DEFAULT 0.2",
        "numeric",
        "RETURN (amount * ((1)::numeric + rate))",  # the SQL-standard body
    )
    assert (standard.volatility, standard.strict, standard.parallel) == ("immutable", True, "safe")
    assert standard.privileges == [Grant("PUBLIC", ["EXECUTE"])]  # the built-in default
    overload = f["shop.add_tax(amount integer)"]
    assert overload.body == "SELECT amount + amount / 5"
    assert overload.privileges == [Grant("ak_reader", ["EXECUTE"])]  # PUBLIC revoked
    log_row = f["shop.log_row()"]
    assert (log_row.language, log_row.security_definer, log_row.config, log_row.comment) == (
        "plpgsql",
        True,
        ["search_path=pg_catalog"],
        "Writes one audit row",
    )
    assert "INSERT INTO shop.audit" in log_row.body and log_row.returns == "trigger"
    purge = f["shop.purge_audit(IN keep_days integer)"]
    assert (purge.kind, purge.returns) == ("procedure", None)
    total = f["shop.total(numeric)"]
    assert (total.kind, total.returns, total.body) == (
        "aggregate",
        "numeric",
        "SFUNC = shop.sum_step, STYPE = numeric, INITCOND = '0'",
    )


def test_triggers_policies_rules_and_rls(snap: Snapshot) -> None:
    assert snap.tables["shop.products"].triggers == [
        Trigger(
            name="products_audit",
            timing="AFTER",
            events=["INSERT", "UPDATE OF price", "DELETE"],
            level="ROW",
            function="shop.log_row()",
            when="pg_trigger_depth() = 0",
            comment="Every price change",
        )
    ]
    notes = snap.tables["shop.notes"]
    assert notes.triggers == [
        Trigger(
            name="notes_audit",
            timing="BEFORE",
            events=["INSERT"],
            level="STATEMENT",
            function="shop.log_row()",
            enabled="disabled",
        )
    ]
    assert (notes.rls_enabled, notes.rls_forced) == (True, True)
    assert notes.policies == [
        Policy(
            name="notes_insert",
            command="INSERT",
            permissive=False,
            with_check="owner_name = CURRENT_USER",
        ),
        Policy(
            name="notes_own",
            command="SELECT",
            roles=["ak_reader"],
            using="owner_name = CURRENT_USER",
            comment="Readers see their own notes",
        ),
    ]
    assert snap.tables["shop.cheap_products"].rules == [
        Rule(
            name="cheap_products_delete",
            event="DELETE",
            definition="CREATE RULE cheap_products_delete AS ON DELETE TO shop.cheap_products "
            "DO INSTEAD DELETE FROM shop.products WHERE products.id = old.id",
        )
    ]  # not the view's own _RETURN rule
    assert not snap.tables["shop.products"].rls_enabled


def test_grants_column_grants_schema_grants_and_comments(snap: Snapshot) -> None:
    assert snap.tables["shop.notes"].privileges == [
        Grant("ak_reader", ["SELECT"]),
        Grant("ak_writer", ["SELECT", "UPDATE"], column="body"),
        Grant("ak_writer", ["SELECT"], column="id"),
    ]
    assert snap.tables["shop.products"].privileges == [
        Grant("ak_reader", ["SELECT"]),
        Grant("ak_writer", ["SELECT", "INSERT"], grantable=["SELECT", "INSERT"]),
    ]
    assert snap.schema_privileges == {"shop": [Grant("ak_reader", ["USAGE"])]}
    assert snap.schema_comments == {"shop": "The shop's own objects"}  # not initdb's on public
    products = snap.tables["shop.products"]
    assert [(u.name, u.comment) for u in products.unique_constraints] == [
        ("products_sku_key", "One row per SKU")
    ]
    counts = snap.tables["shop.order_counts"]
    assert (counts.kind, counts.comment) == ("materialized view", "Orders per region")
    assert [(i.name, i.unique, i.columns) for i in counts.indexes] == [
        ("order_counts_region", True, ["region"])
    ]
    assert [x.definition for x in snap.tables["shop.bookings"].exclusion_constraints] == [
        "EXCLUDE USING gist (during WITH &&)"
    ]
    assert snap.extensions == {}  # plpgsql lives in pg_catalog: left out


def test_snapshot_round_trips_through_json(snap: Snapshot) -> None:
    again = Snapshot.from_json(snap.to_json())
    assert again.schema_hash() == snap.schema_hash()
    assert asdict(again.functions["shop.total(numeric)"]) == asdict(
        snap.functions["shop.total(numeric)"]
    )


def test_a_fresh_database_has_none_of_the_new_kinds(db_url: str) -> None:
    snap = from_database(db_url)
    data = snap.to_dict()
    for attr in ("sequences", "functions", "extensions", "schema_comments", "schema_privileges"):
        assert attr not in data, attr  # so the hash of an untouched database did not change


# -- an extension's members stay out -------------------------------------------------------------
def _sharedir(url: str) -> Path:
    # the server's own pg_config (the SQL view of `pg_config --sharedir` beside its binaries)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'").fetchone()
    return Path(row[0])


def test_an_extension_is_listed_and_its_objects_are_not(kinds_url: str) -> None:
    extension_dir = _sharedir(kinds_url) / "extension"
    control = extension_dir / "dbu_kinds_probe.control"
    script = extension_dir / "dbu_kinds_probe--1.0.sql"
    control.write_text(
        "comment = 'database-use test'\ndefault_version = '1.0'\nrelocatable = true\n"
    )
    script.write_text(
        "CREATE FUNCTION probe_fn(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';\n"
        "CREATE TABLE probe_table (id integer PRIMARY KEY, v text);\n"
        "CREATE TYPE probe_enum AS ENUM ('a', 'b');\n"
        "CREATE TYPE probe_pair AS (a integer, b integer);\n"
        "CREATE DOMAIN probe_domain AS integer CHECK (VALUE > 0);\n"
        "CREATE SEQUENCE probe_seq;\n"
    )
    try:
        before = from_database(kinds_url)
        run(kinds_url, "CREATE EXTENSION dbu_kinds_probe SCHEMA shop")
        after = from_database(kinds_url)
    finally:
        control.unlink()
        script.unlink()
    assert after.extensions == {"dbu_kinds_probe": after.extensions["dbu_kinds_probe"]} and asdict(
        after.extensions["dbu_kinds_probe"]
    ) == {
        "name": "dbu_kinds_probe",
        "version": "1.0",
        "schema": "shop",
    }
    after.extensions.clear()
    assert after.to_dict(stats=False) == before.to_dict(stats=False)  # nothing else appeared


# -- round trips stay constant --------------------------------------------------------------------
def _many(n: int) -> str:
    parts = ["CREATE SCHEMA k; CREATE ROLE k_reader_%(tag)s NOLOGIN;"]
    parts.append(
        "CREATE TABLE k.parent (id int, d date) PARTITION BY RANGE (d);"
        "CREATE FUNCTION k.trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
    )
    for i in range(n):
        parts.append(
            f"CREATE DOMAIN k.d{i} AS int CHECK (VALUE > {i});"
            f"CREATE TYPE k.c{i} AS (a int, b text);"
            f"CREATE TYPE k.r{i} AS RANGE (subtype = int8);"
            f"CREATE TYPE k.e{i} AS ENUM ('x');"
            f"CREATE SEQUENCE k.s{i};"
            f"CREATE TABLE k.t{i} (id int PRIMARY KEY, v text);"
            f"CREATE TABLE k.p{i} PARTITION OF k.parent "
            f"FOR VALUES FROM ('{2000 + i}-01-01') TO ('{2001 + i}-01-01');"
            f"CREATE FUNCTION k.f{i}(int) RETURNS int LANGUAGE sql AS 'SELECT $1';"
            f"CREATE TRIGGER tr{i} BEFORE INSERT ON k.t{i} FOR EACH ROW EXECUTE FUNCTION k.trg();"
            f"ALTER TABLE k.t{i} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY po{i} ON k.t{i} USING (id > 0);"
            f"CREATE VIEW k.v{i} AS SELECT id FROM k.t{i};"
            f"CREATE RULE ru{i} AS ON DELETE TO k.v{i} DO INSTEAD NOTHING;"
            f"GRANT SELECT (v) ON k.t{i} TO k_reader_%(tag)s;"
            f"COMMENT ON TRIGGER tr{i} ON k.t{i} IS 'c';"
        )
    return "".join(parts)


class CountingCursor(psycopg.Cursor):
    executes = 0

    def execute(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        CountingCursor.executes += 1
        return super().execute(*args, **kwargs)


def _round_trips(url: str) -> tuple[int, Snapshot]:
    CountingCursor.executes = 0
    with psycopg.connect(url, cursor_factory=CountingCursor) as conn:
        snap = load_live(conn)
    return CountingCursor.executes, snap


def test_round_trips_do_not_grow_with_the_number_of_objects(make_database, pg_server) -> None:  # noqa: ANN001
    one, thirty = make_database("empty"), make_database("empty")
    tags = []
    for url, n in ((one, 1), (thirty, 30)):
        tag = url.rsplit("/", 1)[1].replace("-", "_")[-20:]
        tags.append(tag)
        run(url, _many(n) % {"tag": tag})
    try:
        small, small_snap = _round_trips(one)
        large, large_snap = _round_trips(thirty)
    finally:
        for url, tag in zip((one, thirty), tags, strict=True):
            run(url, f"DROP OWNED BY k_reader_{tag}; DROP ROLE k_reader_{tag}")
    assert small == large == 1 + len(QUERIES)
    for snap, n in ((small_snap, 1), (large_snap, 30)):  # and everything was read
        assert len(snap.domains) == len(snap.composite_types) == len(snap.range_types) == n
        assert len(snap.sequences) == len(snap.enums) == n
        assert len(snap.functions) == n + 1
        assert len(snap.partitions_of("k.parent")) == n
        assert (
            sum(len(t.triggers) + len(t.policies) + len(t.rules) for t in snap.tables.values())
            == 3 * n
        )


# -- hostile identifiers, every kind ---------------------------------------------------------------
HOSTILE = 'we"ird | `x` $y *m* ü\nz'


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def test_hostile_identifiers_in_every_kind(
    db_url: str, monkeypatch: pytest.MonkeyPatch, project: Path, capsys
) -> None:  # noqa: ANN001
    s = _q("sch " + HOSTILE)
    n = _q
    h = HOSTILE
    role = "role " + h + db_url.rsplit("/", 1)[1]  # roles are cluster-wide: one per database
    run(db_url, f"CREATE ROLE {n(role)} NOLOGIN")
    try:
        _hostile_kinds(db_url, s, n, h, role, monkeypatch, project, capsys)
    finally:
        run(db_url, f"DROP OWNED BY {n(role)}; DROP ROLE {n(role)}")


def _hostile_kinds(db_url, s, n, h, role, monkeypatch, project, capsys) -> None:  # noqa: ANN001
    run(
        db_url,
        f"""
        CREATE SCHEMA {s};
        COMMENT ON SCHEMA {s} IS 'a | b';
        CREATE DOMAIN {s}.{n("dom " + h)} AS text CONSTRAINT {n("chk " + h)} CHECK (VALUE <> '|');
        CREATE TYPE {s}.{n("comp " + h)} AS ({n("att " + h)} integer);
        CREATE TYPE {s}.{n("rng " + h)} AS RANGE (subtype = integer);
        CREATE TYPE {s}.{n("enum " + h)} AS ENUM ('a|b', 'c`d');
        CREATE SEQUENCE {s}.{n("seq " + h)};
        CREATE TABLE {s}.{n("tab " + h)} ({n("col " + h)} integer, d date)
            PARTITION BY RANGE (d);
        CREATE TABLE {s}.{n("part " + h)} PARTITION OF {s}.{n("tab " + h)}
            FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
        CREATE FUNCTION {s}.{n("fn " + h)}({n("arg " + h)} integer) RETURNS integer
            LANGUAGE sql AS 'SELECT 1';
        CREATE FUNCTION {s}.{n("fn " + h)}() RETURNS trigger
            LANGUAGE plpgsql AS $b$BEGIN RETURN NEW; END$b$;
        CREATE TRIGGER {n("trg ON x FOR EACH ROW " + h)}
            BEFORE UPDATE OF {n("col " + h)} ON {s}.{n("part " + h)}
            FOR EACH ROW WHEN (OLD.{n("col " + h)} IS DISTINCT FROM NEW.{n("col " + h)})
            EXECUTE FUNCTION {s}.{n("fn " + h)}('it''s | ) EXECUTE x');
        ALTER TABLE {s}.{n("part " + h)} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY {n("pol " + h)} ON {s}.{n("part " + h)} USING ({n("col " + h)} > 0);
        CREATE VIEW {s}.{n("view " + h)} AS SELECT 1 AS one;
        CREATE RULE {n("rule " + h)} AS ON DELETE TO {s}.{n("view " + h)} DO INSTEAD NOTHING;
        COMMENT ON TRIGGER {n("trg ON x FOR EACH ROW " + h)} ON {s}.{n("part " + h)} IS 'c|`';
        GRANT USAGE ON SCHEMA {s} TO {n(role)};
        GRANT SELECT ({n("col " + h)}) ON {s}.{n("tab " + h)} TO {n(role)};
        GRANT USAGE ON SEQUENCE {s}.{n("seq " + h)} TO {n(role)};
        """,
    )
    snap = from_database(db_url)
    schema = "sch " + h
    assert snap.schema_comments == {schema: "a | b"}
    dom = snap.domains[f"{schema}.dom {h}"]
    assert [(c.name, c.expression) for c in dom.checks] == [(f"chk {h}", "value <> '|'")]
    assert [a.name for a in snap.composite_types[f"{schema}.comp {h}"].attributes] == [f"att {h}"]
    assert f"{schema}.rng {h}" in snap.range_types
    assert snap.enums[f"{schema}.enum {h}"].labels == ["a|b", "c`d"]
    assert f"{schema}.seq {h}" in snap.sequences
    part = snap.tables[f"{schema}.part {h}"]
    assert part.partition_of == f"{schema}.tab {h}"
    assert set(snap.functions) == {
        f"{schema}.fn {h}()",
        f"{schema}.fn {h}({_q('arg ' + h)} integer)",  # the overload, by its signature
    }
    (trigger,) = part.triggers
    assert trigger.name == "trg ON x FOR EACH ROW " + h
    assert trigger.events == [f"UPDATE OF col {h}"]
    assert trigger.when is not None and "IS DISTINCT FROM" in trigger.when
    assert trigger.function.endswith("('it''s | ) EXECUTE x')")
    assert trigger.extra is None and trigger.comment == "c|`"
    assert [p.name for p in part.policies] == [f"pol {h}"]
    assert [r.name for r in snap.tables[f"{schema}.view {h}"].rules] == [f"rule {h}"]
    assert snap.schema_privileges == {schema: [Grant(role, ["USAGE"])]}
    assert snap.tables[f"{schema}.tab {h}"].privileges == [
        Grant(role, ["SELECT"], column=f"col {h}")
    ]
    assert snap.sequences[f"{schema}.seq {h}"].privileges == [Grant(role, ["USAGE"])]
    # the terminal view escapes the newline: one line per object
    monkeypatch.setenv("DATABASE_URL", db_url)
    code, out, _ = _cli(capsys, "--project-root", str(project), "introspect", "--kind", "triggers")
    assert code == 0 and "\\n" in out
    assert [line for line in out.splitlines() if "trg ON x" in line] == [
        line for line in out.splitlines() if line.startswith(schema.split("\n")[0])
    ]
    lines = out.strip().splitlines()
    assert lines[0].startswith("tier T")  # the safety tier heads every introspect answer
    assert len(lines) == 6  # tier, head, blank, the trigger, blank, note


# -- any change to any kind changes the schema hash ------------------------------------------------
CHANGES = {
    "drop trigger": ("", "DROP TRIGGER products_audit ON shop.products"),
    "disable trigger": ("", "ALTER TABLE shop.products DISABLE TRIGGER products_audit"),
    "enable RLS": ("", "ALTER TABLE shop.bookings ENABLE ROW LEVEL SECURITY"),
    "no force RLS": ("", "ALTER TABLE shop.notes NO FORCE ROW LEVEL SECURITY"),
    "alter policy": ("", "ALTER POLICY notes_own ON shop.notes USING (true)"),
    "function body": (
        "",
        "CREATE OR REPLACE FUNCTION shop.add_tax(amount integer) RETURNS integer "
        "LANGUAGE sql IMMUTABLE AS 'SELECT amount + amount / 4'",
    ),
    "function setting": ("", "ALTER FUNCTION shop.log_row() SET search_path = public"),
    "sequence increment": ("", "ALTER SEQUENCE shop.invoice_no INCREMENT BY 20"),
    "drop domain check": ("", "ALTER DOMAIN shop.sku DROP CONSTRAINT sku_format"),
    "index opclass": (
        "",
        "DROP INDEX shop.order_counts_region; "
        "CREATE UNIQUE INDEX order_counts_region ON shop.order_counts (region text_pattern_ops)",
    ),
    "drop FK on a partition": (
        "",
        "ALTER TABLE shop.orders_2026 DROP CONSTRAINT orders_2026_product_fk",
    ),
    "drop index on a partition": ("", "DROP INDEX shop.orders_2026_state_idx"),
    "detach partition": ("", "ALTER TABLE shop.orders DETACH PARTITION shop.orders_2026"),
    "add exclusion constraint": (
        "",
        "ALTER TABLE shop.bookings ADD CONSTRAINT bookings_pos "
        "EXCLUDE USING gist (during WITH &&) WHERE (id > 0)",
    ),
    "column collation": (
        "",
        'ALTER TABLE shop.notes ALTER COLUMN body TYPE text COLLATE "POSIX"',
    ),
    "check re-added NOT VALID": (
        "ALTER TABLE shop.audit ADD CONSTRAINT what_len CHECK (length(what) < 100)",
        "ALTER TABLE shop.audit DROP CONSTRAINT what_len, "
        "ADD CONSTRAINT what_len CHECK (length(what) < 100) NOT VALID",
    ),
    "unique nulls not distinct to plain": (
        "ALTER TABLE shop.bookings ADD CONSTRAINT bookings_u UNIQUE NULLS NOT DISTINCT (during)",
        "ALTER TABLE shop.bookings DROP CONSTRAINT bookings_u, "
        "ADD CONSTRAINT bookings_u UNIQUE (during)",
    ),
    "grant": ("", "GRANT INSERT ON shop.notes TO ak_writer"),
    "revoke": ("", "REVOKE SELECT ON shop.audit FROM ak_reader"),
    "revoke a column grant": ("", "REVOKE UPDATE (body) ON shop.notes FROM ak_writer"),
    "grant on a schema": ("", "GRANT CREATE ON SCHEMA shop TO ak_writer"),
    "grant on a function": ("", "GRANT EXECUTE ON FUNCTION shop.log_row() TO ak_writer"),
    "comment on a trigger": ("", "COMMENT ON TRIGGER notes_audit ON shop.notes IS 'x'"),
    "comment on a schema": ("", "COMMENT ON SCHEMA shop IS 'other'"),
    "comment on a constraint": (
        "",
        "COMMENT ON CONSTRAINT products_sku_key ON shop.products IS 'other'",
    ),
    "rename a rule": (
        "",
        "ALTER RULE cheap_products_delete ON shop.cheap_products RENAME TO cheap_delete",
    ),
    "composite attribute": ("", "ALTER TYPE shop.address ADD ATTRIBUTE country text"),
    "domain not null": ("", "ALTER DOMAIN shop.price SET NOT NULL"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_to_any_kind_changes_the_schema_hash(db_url: str, change: str) -> None:
    setup, statement = CHANGES[change]
    run(db_url, ALL_KINDS + (setup and f";{setup}"))
    before = from_database(db_url)
    run(db_url, statement)
    after = from_database(db_url)
    assert after.schema_hash() != before.schema_hash(), change
    assert from_database(db_url).schema_hash() == after.schema_hash()  # and it is stable


# -- introspect: overview counts, one kind, one object (CLI and MCP) --------------------------------
@pytest.fixture
def kinds_project(project: Path, kinds_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", kinds_url)
    return project


def _cli(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_overview_counts_kinds_and_objects(kinds_project: Path, capsys) -> None:  # noqa: ANN001
    root = ["--project-root", str(kinds_project)]
    code, out, _ = _cli(capsys, *root, "introspect")
    assert code == 0
    assert (
        "Partitions: 4 · Domains: 3 · Composite types: 1 · Range types: 1 · Sequences: 3 · "
        "Functions: 6 · Triggers: 2 · Policies: 2 · Rules: 1"
    ) in out
    assert "shop.orders_2025" not in out  # partitions are counted on their parent's line
    assert "partitioned RANGE (placed_at), 2 partitions (4 in the tree)" in out

    code, out, _ = _cli(capsys, "--format", "json", *root, "introspect")
    data = json.loads(out)
    assert data["table_count"] == 7 and data["counts"]["partitions"] == 4
    assert "shop.orders_2025" not in [t["name"] for t in data["tables"]]

    code, out, _ = _cli(capsys, *root, "introspect", "--kind", "functions", "--pattern", "add_*")
    assert code == 0
    assert "shop.add_tax(amount integer)" in out and "shop.log_row()" not in out
    code, out, _ = _cli(capsys, "--format", "json", *root, "introspect", "--kind", "triggers")
    listing = json.loads(out)
    assert [o["name"] for o in listing["objects"]] == [
        "shop.notes.notes_audit",
        "shop.products.products_audit",
    ]
    assert "[disabled]" in listing["objects"][0]["summary"]

    code, out, _ = _cli(capsys, *root, "introspect", "--object", "shop.add_tax(integer)")
    assert code == 0
    assert "function shop.add_tax(amount integer)" in out and "SELECT amount + amount / 5" in out
    assert "ak_reader: EXECUTE" in out

    code, out, _ = _cli(capsys, *root, "introspect", "--table", "shop.notes")
    assert "row-level security: enabled, forced" in out
    assert (
        "notes_insert: restrictive INSERT TO PUBLIC WITH CHECK (owner_name = CURRENT_USER)" in out
    )
    assert "notes_audit: BEFORE INSERT FOR EACH STATEMENT EXECUTE shop.log_row() [disabled]" in out
    assert "ak_writer: SELECT, UPDATE (column body)" in out

    code, out, err = _cli(capsys, *root, "introspect", "--object", "shop.add_tax")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert (
        "shop.add_tax(amount integer)" in err
        and "shop.add_tax(amount numeric, rate numeric)" in err
    )
    code, out, err = _cli(capsys, *root, "introspect", "--table", "invoice_no")
    assert code == 2 and "'invoice_no' is a sequence, not a table" in err
    assert "shop.invoice_no (CLI --object, MCP object=)" in err
    code, out, err = _cli(capsys, *root, "introspect", "--kind", "gadgets")
    assert code == 2 and "unknown kind 'gadgets'" in err and "functions" in err


@pytest.mark.anyio
async def test_mcp_introspect_kinds_and_objects(kinds_project: Path, kinds_url: str) -> None:
    server = build_server(kinds_project, database_url=kinds_url)
    async with Client(server) as client:
        overview = (await client.call_tool("introspect", {})).structured_content
        assert overview["counts"] == {
            "partitions": 4,
            "domains": 3,
            "composite_types": 1,
            "range_types": 1,
            "sequences": 3,
            "functions": 6,
            "triggers": 2,
            "policies": 2,
            "rules": 1,
        }
        listing = (await client.call_tool("introspect", {"kind": "sequences"})).structured_content
        assert [o["name"] for o in listing["objects"]] == [
            "shop.audit_id_seq",
            "shop.invoice_no",
            "shop.products_id_seq",
        ]
        one = (
            await client.call_tool("introspect", {"object": "shop.total(numeric)"})
        ).structured_content
        assert one["kind"] == "function" and one["object"]["kind"] == "aggregate"
        assert one["object"]["body"] == "SFUNC = shop.sum_step, STYPE = numeric, INITCOND = '0'"
        table = (await client.call_tool("introspect", {"object": "orders"})).structured_content
        assert [p["name"] for p in table["partitions"]] == ["shop.orders_2025", "shop.orders_2026"]
        assert table["table"]["partition_key"] == "RANGE (placed_at)"
        bad = await client.call_tool("introspect", {"object": "no_such_thing"})
        assert bad.is_error and "not found" in bad.content[0].text
