"""Pure tier: SQL generation (quoting, types, defaults) and the risk rules, on in-memory snapshots."""

from __future__ import annotations

import pytest

from database_use.changes.plan import normalize_request, plan_change, verify_expected
from database_use.changes.risk import assess
from database_use.changes.sqlgen import parse_default, parse_type, quote_ident
from database_use.errors import InvalidRequest, NotFound
from database_use.schema.snapshot import Column, EnumType, Index, PrimaryKey, Snapshot, Table

PG16 = 160002


def snapshot() -> Snapshot:
    snap = Snapshot(source="db", server_version="16.2")
    snap.add_enum(EnumType("public", "state", ["a", "b"]))
    snap.add_table(
        Table(
            schema="public",
            name="t",
            estimated_rows=1000,
            size_bytes=65536,
            columns=[
                Column("id", "bigint", nullable=False, identity="by default", position=1),
                Column("name", "character varying(50)", position=2),
                Column("notes", "text", position=3),
                Column("price", "numeric(10,2)", position=4),
                Column("state", "state", position=5),
                Column("born", "timestamp without time zone", position=6),
                Column("w", "integer", default="0", position=7),
            ],
            primary_key=PrimaryKey(["id"], "pk_t"),
            indexes=[Index(["name"], "ix_t_name")],
        )
    )
    snap.add_table(Table(schema="public", name="v", kind="view", columns=[Column("x", "integer")]))
    return snap


def codes(
    action: str, column: str, version: int = PG16, has_rows: bool | None = True, **kw
) -> set[str]:
    request = normalize_request("t", action, column, **kw)
    plan = plan_change(snapshot(), request, version, has_rows)
    return {f.code for f in assess(plan.risk_context)}


def sql(action: str, column: str, **kw) -> list[str]:
    return plan_change(
        snapshot(), normalize_request("t", action, column, **kw), PG16, True
    ).statements


# -- each rule fires on its case and stays quiet on a safe one ------------------------------------
@pytest.mark.parametrize(
    ("action", "column", "kwargs", "version", "has_rows", "code", "fires"),
    [
        (
            "add",
            "c",
            {"type": "uuid", "default": "gen_random_uuid()"},
            PG16,
            True,
            "add_column_volatile_default",
            True,
        ),
        (
            "add",
            "c",
            {"type": "timestamptz", "default": "now()"},
            PG16,
            True,
            "add_column_volatile_default",
            False,
        ),
        (
            "add",
            "c",
            {"type": "integer", "default": "5"},
            100000,
            True,
            "add_column_default_rewrite",
            True,
        ),
        (
            "add",
            "c",
            {"type": "integer", "default": "5"},
            PG16,
            True,
            "add_column_default_rewrite",
            False,
        ),
        (
            "add",
            "c",
            {"type": "integer", "nullable": False},
            PG16,
            True,
            "add_column_not_null_without_default",
            True,
        ),
        (
            "add",
            "c",
            {"type": "integer", "nullable": False},
            PG16,
            False,
            "add_column_not_null_without_default",
            False,
        ),
        (
            "add",
            "c",
            {"type": "integer", "nullable": False, "default": "0"},
            PG16,
            True,
            "add_column_not_null_without_default",
            False,
        ),
        ("set_not_null", "notes", {}, PG16, True, "set_not_null_full_scan", True),
        ("drop_not_null", "id", {}, PG16, True, "set_not_null_full_scan", False),
        ("alter_type", "notes", {"type": "integer"}, PG16, True, "alter_type_rewrite", True),
        ("alter_type", "name", {"type": "varchar(100)"}, PG16, True, "alter_type_rewrite", False),
        ("alter_type", "name", {"type": "text"}, PG16, True, "alter_type_rewrite", False),
        ("alter_type", "notes", {"type": "varchar"}, PG16, True, "alter_type_rewrite", False),
        ("alter_type", "price", {"type": "numeric(12,2)"}, PG16, True, "alter_type_rewrite", False),
        ("alter_type", "price", {"type": "numeric(12,3)"}, PG16, True, "alter_type_rewrite", True),
        ("alter_type", "name", {"type": "varchar(10)"}, PG16, True, "alter_type_shrink", True),
        ("alter_type", "name", {"type": "varchar(60)"}, PG16, True, "alter_type_shrink", False),
        ("rename", "notes", {"new_name": "remarks"}, PG16, True, "rename_column_breaks_code", True),
        (
            "set_comment",
            "notes",
            {"comment": "free text"},
            PG16,
            True,
            "rename_column_breaks_code",
            False,
        ),
        ("drop", "notes", {}, PG16, True, "drop_column_data_loss", True),
        ("drop_default", "w", {}, PG16, True, "drop_column_data_loss", False),
        ("drop", "name", {}, PG16, True, "drop_column_dependents", True),
        ("drop", "notes", {}, PG16, True, "drop_column_dependents", False),
        ("add", "c", {"type": "json"}, PG16, True, "json_instead_of_jsonb", True),
        ("add", "c", {"type": "jsonb"}, PG16, True, "json_instead_of_jsonb", False),
        ("alter_type", "id", {"type": "integer"}, PG16, True, "primary_key_column", True),
        ("alter_type", "w", {"type": "bigint"}, PG16, True, "primary_key_column", False),
    ],
)
def test_rule(action, column, kwargs, version, has_rows, code, fires) -> None:
    assert (code in codes(action, column, version, has_rows, **kwargs)) is fires


