"""The diff on in-memory snapshots: each status, each attribute, structural matching, hints."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from database_use.compare.diff import Difference, diff, match
from database_use.compare.model_lines import model_line
from database_use.schema.snapshot import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    UniqueConstraint,
)


def base(source: str = "db") -> Snapshot:
    snap = Snapshot(source=source)  # type: ignore[arg-type]
    users = Table(schema="public", name="users", comment="People")
    users.columns = [
        Column("id", "bigint", nullable=False, identity="by default", position=1),
        Column("email", "character varying(255)", nullable=False, position=2),
        Column("role", "user_role", nullable=False, default="'viewer'", position=3),
        Column("note", "text", comment="free text", position=4),
    ]
    users.primary_key = PrimaryKey(["id"], "pk_users")
    users.unique_constraints = [UniqueConstraint(["email"], "uq_users_email")]
    media = Table(schema="public", name="media")
    media.columns = [
        Column("id", "bigint", nullable=False, position=1),
        Column("owner_id", "bigint", nullable=False, position=2),
        Column("size_bytes", "bigint", nullable=False, default="0", position=3),
        Column("tags", "text[]", position=4),
    ]
    media.primary_key = PrimaryKey(["id"], "media_pkey")
    media.foreign_keys = [
        ForeignKey(["owner_id"], "public.users", ["id"], "media_owner_id_fkey", on_delete="CASCADE")
    ]
    media.indexes = [
        Index(["owner_id"], "ix_media_owner_id"),
        Index(["tags"], "ix_media_tags", method="gin"),
        Index(["size_bytes"], "ix_media_big", where="size_bytes > 1000"),
    ]
    media.check_constraints = [CheckConstraint("size_bytes >= 0", "media_size_bytes_check")]
    snap.add_table(users)
    snap.add_table(media)
    snap.add_enum(EnumType("public", "user_role", ["admin", "editor", "viewer"]))
    view = Table(
        schema="public",
        name="big_media",
        kind="view",
        definition="SELECT id FROM media WHERE size_bytes > 1000;",
    )
    view.columns = [Column("id", "bigint", position=1)]
    snap.add_table(view)
    return snap


def test_equal_snapshots_give_zero_differences() -> None:
    assert diff(base("db"), base("models")) == []
    assert diff(base("db"), base("doc")) == []
    assert diff(base("db"), base("db")) == []


def test_equal_sides_short_cut_gives_what_the_full_comparison_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Equal lists of uniquely named items are passed over whole; a name held twice on a side
    (which ``match`` pairs by name alone) still gets the full comparison, record for record."""
    import database_use.compare.diff as diff_module

    def twice(snap: Snapshot) -> None:
        snap.tables["public.media"].indexes.append(Index(["id"], "ix_media_owner_id"))

    cases = [(base("db"), base("models")), (_mutated(twice, "db"), _mutated(twice))]
    short = [[d.to_dict() for d in diff(left, right)] for left, right in cases]
    monkeypatch.setattr(diff_module, "_named_once", lambda items: False)
    full = [[d.to_dict() for d in diff(left, right)] for left, right in cases]
    assert short == full
    assert short[0] == [] and short[1] != []  # the name held twice was compared in full


def _mutated(change: Callable[[Snapshot], None], source: str = "models") -> Snapshot:
    snap = base(source)
    change(snap)
    return snap


def _col(snap: Snapshot, table: str, column: str) -> Column:
    col = snap.tables[table].column(column)
    assert col is not None
    return col


