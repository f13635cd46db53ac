"""The live source on a real PostgreSQL: catalog reads, filters, identifiers, roles, round trips."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from database_use.errors import NotFound
from database_use.project import Project
from database_use.sources.live import QUERIES, SIDE_QUERIES, from_database, load_live


def run(url: str, statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statements)


def test_example_schema(example_db_url: str) -> None:
    with psycopg.connect(example_db_url) as conn:
        snap = load_live(conn)
    assert snap.source == "db"
    assert sorted(snap.tables) == ["public.media", "public.users"]
    assert snap.schemas == ["public"]
    assert snap.server_version and snap.server_version[0].isdigit() and "." in snap.server_version
    users = snap.tables["public.users"]
    assert [c.name for c in users.columns][:3] == ["id", "email", "username"]
    assert users.column("id").identity == "by default"  # type: ignore[union-attr]
    assert users.column("role").default == "'viewer'"  # type: ignore[union-attr]
    assert users.column("role").type == "user_role"  # type: ignore[union-attr]
    assert users.comment == "People who can sign in to the app"
    assert users.size_bytes and users.size_bytes > 0
    media = snap.tables["public.media"]
    assert media.foreign_keys[0].on_delete == "CASCADE"
    assert media.check_constraints[0].expression == "size_bytes >= 0"
    assert [i.name for i in media.indexes] == [
        "ix_media_owner_id_kind"
    ]  # constraint-backed ones left out
    assert snap.enums["public.media_kind"].labels == ["image", "video", "audio", "document"]


def test_from_database_by_project_and_by_url(example_db_url: str, project) -> None:  # noqa: ANN001
    by_project = from_database(Project(root=project, url_override=example_db_url))
    by_url = from_database(example_db_url)
    assert by_project.schema_hash() == by_url.schema_hash()


def test_unknown_schema_lists_existing_ones(example_db_url: str) -> None:
    with pytest.raises(NotFound, match="schema nope not found.*public"):
        from_database(example_db_url, schemas=["nope"])


def test_non_public_schema_and_filter(db_url: str) -> None:
    run(
        db_url,
        """
        CREATE SCHEMA audit;
        CREATE TYPE audit.level AS ENUM ('low', 'high');
        CREATE TABLE audit.event (id serial PRIMARY KEY, lvl audit.level DEFAULT 'low');
        CREATE TABLE public.other (id int);
    """,
    )
    snap = from_database(db_url, schemas=["audit"])
    assert list(snap.tables) == ["audit.event"] and snap.schemas == ["audit"]
    event = snap.tables["audit.event"]
    assert event.column("lvl").type == "audit.level"  # type: ignore[union-attr]
    assert event.column("lvl").default == "'low'"  # type: ignore[union-attr]
    assert event.column("id").default == "nextval('audit.event_id_seq')"  # type: ignore[union-attr]
    assert list(snap.enums) == ["audit.level"]
    assert set(from_database(db_url).tables) == {"audit.event", "public.other"}


def test_quoted_mixed_case_and_reserved_identifiers(db_url: str) -> None:
    run(
        db_url,
        """
        CREATE TABLE "Order" ("Id" int PRIMARY KEY, "select" text, "user" text CHECK ("user" <> ''));
        CREATE TABLE "user" (id int PRIMARY KEY, "order" int REFERENCES "Order" ("Id"));
        CREATE INDEX "Order_Select_idx" ON "Order" (lower("select")) WHERE "Id" > 0;
        CREATE INDEX ON "Order" ("user" DESC);
    """,
    )
    snap = from_database(db_url)
    order = snap.tables["public.Order"]
    assert [c.name for c in order.columns] == ["Id", "select", "user"]
    assert order.primary_key.columns == ["Id"]  # type: ignore[union-attr]
    assert order.check_constraints[0].expression == "\"user\" <> ''"
    keys = {i.name: (i.columns, i.where) for i in order.indexes}
    assert keys["Order_Select_idx"] == (['lower("select")'], '"Id" > 0')
    assert (["user DESC"], None) in keys.values()
    fk = snap.tables["public.user"].foreign_keys[0]
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (["order"], "public.Order", ["Id"])


def test_views_matviews_and_partitioned_tables(db_url: str) -> None:
    run(
        db_url,
        """
        CREATE TABLE t (id int, d date) PARTITION BY RANGE (d);
        CREATE TABLE t_2020 PARTITION OF t FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
        CREATE VIEW v AS SELECT id FROM t;
        CREATE MATERIALIZED VIEW mv AS SELECT d FROM t;
        COMMENT ON VIEW v IS 'ids';
    """,
    )
    snap = from_database(db_url)
    kinds = {k: t.kind for k, t in snap.tables.items()}
    assert kinds == {
        "public.t": "partitioned table",
        "public.v": "view",
        "public.mv": "materialized view",
        "public.t_2020": "table",
    }  # a partition is a table of its own, under its parent
    part = snap.tables["public.t_2020"]
    assert part.partition_of == "public.t" and snap.tables["public.t"].partition_key == "RANGE (d)"
    assert part.partition_bound == "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')"
    assert "FROM t" in (snap.tables["public.v"].definition or "")
    assert snap.tables["public.v"].comment == "ids"
    assert [c.name for c in snap.tables["public.mv"].columns] == ["d"]


def test_identity_generated_and_defaults(db_url: str) -> None:
    run(
        db_url,
        """
        CREATE TABLE x (
            a int GENERATED ALWAYS AS IDENTITY,
            b int GENERATED ALWAYS AS (a * 2) STORED,
            c varchar(10) DEFAULT 'x',
            d numeric(12, 2) DEFAULT -1,
            e timestamptz DEFAULT CURRENT_TIMESTAMP,
            f int[] DEFAULT '{}'
        );
    """,
    )
    cols = {c.name: c for c in from_database(db_url).tables["public.x"].columns}
    assert cols["a"].identity == "always" and cols["a"].default is None
    assert cols["b"].generated == "a * 2"
    assert cols["c"].default == "'x'" and cols["c"].type == "character varying(10)"
    assert cols["d"].default == "-1" and cols["d"].type == "numeric(12,2)"
    assert cols["e"].default == "now()" and cols["e"].type == "timestamp with time zone"
    assert cols["f"].type == "integer[]"


def _login_role(pg_server, db_url: str, prefix: str, attributes: str) -> tuple[str, str]:  # noqa: ANN001
    """A new LOGIN role (the caller drops it) and the URL of ``db_url``'s database as it."""
    role = f"{prefix}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    pg_server.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' {attributes}")
    parts = urlsplit(db_url)
    return role, f"postgresql://{role}:{quote(password)}@{parts.hostname}:{parts.port}{parts.path}"


