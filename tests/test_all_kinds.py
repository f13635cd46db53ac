"""Every PostgreSQL object at once (issue 12): tests/corpus/all_kinds.sql through every source.

One schema that uses every kind — partitions with sub-partitions, RLS and policies, triggers
calling functions, domains over domains, composite and range types, sequences, an aggregate, a
procedure, rules, grants, comments — compares clean against itself through every pair of
sources (live ↔ live, live ↔ saved snapshot, live ↔ doc), and ``validate`` right after
``generate-docs`` notices each of the schema changes that used to pass unseen, naming it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from database_use import service
from database_use.compare.diff import diff
from database_use.project import Project
from database_use.render.doc import render_doc
from database_use.schema.snapshot import Snapshot
from database_use.sources.doc import parse_doc
from database_use.sources.live import from_database

ALL_KINDS = (Path(__file__).parent / "corpus" / "all_kinds.sql").read_text(encoding="utf-8")


def _load(url: str, sql: str = ALL_KINDS) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def kinds_url(db_url: str) -> str:
    _load(db_url)
    return db_url


def test_every_kind_is_read(kinds_url: str) -> None:
    snap = from_database(kinds_url)
    assert {"shop.sku", "shop.nonempty_text", "shop.price"} <= set(snap.domains)
    assert "shop.address" in snap.composite_types
    assert "shop.price_range" in snap.range_types
    assert "shop.invoice_no" in snap.sequences
    kinds = {f.kind for f in snap.functions.values()}
    assert {"function", "procedure", "aggregate"} <= kinds
    assert snap.table("shop.orders_2025_eu").partition_of == "shop.orders_2025"
    assert snap.table("shop.notes").rls_forced
    assert {t.name for t in snap.table("shop.products").triggers} == {"products_audit"}
    assert {p.name for p in snap.table("shop.notes").policies} == {"notes_own", "notes_insert"}
    assert {r.name for r in snap.table("shop.cheap_products").rules} == {"cheap_products_delete"}


def test_every_pair_of_sources_compares_clean(kinds_url: str, make_database) -> None:
    live = from_database(kinds_url)
    other_url = make_database("empty")
    _load(other_url)
    other = from_database(other_url)
    saved = Snapshot.from_json(live.to_json())
    doc = parse_doc(render_doc(live, schema_hash=live.schema_hash()))
    for name, snap in (("db2", other), ("json", saved), ("doc", doc)):
        assert snap.structure() == live.structure(), name
        assert [d.to_dict() for d in diff(live, snap)] == [], name
        assert [d.to_dict() for d in diff(snap, live)] == [], name


# (label, set-up before generate-docs, the change, what validate's message must name)
CHANGES = [
    (
        "add exclusion constraint",
        "",
        "ALTER TABLE shop.products ADD CONSTRAINT products_band_excl EXCLUDE USING gist (band WITH &&)",
        "exclusion constraint shop.products.products_band_excl",
    ),
    (
        "drop trigger",
        "",
        "DROP TRIGGER products_audit ON shop.products",
        "trigger shop.products.products_audit",
    ),
    (
        "add trigger",
        "",
        "CREATE TRIGGER audit_ins AFTER INSERT ON shop.audit "
        "FOR EACH ROW EXECUTE FUNCTION shop.log_row()",
        "trigger shop.audit.audit_ins",
    ),
    (
        "enable trigger",
        "",
        "ALTER TABLE shop.notes ENABLE TRIGGER notes_audit",
        "trigger shop.notes.notes_audit: enabled",
    ),
    (
        "enable RLS with a policy",
        "",
        "ALTER TABLE shop.audit ENABLE ROW LEVEL SECURITY; "
        "CREATE POLICY audit_read ON shop.audit FOR SELECT USING (true)",
        "rls enabled",
    ),
    (
        "change index operator class",
        "CREATE INDEX notes_body_idx ON shop.notes (body)",
        "DROP INDEX shop.notes_body_idx; "
        "CREATE INDEX notes_body_idx ON shop.notes (body text_pattern_ops)",
        "opclass",
    ),
    (
        "drop FK on a partition",
        "",
        "ALTER TABLE shop.orders_2026 DROP CONSTRAINT orders_2026_product_fk",
        "foreign key shop.orders_2026.orders_2026_product_fk",
    ),
    (
        "drop index on a partition",
        "",
        "DROP INDEX shop.orders_2026_state_idx",
        "index shop.orders_2026.orders_2026_state_idx",
    ),
    (
        "drop a domain CHECK",
        "",
        "ALTER DOMAIN shop.sku DROP CONSTRAINT sku_format",
        "domain check shop.sku.sku_format",
    ),
    (
        "replace a function body",
        "",
        "CREATE OR REPLACE FUNCTION shop.add_tax(amount integer) "
        "RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT amount + amount / 4'",
        "function shop.add_tax(amount integer): body differs",
    ),
    (
        "change a column collation",
        "",
        'ALTER TABLE shop.audit ALTER COLUMN what TYPE text COLLATE "C"',
        "column shop.audit.what: collation",
    ),
    (
        "re-add a check as NOT VALID",
        "ALTER TABLE shop.audit ADD CONSTRAINT what_nonempty CHECK (what <> '')",
        "ALTER TABLE shop.audit DROP CONSTRAINT what_nonempty; "
        "ALTER TABLE shop.audit ADD CONSTRAINT what_nonempty CHECK (what <> '') NOT VALID",
        "check constraint shop.audit.what_nonempty",
    ),
    (
        "UNIQUE NULLS NOT DISTINCT to plain",
        "ALTER TABLE shop.notes ADD CONSTRAINT notes_body_u UNIQUE NULLS NOT DISTINCT (body)",
        "ALTER TABLE shop.notes DROP CONSTRAINT notes_body_u; "
        "ALTER TABLE shop.notes ADD CONSTRAINT notes_body_u UNIQUE (body)",
        "unique constraint shop.notes.notes_body_u",
    ),
    (
        "change a sequence increment",
        "",
        "ALTER SEQUENCE shop.invoice_no INCREMENT BY 5",
        "sequence shop.invoice_no: increment",
    ),
    ("revoke a grant", "", "REVOKE SELECT ON shop.notes FROM ak_reader", "ak_reader"),
    (
        "comment on a trigger",
        "",
        "COMMENT ON TRIGGER products_audit ON shop.products IS 'changed'",
        "trigger shop.products.products_audit: comment",
    ),
    (
        "detach a partition",
        "",
        "ALTER TABLE shop.orders DETACH PARTITION shop.orders_2026",
        "table shop.orders_2026: partition",
    ),
    (
        "alter a policy",
        "",
        "ALTER POLICY notes_own ON shop.notes USING (true)",
        "policy shop.notes.notes_own: using",
    ),
    (
        "drop a rule",
        "",
        "DROP RULE cheap_products_delete ON shop.cheap_products",
        "rule shop.cheap_products.cheap_products_delete",
    ),
    (
        "add a composite attribute",
        "",
        "ALTER TYPE shop.address ADD ATTRIBUTE country text",
        "type attribute shop.address.country",
    ),
    (
        "change a domain default",
        "",
        "ALTER DOMAIN shop.price SET DEFAULT 1",
        "domain shop.price: default",
    ),
    (
        "add a partition",
        "",
        "CREATE TABLE shop.orders_2027 PARTITION OF shop.orders "
        "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
        "shop.orders_2027",
    ),
    ("comment on a schema", "", "COMMENT ON SCHEMA shop IS 'changed'", "schema shop"),
]


@pytest.mark.parametrize(("label", "setup", "sql", "named"), CHANGES, ids=[c[0] for c in CHANGES])
def test_validate_fails_on_every_kind_of_change(
    kinds_url: str, project: Path, label: str, setup: str, sql: str, named: str
) -> None:
    if setup:
        _load(kinds_url, setup)
    proj = Project(root=project, url_override=kinds_url)
    service.generate_docs(proj)
    assert service.validate(proj)["ok"], "validate right after generate-docs"
    _load(kinds_url, sql)
    result = service.validate(proj)
    assert not result["ok"], label
    assert result["differences"], f"{label}: validate must say what changed"
    assert named in result["message"], result["message"]