CASES: list[tuple[str, Callable[[Snapshot], None], dict]] = [
    (
        "column type",
        lambda s: setattr(_col(s, "public.users", "email"), "type", "text"),
        {"object": "column", "name": "email", "status": "different", "attribute": "type"},
    ),
    (
        "nullable",
        lambda s: setattr(_col(s, "public.users", "email"), "nullable", True),
        {"object": "column", "name": "email", "attribute": "nullable"},
    ),
    (
        "default",
        lambda s: setattr(_col(s, "public.users", "role"), "default", "'admin'"),
        {"object": "column", "name": "role", "attribute": "default"},
    ),
    (
        "identity",
        lambda s: setattr(_col(s, "public.users", "id"), "identity", "always"),
        {"object": "column", "name": "id", "attribute": "default"},
    ),
    (
        "generated",
        lambda s: setattr(_col(s, "public.media", "size_bytes"), "generated", "id * 2"),
        {"object": "column", "name": "size_bytes", "attribute": "default"},
    ),
    (
        "column comment",
        lambda s: setattr(_col(s, "public.users", "note"), "comment", "other"),
        {"object": "column", "name": "note", "attribute": "comment"},
    ),
    (
        "table comment",
        lambda s: setattr(s.tables["public.users"], "comment", None),
        {"object": "table", "name": "users", "attribute": "comment"},
    ),
    (
        "missing column",
        lambda s: s.tables["public.users"].columns.pop(),
        {"object": "column", "name": "note", "status": "missing_in_models"},
    ),
    (
        "extra column",
        lambda s: s.tables["public.users"].columns.append(Column("x", "text")),
        {"object": "column", "name": "x", "status": "missing_in_db"},
    ),
    (
        "missing table",
        lambda s: s.tables.pop("public.media"),
        {"object": "table", "table": "public.media", "status": "missing_in_models"},
    ),
    (
        "pk change",
        lambda s: setattr(s.tables["public.media"].primary_key, "columns", ["id", "owner_id"]),
        {"object": "primary_key", "attribute": "columns", "status": "different"},
    ),
    (
        "pk dropped",
        lambda s: setattr(s.tables["public.media"], "primary_key", None),
        {"object": "primary_key", "status": "missing_in_models"},
    ),
    (
        "fk on_delete",
        lambda s: setattr(s.tables["public.media"].foreign_keys[0], "on_delete", "SET NULL"),
        {"object": "foreign_key", "attribute": "on_delete"},
    ),
    (
        "fk on_update",
        lambda s: setattr(s.tables["public.media"].foreign_keys[0], "on_update", "CASCADE"),
        {"object": "foreign_key", "attribute": "on_delete"},
    ),
    (
        "fk target",
        lambda s: setattr(s.tables["public.media"].foreign_keys[0], "ref_table", "public.people"),
        {"object": "foreign_key", "attribute": "references"},
    ),
    (
        "index method",
        lambda s: setattr(s.tables["public.media"].indexes[1], "method", "btree"),
        {"object": "index", "name": "ix_media_tags", "attribute": "method"},
    ),
    (
        "partial where",
        lambda s: setattr(s.tables["public.media"].indexes[2], "where", "size_bytes > 10"),
        {"object": "index", "name": "ix_media_big", "attribute": "where"},
    ),
    (
        "index unique",
        lambda s: setattr(s.tables["public.media"].indexes[0], "unique", True),
        {"object": "index", "name": "ix_media_owner_id", "attribute": "unique"},
    ),
    (
        "index columns",
        lambda s: setattr(s.tables["public.media"].indexes[0], "columns", ["owner_id", "id"]),
        {"object": "index", "name": "ix_media_owner_id", "attribute": "columns"},
    ),
    (
        "index include",
        lambda s: setattr(s.tables["public.media"].indexes[0], "include", ["id"]),
        {"object": "index", "name": "ix_media_owner_id", "attribute": "columns"},
    ),
    (
        "index missing",
        lambda s: s.tables["public.media"].indexes.pop(0),
        {"object": "index", "name": "ix_media_owner_id", "status": "missing_in_models"},
    ),
    (
        "check expression",
        lambda s: setattr(
            s.tables["public.media"].check_constraints[0], "expression", "size_bytes > 0"
        ),
        {"object": "check_constraint", "name": "media_size_bytes_check", "attribute": "expression"},
    ),
    (
        "unique columns",
        lambda s: setattr(
            s.tables["public.users"].unique_constraints[0], "columns", ["email", "role"]
        ),
        {"object": "unique_constraint", "name": "uq_users_email", "attribute": "columns"},
    ),
    (
        "enum added label",
        lambda s: s.enums["public.user_role"].labels.append("owner"),
        {"object": "enum", "table": None, "attribute": "values", "hint": "only in models: owner"},
    ),
    (
        "enum reordered",
        lambda s: s.enums["public.user_role"].labels.reverse(),
        {"object": "enum", "attribute": "values", "hint": "same labels in a different order"},
    ),
    (
        "enum missing",
        lambda s: s.enums.pop("public.user_role"),
        {"object": "enum", "name": "public.user_role", "status": "missing_in_models"},
    ),
]


