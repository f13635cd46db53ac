"""Canonical spellings: every alias of a type, default or expression meets its catalog form."""

from __future__ import annotations

import pytest

from database_use.schema.normalize import (
    index_key,
    normalize_default,
    normalize_expression,
    normalize_type,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("int4", "integer"),
        ("INTEGER", "integer"),
        ("int", "integer"),
        ("serial", "integer"),
        ("int8", "bigint"),
        ("BIGSERIAL", "bigint"),
        ("int2", "smallint"),
        ("VARCHAR(255)", "character varying(255)"),
        ("varchar", "character varying"),
        ("character varying(255)", "character varying(255)"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
        ("timestamptz", "timestamp with time zone"),
        ("TIMESTAMP WITHOUT TIME ZONE", "timestamp without time zone"),
        ("timestamp", "timestamp without time zone"),
        ("timestamp(3) with time zone", "timestamp(3) with time zone"),
        ("TIME", "time without time zone"),
        ("timetz", "time with time zone"),
        ("NUMERIC(12, 2)", "numeric(12,2)"),
        ("decimal(5,1)", "numeric(5,1)"),
        ("INTEGER[]", "integer[]"),
        ("_int4", "integer[]"),
        ("integer[3][3]", "integer[]"),
        ("VARCHAR(20)[]", "character varying(20)[]"),
        ("BOOLEAN", "boolean"),
        ("bool", "boolean"),
        ("JSONB", "jsonb"),
        ("UUID", "uuid"),
        ("FLOAT", "double precision"),
        ("float8", "double precision"),
        ("FLOAT(10)", "real"),
        ("float4", "real"),
        ("CHAR", "character(1)"),
        ("char(3)", "character(3)"),
        ("BYTEA", "bytea"),
        ("user_role", "user_role"),
        ("public.user_role", "user_role"),
        ("audit.level", "audit.level"),
        ('"Status"', '"Status"'),
        ("geometry(Point, 4326)", "geometry(Point,4326)"),
    ],
)
def test_normalize_type(given: str, expected: str) -> None:
    assert normalize_type(given) == expected


@pytest.mark.parametrize(
    ("model", "catalog"),
    [
        ("size_bytes >= 0", "(size_bytes >= 0)"),
        ("size_bytes >= 0", "CHECK ((size_bytes >= 0))"),
        (
            "status IN ('a', 'b')",
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        ),
        (
            "status NOT IN ('a','b')",
            "((status)::text <> ALL ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        ),
        ("price BETWEEN 0 AND 100", "((price >= (0)::numeric) AND (price <= (100)::numeric))"),
        ("(a + b) * c > 0", "(((a + b) * c) > 0)"),
        ("a > 0 AND (b > 0 OR c > 0)", "((a > 0) AND ((b > 0) OR (c > 0)))"),
        ("name LIKE 'a%'", "((name)::text ~~ 'a%'::text)"),
        ("length(name) > 0", "(length((name)::text) > 0)"),
        ("x IS NOT NULL OR y IS NOT NULL", "((x IS NOT NULL) OR (y IS NOT NULL))"),
        ("a != b", "(a <> b)"),
        ('"size" > 0', "(size > 0)"),
        ("deleted_at is null", "(deleted_at IS NULL)"),
    ],
)
def test_model_expression_equals_catalog_expression(model: str, catalog: str) -> None:
    assert normalize_expression(model) == normalize_expression(catalog)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("size_bytes >= 0", "size_bytes > 0"),
        ("a > 0 AND (b > 0 OR c > 0)", "(a > 0 AND b > 0) OR c > 0"),
        ("a - (b - c)", "a - b - c"),
        ("status IN ('a', 'b')", "status IN ('a', 'c')"),
        ('"Order" > 0', "order_ > 0"),
    ],
)
def test_different_expressions_stay_different(one: str, other: str) -> None:
    assert normalize_expression(one) != normalize_expression(other)


def test_expression_keeps_quoted_mixed_case_and_reserved_identifiers() -> None:
    assert normalize_expression('("Order" > 0)') == '"Order" > 0'
    assert normalize_expression('("select" IS NOT NULL)') == '"select" IS NOT NULL'


