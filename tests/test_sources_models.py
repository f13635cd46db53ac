"""The models source: files loaded by path, every MetaData collected, the process left clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from database_use.errors import ModelLoadError, NotFound
from database_use.sources.models import from_metadata, load_models
from tests.conftest import REPO_ROOT


def write(project: Path, name: str, body: str) -> None:
    (project / "models" / name).write_text(textwrap.dedent(body), encoding="utf-8")


def test_example_models(project: Path) -> None:
    snap = load_models(project)
    assert snap.source == "models"
    assert sorted(snap.tables) == ["public.media", "public.users"]
    users, media = snap.tables["public.users"], snap.tables["public.media"]
    assert users.column("id").identity == "by default"  # type: ignore[union-attr]
    assert users.column("email").type == "character varying(255)"  # type: ignore[union-attr]
    assert users.column("role").default == "'viewer'"  # type: ignore[union-attr]
    assert users.column("created_at").default == "now()"  # type: ignore[union-attr]
    assert users.column("pw_hashed").comment  # type: ignore[union-attr]
    assert users.primary_key.name == "pk_users"  # type: ignore[union-attr]
    assert [(u.name, u.columns) for u in users.unique_constraints] == [
        ("uq_users_email", ["email"])
    ]
    assert media.column("metadata").default == "'{}'"  # type: ignore[union-attr]
    (fk,) = media.foreign_keys
    assert (fk.name, fk.ref_table, fk.on_delete) == (
        "fk_media_owner_id_users",
        "public.users",
        "CASCADE",
    )
    (check,) = media.check_constraints
    assert (check.name, check.expression) == ("ck_media_size_bytes_non_negative", "size_bytes >= 0")
    assert [(i.name, i.columns) for i in media.indexes] == [
        ("ix_media_owner_id_kind", ["owner_id", "kind"])
    ]
    assert snap.enums["public.user_role"].labels == ["admin", "editor", "viewer"]
    assert snap.model_origins["public.users"] == ("models/models_user.py", "User", 20)  # type: ignore[attr-defined]


def test_own_declarative_base_and_core_table_are_read(project: Path) -> None:
    write(
        project,
        "models_audit.py",
        """
        from sqlalchemy import Column, Integer, MetaData, String, Table, text, Index, Computed
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            metadata = MetaData(schema="audit")

        class Event(Base):
            __tablename__ = "event"
            __table_args__ = (Index("ix_event_payload", "payload", postgresql_using="gin"),
                              Index("ix_event_open", "id", postgresql_where=text("closed = false")))
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            payload: Mapped[str] = mapped_column(String(20))
            double: Mapped[int] = mapped_column(Integer, Computed("id * 2"))
            closed: Mapped[bool] = mapped_column(server_default=text("false"))

        core = MetaData()
        log_lines = Table("log_lines", core, Column("n", Integer, unique=True))
    """,
    )
    snap = load_models(project)
    assert {"audit.event", "public.log_lines", "public.users"} <= set(snap.tables)
    event = snap.tables["audit.event"]
    assert event.column("id").default == "nextval('audit.event_id_seq')"  # type: ignore[union-attr]
    assert event.column("double").generated == "id * 2"  # type: ignore[union-attr]
    methods = {i.name: (i.method, i.where) for i in event.indexes}
    assert methods == {
        "ix_event_payload": ("gin", None),
        "ix_event_open": ("btree", "closed = false"),
    }
    assert snap.tables["public.log_lines"].unique_constraints[0].columns == ["n"]


def test_constraints_a_custom_compiler_leaves_out_are_not_read(project: Path) -> None:
    """CREATE TABLE leaves out what compiles to None: a ``@compiles`` on SQLAlchemy's own class
    or on a subclass is honoured; SQLAlchemy's own classes without one are always emitted."""
    write(
        project,
        "models_custom_ddl.py",
        """
        from sqlalchemy import CheckConstraint, Column, Integer, MetaData, Table, UniqueConstraint
        from sqlalchemy.ext.compiler import compiles

        class SoftCheck(CheckConstraint):
            pass

        @compiles(SoftCheck, "postgresql")
        def _soft(element, compiler, **kw):
            return None

        @compiles(UniqueConstraint, "postgresql")
        def _unique(element, compiler, **kw):
            if element.name == "uq_left_out":
                return None
            return compiler.visit_unique_constraint(element, **kw)

        custom = MetaData()
        ddl_table = Table(
            "custom_ddl",
            custom,
            Column("a", Integer),
            Column("b", Integer),
            CheckConstraint("a > 0", name="ck_kept"),
            SoftCheck("b > 0", name="ck_soft"),
            UniqueConstraint("a", name="uq_kept"),
            UniqueConstraint("b", name="uq_left_out"),
        )
        """,
    )
    table = load_models(project).tables["public.custom_ddl"]
    assert [c.name for c in table.check_constraints] == ["ck_kept"]
    assert [u.name for u in table.unique_constraints] == ["uq_kept"]
    # the same as CREATE TABLE itself (in a fresh interpreter: @compiles is process-wide)
    ddl = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from sqlalchemy.dialects import postgresql; from sqlalchemy.schema import CreateTable; "
            "from models.models_custom_ddl import ddl_table; "
            "print(CreateTable(ddl_table).compile(dialect=postgresql.dialect()))",
            str(project),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ck_kept" in ddl and "uq_kept" in ddl
    assert "ck_soft" not in ddl and "uq_left_out" not in ddl