def test_works_as_a_non_superuser_and_leaves_the_session_clean(
    pg_server, example_db_url: str
) -> None:  # noqa: ANN001
    role, url = _login_role(pg_server, example_db_url, "reader", "NOSUPERUSER")
    try:
        with psycopg.connect(url) as conn:
            assert not conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
            conn.rollback()
            search_path = conn.execute("SHOW search_path").fetchone()[0]
            conn.rollback()
            snap = load_live(conn)
            assert sorted(snap.tables) == ["public.media", "public.users"]
            assert snap.tables["public.media"].check_constraints
            # nothing leaks into the caller's session: path and read-write mode are as before
            assert conn.execute("SHOW search_path").fetchone()[0] == search_path
            assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "off"
    finally:
        pg_server.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


class CountingCursor(psycopg.Cursor):
    executes = 0

    def execute(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        CountingCursor.executes += 1
        return super().execute(*args, **kwargs)


def _count_round_trips(url: str) -> int:
    CountingCursor.executes = 0
    with psycopg.connect(url, cursor_factory=CountingCursor) as conn:
        load_live(conn)
    return CountingCursor.executes


def test_round_trips_do_not_grow_with_table_count(make_database) -> None:  # noqa: ANN001
    small, large = make_database("empty"), make_database("empty")
    for url, count in ((small, 2), (large, 30)):
        run(
            url,
            "".join(
                f"CREATE TABLE t{i} (id int PRIMARY KEY, v text UNIQUE, p int REFERENCES t0(id) CHECK (p > 0));".replace(
                    " REFERENCES t0(id)", "" if i == 0 else " REFERENCES t0(id)"
                )
                for i in range(count)
            )
            + "CREATE INDEX ON t1 (v);",
        )
    assert len(from_database(large).tables) == 30
    # the session's query, then one per kind (tests/test_live_kinds.py covers every kind)
    assert _count_round_trips(small) == _count_round_trips(large) == 1 + len(QUERIES)


# -- the second session (from_database reads part of the catalog on another connection) ----------
class MainCursor(psycopg.Cursor):
    executes = 0

    def execute(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        type(self).executes += 1
        return super().execute(*args, **kwargs)


class SideCursor(MainCursor):
    executes = 0


def _read_with_side(url: str, side_url: str) -> tuple[dict, int, int]:
    """The snapshot of ``url`` read with a second session opened on ``side_url``, and the
    statements each connection ran."""
    MainCursor.executes = SideCursor.executes = 0
    with psycopg.connect(url, cursor_factory=MainCursor) as conn:
        snap = load_live(
            conn, open_side=lambda: psycopg.connect(side_url, cursor_factory=SideCursor)
        )
    return snap.to_dict(), MainCursor.executes, SideCursor.executes


def _names(data: dict) -> list[str]:
    return sorted(f"{t['schema']}.{t['name']}" for t in data["tables"])


def _objects_of_every_table_kind(url: str) -> None:
    run(
        url,
        "CREATE SCHEMA s; CREATE TYPE s.mood AS ENUM ('ok', 'sad');"
        "CREATE DOMAIN s.pos AS int CHECK (VALUE > 0);"
        "CREATE TABLE s.t (id int PRIMARY KEY, m s.mood, p s.pos, u text UNIQUE NULLS NOT DISTINCT,"
        " CHECK (p < 100)); CREATE INDEX t_lower ON s.t (lower(u)) INCLUDE (m);"
        "CREATE TABLE s.c (id int REFERENCES s.t (id), n int); CREATE SEQUENCE s.seq;"
        "CREATE FUNCTION s.f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
        "CREATE TRIGGER tr BEFORE INSERT ON s.c FOR EACH ROW EXECUTE FUNCTION s.f();"
        "ALTER TABLE s.c ENABLE ROW LEVEL SECURITY; CREATE POLICY pol ON s.c USING (n > 0);"
        "GRANT SELECT ON s.c TO PUBLIC; COMMENT ON INDEX s.t_lower IS 'by name';",
    )


def test_a_second_session_reads_the_same_snapshot(db_url: str) -> None:
    _objects_of_every_table_kind(db_url)
    with psycopg.connect(db_url) as conn:
        alone = load_live(conn).to_dict()
    together, main, side = _read_with_side(db_url, db_url)
    assert together == alone
    assert len(together["tables"]) == 2 and together["sequences"] and together["functions"]
    # the side session ran its share (snapshot import, session, its queries); the main one
    # exported the snapshot and ran the rest
    assert side == 2 + len(SIDE_QUERIES)
    assert main == 2 + len(QUERIES) - len(SIDE_QUERIES)
    assert from_database(db_url).to_dict() == alone


def test_the_second_session_on_another_database_is_not_mixed_in(make_database) -> None:  # noqa: ANN001
    """A second connection that reaches another database (another server behind the same
    name, a replica, a pooler's other target) cannot import the snapshot: everything is then
    read on the main connection, and nothing of the other database shows."""
    ours, other = make_database("empty"), make_database("empty")
    _objects_of_every_table_kind(ours)
    run(
        other,
        "CREATE TABLE decoy (id int PRIMARY KEY, x int CHECK (x > 0)); CREATE INDEX ON decoy (x);",
    )
    with psycopg.connect(ours) as conn:
        alone = load_live(conn).to_dict()
    together, main, _side = _read_with_side(ours, other)
    assert together == alone
    assert _names(together) == ["s.c", "s.t"]
    assert main == 2 + len(QUERIES)  # export, session and every query on the main connection


def test_a_role_with_one_connection_still_gets_the_whole_snapshot(
    pg_server, example_db_url: str
) -> None:  # noqa: ANN001
    role, url = _login_role(pg_server, example_db_url, "single", "CONNECTION LIMIT 1")
    try:
        with psycopg.connect(example_db_url) as conn:
            alone = load_live(conn).to_dict()
        together, main, side = _read_with_side(url, url)
        assert together == alone and _names(together) == ["public.media", "public.users"]
        assert side == 0 and main == 2 + len(QUERIES)  # its second connection was refused
        assert from_database(url).to_dict() == alone
    finally:
        pg_server.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_snapshot_dicts_are_what_asdict_gives(db_url: str) -> None:
    """to_dict walks the objects itself (no deep copy): the same values, types and key order
    as dataclasses.asdict, for every kind the live source reads."""
    import dataclasses

    from database_use.schema import snapshot as snapshot_module

    _objects_of_every_table_kind(db_url)
    snap = from_database(db_url)

    def same(a: object, b: object) -> bool:
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)  # type: ignore[index]
        if isinstance(a, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
        return a == b

    objects = [*snap.tables.values(), *snap.enums.values(), *snap.sequences.values()]
    objects += [*snap.domains.values(), *snap.functions.values()]
    assert len(objects) >= 6
    for obj in objects:
        assert same(snapshot_module._as_dict(obj), dataclasses.asdict(obj)), obj