def test_safe_changes_have_no_findings_at_all() -> None:
    assert codes("add", "nickname", type="text") == set()
    assert codes("add", "flag", type="boolean", nullable=False, default="false") == set()
    assert codes("alter_type", "name", type="varchar(200)") == set()
    assert codes("set_default", "notes", default="'x'") == set()


def test_findings_carry_level_lock_alternative_and_size() -> None:
    plan = plan_change(snapshot(), normalize_request("t", "set_not_null", "notes"), PG16, True)
    (finding,) = assess(plan.risk_context)
    assert finding.level == "warning" and finding.lock == "ACCESS EXCLUSIVE"
    assert "NOT VALID" in finding.safe_alternative and "VALIDATE" in finding.safe_alternative
    assert "~1,000 rows" in finding.message and "64.0 kB" in finding.message
    old = plan_change(snapshot(), normalize_request("t", "set_not_null", "notes"), 110000, True)
    assert "before PostgreSQL 12" in assess(old.risk_context)[0].safe_alternative


def test_rename_suggests_keeping_the_column_name_in_the_model() -> None:
    plan = plan_change(
        snapshot(), normalize_request("t", "rename", "notes", new_name="remarks"), PG16, True
    )
    (finding,) = assess(plan.risk_context)
    assert 'mapped_column("notes"' in finding.safe_alternative


def test_empty_table_lowers_rewrite_danger() -> None:
    def level(has_rows: bool) -> str:
        plan = plan_change(
            snapshot(),
            normalize_request("t", "alter_type", "notes", type="integer"),
            PG16,
            has_rows,
        )
        return next(f.level for f in assess(plan.risk_context) if f.code == "alter_type_rewrite")

    assert level(True) == "danger" and level(False) == "warning"