def test_loading_twice_and_alongside_the_imported_package_does_not_clash(project: Path) -> None:
    import models  # noqa: F401 - the repo's own package, as tests/conftest.py imports it

    before = {k: v for k, v in sys.modules.items() if k == "models" or k.startswith("models.")}
    first = load_models(project)
    second = load_models(project)
    own = load_models(REPO_ROOT)
    assert first.to_dict() == second.to_dict() == own.to_dict() | {"source": "models"}
    after = {k: v for k, v in sys.modules.items() if k == "models" or k.startswith("models.")}
    assert after == before


def test_projects_do_not_leak_into_each_other(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "models").mkdir(parents=True)
    (other / "models" / "models_thing.py").write_text(
        textwrap.dedent("""
        from sqlalchemy.orm import Mapped, mapped_column
        from utils_db.database import db

        class Thing(db.Model):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
    """)
    )
    assert sorted(load_models(other).tables) == ["public.thing"]
    assert "public.thing" not in load_models(project).tables


def test_broken_models_file_names_file_and_line(project: Path) -> None:
    write(
        project,
        "models_broken.py",
        """
        import sqlalchemy

        x = 1
        raise RuntimeError("boom")
    """,
    )
    with pytest.raises(ModelLoadError) as caught:
        load_models(project)
    message = str(caught.value)
    assert "models/models_broken.py:5" in message and "RuntimeError: boom" in message
    assert "Traceback" not in message
    # the next load is not poisoned by the failed one
    (project / "models" / "models_broken.py").unlink()
    assert sorted(load_models(project).tables) == ["public.media", "public.users"]


def test_syntax_error_names_the_line(project: Path) -> None:
    write(project, "models_bad.py", "x = 1\ndef (:\n")
    with pytest.raises(ModelLoadError, match=r"models/models_bad.py:2: SyntaxError"):
        load_models(project)


def test_duplicate_table_is_reported(project: Path) -> None:
    write(
        project,
        "models_dup.py",
        """
        from sqlalchemy.orm import Mapped, mapped_column
        from utils_db.database import db

        class Again(db.Model):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
    """,
    )
    # models_dup.py sorts first, so the clash surfaces at the class in models_user.py
    with pytest.raises(ModelLoadError, match=r"models/models_user.py:\d+: .*already defined"):
        load_models(project)


def test_no_models_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_models(tmp_path)