def test_unparsable_expression_falls_back_to_tokens() -> None:
    assert normalize_expression("EXTRACT(year FROM d) > 2000") == normalize_expression(
        "(extract(year from d) > 2000)"
    )


@pytest.mark.parametrize(
    ("given", "column_type", "expected"),
    [
        ("'x'::character varying", None, "'x'"),
        ("'viewer'::user_role", None, "'viewer'"),
        ("'{}'::jsonb", None, "'{}'"),
        ("CURRENT_TIMESTAMP", None, "now()"),
        ("now()", None, "now()"),
        ("(now())", None, "now()"),
        ("transaction_timestamp()", None, "now()"),
        ("true", None, "true"),
        ("TRUE", None, "true"),
        ("'t'::boolean", None, "true"),
        ("'-1'::integer", None, "-1"),
        ("'0'", "bigint", "0"),
        ("0", "bigint", "0"),
        ("NULL::character varying", None, None),
        ("NULL", None, None),
        (None, None, None),
        ("nextval('users_id_seq'::regclass)", None, "nextval('users_id_seq')"),
        ("(now() + '1 day'::interval)", None, "now() + '1 day'"),
        ("now() + interval '1 day'", None, "now() + '1 day'"),
        ("'f'", "boolean", "false"),
    ],
)
def test_normalize_default(
    given: str | None, column_type: str | None, expected: str | None
) -> None:
    assert normalize_default(given, column_type) == expected


def test_different_defaults_stay_different() -> None:
    assert normalize_default("'a'") != normalize_default("'b'")
    assert normalize_default("now()") != normalize_default("CURRENT_DATE")


@pytest.mark.parametrize(
    ("given", "option", "expected"),
    [
        ("owner_id", None, "owner_id"),
        ('"select"', None, "select"),
        ('"Order"', 0, "Order"),
        ("lower((email)::text)", 0, "lower(email)"),
        ("lower(email)", None, "lower(email)"),
        ("price DESC", None, "price DESC"),
        ("price", 3, "price DESC"),
        ("price", 1, "price DESC NULLS LAST"),
        ("price DESC NULLS LAST", None, "price DESC NULLS LAST"),
        ("price ASC", None, "price"),
        ("price NULLS FIRST", None, "price NULLS FIRST"),
        ("price", 2, "price NULLS FIRST"),
    ],
)
def test_index_key(given: str, option: int | None, expected: str) -> None:
    assert index_key(given, option) == expected


@pytest.mark.parametrize(
    ("model", "stored", "type_"),
    [
        ("'0'", "'00:00:00'::interval", "interval"),
        ("'0 seconds'", "'00:00:00'::interval", "interval"),
        ("'1 day 2 hours'", "'1 day 02:00:00'::interval", "interval"),
        ("'90 minutes'", "'01:30:00'::interval", "interval"),
        ("'1 year 2 months 3 days'", "'1 year 2 mons 3 days'::interval", "interval"),
        ("'1.5 seconds'", "'00:00:01.5'::interval", "interval"),
        ('\'{"b": 1, "a": [1, 2]}\'', '\'{"a": [1, 2], "b": 1}\'::jsonb', "jsonb"),
        ("'{}'", "'{}'::json", "json"),
        (
            "'00000000-0000-0000-0000-000000000000'",
            "'00000000-0000-0000-0000-000000000000'::uuid",
            "uuid",
        ),
    ],
)
def test_typed_literal_defaults_compare_equal(model, stored, type_):
    assert normalize_default(model, type_) == normalize_default(stored, type_)


@pytest.mark.parametrize(
    ("a", "b", "type_"),
    [
        ("'0'", "'00:00:01'::interval", "interval"),
        ("'1 day'", "'24:00:00'::interval", "interval"),  # PostgreSQL keeps these apart too
        ("'{\"a\": 1}'", "'{\"a\": 2}'::jsonb", "jsonb"),
    ],
)
def test_typed_literal_defaults_that_differ_stay_different(a, b, type_):
    assert normalize_default(a, type_) != normalize_default(b, type_)