# -- SQL generation -----------------------------------------------------------------------------
def test_generated_sql_is_quoted_and_exact() -> None:
    assert sql("add", "nickname", type="VARCHAR( 40 )", default="'it''s'", nullable=False) == [
        'ALTER TABLE "public"."t" ADD COLUMN "nickname" character varying(40) DEFAULT \'it\'\'s\' NOT NULL'
    ]
    assert sql("alter_type", "notes", type="int") == [
        'ALTER TABLE "public"."t" ALTER COLUMN "notes" TYPE integer USING "notes"::integer'
    ]
    assert sql("alter_type", "name", type="text") == [
        'ALTER TABLE "public"."t" ALTER COLUMN "name" TYPE text'
    ]
    assert sql("rename", "notes", new_name="remarks") == [
        'ALTER TABLE "public"."t" RENAME COLUMN "notes" TO "remarks"'
    ]
    assert sql("set_comment", "notes", comment="it's") == [
        'COMMENT ON COLUMN "public"."t"."notes" IS \'it\'\'s\''
    ]
    assert sql("add", "s", type="state[]") == [
        'ALTER TABLE "public"."t" ADD COLUMN "s" "public"."state"[]'
    ]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("int", "integer"),
        ("INT8", "bigint"),
        ("varchar(40)", "character varying(40)"),
        ("character varying", "character varying"),
        ("numeric(10)", "numeric(10,0)"),
        ("decimal(12, 2)", "numeric(12,2)"),
        ("timestamptz", "timestamp with time zone"),
        ("timestamp(3) with time zone", "timestamp(3) with time zone"),
        ("timestamp", "timestamp without time zone"),
        ("time", "time without time zone"),
        ("char", "character(1)"),
        ("bool", "boolean"),
        ("float8", "double precision"),
        ("int[]", "integer[]"),
        ("jsonb", "jsonb"),
        ("state", "state"),
        ("public.state", "state"),
    ],
)
def test_types_are_canonical(text: str, canonical: str) -> None:
    assert parse_type(text, snapshot()).canonical == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "text; DROP TABLE users",
        "integer) ; --",
        "varchar(10) /* x */",
        "text --",
        "serial8x",
        "numeric(10,2,3)",
        "varchar(0)",
        "integer(4)",
        'text collate "C"',
        "pg_catalog.text",
        "timestamp(9)",
        'x"; DROP TABLE users; --',
        "",
        "boolean with time zone",
    ],
)
def test_hostile_or_unknown_types_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_type(bad, snapshot())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "0"),
        ("-1.5", "-1.5"),
        ("TRUE", "true"),
        ("null", "NULL"),
        ("now()", "now()"),
        ("current_timestamp", "CURRENT_TIMESTAMP"),
        ("'a''b'", "'a''b'"),
        ("'{}'::jsonb", "'{}'::jsonb"),
        ("'x''; DROP TABLE users; --'", "'x''; DROP TABLE users; --'"),
    ],
)
def test_defaults_are_checked_literals(text: str, expected: str) -> None:
    assert parse_default(text, snapshot()).sql == expected


@pytest.mark.parametrize(
    "bad",
    [
        "0; DROP TABLE users",
        "pg_sleep(10)",
        "'a' || (SELECT 1)",
        "users.id",
        "'x'::text; --",
        "'unterminated",
        "1 + 1",
        "lower('A')",
    ],
)
def test_hostile_defaults_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_default(bad, snapshot())


@pytest.mark.parametrize("bad", ['x"; DROP TABLE users; --', "Nick", "1abc", "a b", "a" * 64, "é"])
def test_hostile_new_column_names_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidRequest):
        sql("add", bad, type="text")
    with pytest.raises(InvalidRequest):
        sql("rename", "notes", new_name=bad)


def test_existing_odd_names_are_quoted() -> None:
    assert quote_ident('we"ird; DROP TABLE t; --') == '"we""ird; DROP TABLE t; --"'


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("t", "explode", "c"), InvalidRequest),
        (("t", "add", "c"), InvalidRequest),  # no type
        (("t", "rename", "notes"), InvalidRequest),  # no new name
        (("missing", "drop", "c"), NotFound),
        (("t", "drop", "missing"), NotFound),
        (("v", "drop", "x"), InvalidRequest),  # a view
        (("t", "add", "notes"), InvalidRequest),  # exists already
    ],
)
def test_requests_checked_against_the_snapshot(args, error) -> None:
    with pytest.raises(error):
        request = normalize_request(*args)
        plan_change(snapshot(), request, PG16, True)


def test_arguments_that_do_not_apply_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="does not apply"):
        normalize_request("t", "drop", "notes", type="text")
    with pytest.raises(InvalidRequest, match="already"):
        sql("drop_not_null", "notes")
    with pytest.raises(InvalidRequest, match="already has type"):
        sql("alter_type", "notes", type="TEXT")


def test_verify_expected_detects_a_missing_change() -> None:
    plan = plan_change(snapshot(), normalize_request("t", "add", "c", type="text"), PG16, True)
    assert verify_expected(snapshot(), plan.expected) == ["column c does not exist"]