def test_from_metadata_naming_convention_and_enum_schema() -> None:
    from sqlalchemy import CheckConstraint, Column, Enum, ForeignKey, Integer, MetaData, Table

    metadata = MetaData(
        naming_convention={
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "ix": "ix_%(column_0_label)s",
        }
    )
    Table("parent", metadata, Column("id", Integer, primary_key=True), schema="app")
    Table(
        "child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", Integer, ForeignKey("app.parent.id", ondelete="set null"), index=True),
        Column("level", Enum("lo", "hi", name="level", schema="app")),
        CheckConstraint("parent_id > 0", name="positive"),
        schema="app",
    )
    snap = from_metadata(metadata)
    child = snap.tables["app.child"]
    assert child.foreign_keys[0].name == "fk_child_parent_id"
    assert child.foreign_keys[0].on_delete == "SET NULL"
    assert child.check_constraints[0].name == "ck_child_positive"
    assert child.indexes[0].name == "ix_app_child_parent_id"  # column_0_label holds the schema
    assert child.column("level").type == "app.level"  # type: ignore[union-attr]
    assert snap.enums["app.level"].labels == ["lo", "hi"]


def _compare_repo_models_in_a_process(url: str, cache: str) -> subprocess.CompletedProcess:
    """The CLI as the shipped client configs run it: this repo's own interpreter, the repo's root."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_USE_MODELS_CACHE"}
    env.update(DATABASE_URL=url, DATABASE_USE_MODELS_CACHE=cache)
    return subprocess.run(
        [sys.executable, "-m", "database_use.cli.main", "compare-db-models"]
        + ["--project-root", str(REPO_ROOT), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_repo_models_against_create_all_are_clean_cold_and_cached(example_db_url: str) -> None:
    # The layout every user has: the interpreter (with SQLAlchemy) lives in `.venv/` inside the
    # project root when run by `make test`. The load must not confuse the venv's modules with
    # the project's own, cold or served from the cache in a later process.
    for cache in ("0", "1", "1"):
        done = _compare_repo_models_in_a_process(example_db_url, cache)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert json.loads(done.stdout)["differences"] == []


def test_load_leaves_this_process_untouched(project: Path) -> None:
    before = dict(sys.modules)
    snap = load_models(project, use_cache=False)
    assert sorted(snap.tables) == ["public.media", "public.users"]
    assert dict(sys.modules) == before


def test_models_never_see_database_credentials(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:sekret@127.0.0.1:1/x")
    monkeypatch.setenv("PGPASSWORD", "sekret")
    write(
        project,
        "models_spy.py",
        """
        import os
        from sqlalchemy import Column, Integer, MetaData, Table

        seen = "|".join(k for k, v in os.environ.items() if "sekret" in v) or "none"
        spy = Table("spy", MetaData(), Column("id", Integer, primary_key=True), comment=seen)
    """,
    )
    assert load_models(project, use_cache=False).tables["public.spy"].comment == "none"


def test_models_output_cannot_forge_the_answer(project: Path) -> None:
    write(
        project,
        "models_noisy.py",
        """
        import json
        print(json.dumps({"snapshot": {"tables": []}, "origins": {}, "deps": []}))
    """,
    )
    assert sorted(load_models(project, use_cache=False).tables) == ["public.media", "public.users"]


def test_origin_lines_are_where_the_class_statement_starts(project: Path) -> None:
    """Lines come from the compiled code (no parse per class): decorated classes start at their
    first decorator, nested and factory-made classes are found by qualified name, each class of
    a file with many is found — what ``inspect.findsource`` answers."""
    many = "".join(
        f"\n\nclass Many{i}(db.Model):  # line: Many{i}\n"
        f'    __tablename__ = "many_{i}"\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        for i in range(30)
    )
    body = (
        textwrap.dedent(
            """
            from __future__ import annotations

            from sqlalchemy.orm import Mapped, mapped_column

            from utils_db.database import db


            def keep(cls):
                return cls


            @keep  # line: Decorated
            @keep
            class Decorated(db.Model):
                __tablename__ = "decorated"
                id: Mapped[int] = mapped_column(primary_key=True)


            class Outer:
                class Inner(db.Model):  # line: Inner
                    __tablename__ = "inner_table"
                    id: Mapped[int] = mapped_column(primary_key=True)


            def make():
                class Made(db.Model):  # line: Made
                    __tablename__ = "made"
                    id: Mapped[int] = mapped_column(primary_key=True)

                return Made


            Made = make()
            """
        )
        + many
    )
    (project / "models" / "models_lines.py").write_text(body, encoding="utf-8")
    expected = {
        line.split("# line: ")[1]: number
        for number, line in enumerate(body.splitlines(), start=1)
        if "# line: " in line
    }
    snap = load_models(project, use_cache=False)
    origins = snap.model_origins  # type: ignore[attr-defined]
    tables = {"Decorated": "decorated", "Inner": "inner_table", "Made": "made"}
    tables.update({f"Many{i}": f"many_{i}" for i in range(30)})
    for cls, table in tables.items():
        assert origins[f"public.{table}"] == ("models/models_lines.py", cls, expected[cls]), cls


def test_from_metadata_sequences_partition_key_and_constraint_comments() -> None:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Sequence(
        "invoice_no",
        start=1000,
        increment=10,
        minvalue=1000,
        maxvalue=999999,
        cycle=True,
        cache=5,
        data_type=sa.Integer,
        schema="shop",
        metadata=metadata,
    )
    sa.Sequence("countdown", increment=-1, metadata=metadata)
    # min and max spelled out at their defaults are the defaults: None, as the catalog reads
    sa.Sequence("plain", minvalue=1, maxvalue=9223372036854775807, metadata=metadata)
    sa.Table(
        "orders",
        metadata,
        sa.Column("id", sa.Integer, sa.Sequence("orders_id", increment=5), primary_key=True),
        sa.Column("placed_at", sa.Date, primary_key=True),
        sa.CheckConstraint("id > 0", name="ck_id", comment="positive"),
        sa.UniqueConstraint("id", name="uq_id", comment="one"),
        schema="shop",
        postgresql_partition_by="range( placed_at )",
    )
    snap = from_metadata(metadata)
    assert sorted(snap.sequences) == [
        "public.countdown",
        "public.orders_id",
        "public.plain",
        "shop.invoice_no",
    ]
    invoice = snap.sequences["shop.invoice_no"]
    assert (invoice.data_type, invoice.start, invoice.increment, invoice.cycle, invoice.cache) == (
        "integer",
        1000,
        10,
        True,
        5,
    )
    assert (invoice.min_value, invoice.max_value) == (1000, 999999)
    countdown = snap.sequences["public.countdown"]
    assert (countdown.start, countdown.increment, countdown.min_value, countdown.max_value) == (
        -1,
        -1,
        None,
        None,
    )
    plain = snap.sequences["public.plain"]
    assert (plain.data_type, plain.start, plain.min_value, plain.max_value) == (
        "bigint",
        1,
        None,
        None,
    )
    assert snap.sequences["public.orders_id"].increment == 5
    orders = snap.tables["shop.orders"]
    assert (orders.kind, orders.partition_key) == ("partitioned table", "RANGE (placed_at)")
    assert [(c.name, c.comment) for c in orders.check_constraints] == [("ck_id", "positive")]
    assert [(u.name, u.comment) for u in orders.unique_constraints] == [("uq_id", "one")]


def test_sequences_and_partition_key_survive_the_child_and_the_cache(project: Path) -> None:
    write(
        project,
        "models_seq.py",
        """
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        TICKETS = sa.Sequence("ticket_no", increment=10, metadata=Base.metadata)


        class Event(Base):
            __tablename__ = "events"
            __table_args__ = {"postgresql_partition_by": "LIST (region)"}
            id: Mapped[int] = mapped_column(primary_key=True)
            region: Mapped[str] = mapped_column(sa.Text, primary_key=True)
        """,
    )
    cold = load_models(project)
    warm = load_models(project)
    assert getattr(warm, "loaded_in", None) == "cache"
    for snap in (cold, warm):
        assert snap.sequences["public.ticket_no"].increment == 10
        assert snap.tables["public.events"].partition_key == "LIST (region)"