@pytest.mark.parametrize(("label", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_drift_gives_one_record(
    label: str, change: Callable[[Snapshot], None], expected: dict
) -> None:
    records = diff(base("db"), _mutated(change))
    assert len(records) == 1, [r.to_dict() for r in records]
    record = records[0].to_dict()
    for key, value in expected.items():
        assert record[key] == value, (key, record)
    assert record["authority"] == "db"
    assert record["fix"]
    assert set(record) == {
        "object",
        "table",
        "name",
        "status",
        "attribute",
        "values",
        "authority",
        "fix",
        "hint",
    }
    assert set(record["values"]) == {"db", "models"}


def test_model_side_fix_names_the_model_line() -> None:
    models = _mutated(lambda s: setattr(_col(s, "public.users", "email"), "nullable", True))
    models.model_origins = {"public.users": ("models/models_user.py", "User")}  # type: ignore[attr-defined]
    (record,) = diff(base("db"), models)
    assert record.fix == (
        "in models/models_user.py class User: email: Mapped[str] = "
        "mapped_column(String(255), unique=True, nullable=False)"
    )


def test_doc_side_fix_is_regenerate_and_db_wins_over_doc() -> None:
    doc = _mutated(lambda s: setattr(_col(s, "public.users", "email"), "type", "text"), "doc")
    (record,) = diff(doc, base("db"))
    assert record.authority == "db"
    assert "generate-docs" in record.fix
    assert record.values == {"doc": "text", "db": "character varying(255)"}


def test_models_win_over_doc() -> None:
    doc = _mutated(lambda s: s.tables["public.users"].columns.pop(), "doc")
    (record,) = diff(base("models"), doc)
    assert record.status == "missing_in_doc"
    assert record.authority == "models"


def test_matching_by_structure_ignores_generated_names() -> None:
    def rename_all(s: Snapshot) -> None:
        media = s.tables["public.media"]
        media.foreign_keys[0].name = "fk_media_owner_id_users"
        media.indexes[0].name = None
        media.check_constraints[0].name = "ck_media_something"
        s.tables["public.users"].unique_constraints[0].name = None
        media.primary_key.name = "pk_media"  # type: ignore[union-attr]

    assert diff(base("db"), _mutated(rename_all)) == []


def test_same_name_different_structure_is_one_different_record() -> None:
    def change(s: Snapshot) -> None:
        s.tables["public.media"].check_constraints[0].expression = "size_bytes > 5"
        s.tables["public.media"].check_constraints[0].name = "media_size_bytes_check"

    records = diff(base("db"), _mutated(change))
    assert [(r.status, r.attribute) for r in records] == [("different", "expression")]


def test_unnamed_and_changed_check_gives_missing_on_both_sides() -> None:
    def change(s: Snapshot) -> None:
        s.tables["public.media"].check_constraints[0] = CheckConstraint("size_bytes > 5")

    records = diff(base("db"), _mutated(change))
    assert sorted(r.status for r in records) == ["missing_in_db", "missing_in_models"]
    assert "size_bytes > 5" in [
        r.name for r in records
    ]  # an unnamed item is named by its structure


def test_rename_hint() -> None:
    def rename(s: Snapshot) -> None:
        _col(s, "public.users", "email").name = "email_address"

    records = diff(base("db"), _mutated(rename))
    assert {r.status for r in records} == {"missing_in_db", "missing_in_models"}
    assert {r.hint for r in records} == {"possible rename email_address → email"}


def test_views_are_skipped_against_models_and_compared_against_doc() -> None:
    no_views = _mutated(lambda s: s.tables.pop("public.big_media"))
    assert diff(base("db"), no_views) == []
    doc = _mutated(lambda s: s.tables.pop("public.big_media"), "doc")
    (record,) = diff(base("db"), doc)
    assert (record.object, record.status) == ("view", "missing_in_doc")
    doc = _mutated(
        lambda s: setattr(s.tables["public.big_media"], "definition", "SELECT 1;"), "doc"
    )
    (record,) = diff(base("db"), doc)
    assert (record.object, record.attribute) == ("view", "expression")


def test_db_vs_db_sides_are_named() -> None:
    other = _mutated(lambda s: s.tables["public.users"].columns.pop(), "db")
    (record,) = diff(base("db"), other)
    assert record.status == "missing_in_right" and record.authority == "left"
    (record,) = diff(base("db"), other, left_name="staging", right_name="production")
    assert record.status == "missing_in_production"
    assert record.values == {"staging": "text", "production": None}


def test_order_is_deterministic() -> None:
    def many(s: Snapshot) -> None:
        s.tables.pop("public.media")
        s.enums["public.user_role"].labels.append("x")
        _col(s, "public.users", "email").type = "text"
        _col(s, "public.users", "note").nullable = False

    first = [d.to_dict() for d in diff(base("db"), _mutated(many))]
    again = [d.to_dict() for d in diff(copy.deepcopy(base("db")), _mutated(many))]
    assert first == again
    assert [d["object"] for d in first] == ["table", "column", "column", "enum"]


def test_match_prefers_names_then_structure() -> None:
    left = [Index(["a"], "ix_one"), Index(["b"], "ix_two")]
    right = [Index(["b"], "ix_one"), Index(["a"], None)]
    pairs, only_left, only_right = match(left, right, [lambda i: tuple(i.columns)])
    assert [(x.name, y.name) for x, y in pairs] == [("ix_one", "ix_one")]
    assert [i.name for i in only_left] == ["ix_two"] and [i.columns for i in only_right] == [["a"]]


def test_difference_to_dict_round_trips_keys() -> None:
    record = Difference("column", "public.users", "email", "missing_in_db")
    assert record.to_dict()["attribute"] is None and record.to_dict()["hint"] is None


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (
            Column("email", "character varying(255)", nullable=False),
            "email: Mapped[str] = mapped_column(String(255), nullable=False)",
        ),
        (
            Column("metadata", "jsonb", default="'{}'"),
            "metadata_: Mapped[dict[str, Any] | None] = mapped_column('metadata', JSONB, "
            "nullable=True, server_default=text(\"'{}'\"))",
        ),
        (
            Column("price", "numeric(12,2)", nullable=False, comment="EUR"),
            "price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False, comment='EUR')",
        ),
        (
            Column("at", "timestamp with time zone", default="now()"),
            "at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, "
            "server_default=text('now()'))",
        ),
        (
            Column("ids", "integer[]"),
            "ids: Mapped[list[int] | None] = mapped_column(ARRAY(Integer), nullable=True)",
        ),
    ],
)
def test_model_line(column: Column, expected: str) -> None:
    assert model_line(column) == expected


def test_model_line_with_table_and_enum() -> None:
    snap = base()
    users = snap.tables["public.users"]
    assert model_line(users.column("id"), users, snap) == (  # type: ignore[arg-type]
        "id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True, nullable=False)"
    )
    assert model_line(users.column("role"), users, snap) == (  # type: ignore[arg-type]
        "role: Mapped[str] = mapped_column(Enum('admin', 'editor', 'viewer', name='user_role'), "
        "nullable=False, server_default=text(\"'viewer'\"))"
    )
    media = snap.tables["public.media"]
    assert "ForeignKey('users.id', ondelete='CASCADE')" in model_line(
        media.column("owner_id"), media
    )  # type: ignore[arg-type]
