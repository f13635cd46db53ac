"""Foundation: config, URL validation and masking, the shared db object, the example models."""

from __future__ import annotations

import importlib
import subprocess
import sys

import psycopg
import pytest

from database_use.errors import ConfigError, ConnectionFailed
from database_use.settings import mask_url, validate_url
from tests.conftest import REPO_ROOT


def _reload_config():
    import config

    return importlib.reload(config)


def test_config_reads_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@db.example:5433/app")
    config = _reload_config()
    assert config.Config.DATABASE_URL == "postgresql://u:secret@db.example:5433/app"
    assert (
        config.Config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:secret@db.example:5433/app"
    )


def test_config_reads_dotenv_file(tmp_path, monkeypatch):
    from database_use.settings import database_url

    (tmp_path / ".env").write_text("DATABASE_URL=postgres://a:b@h:5433/d\n")
    assert database_url(tmp_path) == "postgresql://a:b@h:5433/d"


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    from database_use.settings import database_url

    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://a:b@fromfile:5433/d\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://a:b@fromenv:5433/d")
    assert "fromenv" in database_url(tmp_path)


def test_testing_config_prefers_test_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@live:5433/app")
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://u:p@test:5433/app_test")
    config = _reload_config()
    assert config.TestingConfig.DATABASE_URL.endswith("@test:5433/app_test")
    assert config.TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")
    assert config.TestingConfig.WTF_CSRF_ENABLED is False
    assert config.Config.DATABASE_URL.endswith("@live:5433/app")


def test_missing_url_is_one_line_error_naming_the_variable():
    config = _reload_config()
    with pytest.raises(ConfigError) as info:
        config.Config.DATABASE_URL  # noqa: B018
    message = str(info.value)
    assert "DATABASE_URL" in message and "postgresql://" in message and "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:hunter2@h/db",
        "postgresql://u:hunter2@h:notaport/db",
        "postgresql://u:hunter2@:5433",
    ],
)
def test_malformed_url_masks_password(url):
    with pytest.raises(ConfigError) as info:
        validate_url(url, "DATABASE_URL")
    assert "hunter2" not in str(info.value)
    assert "DATABASE_URL" in str(info.value)


def test_mask_url_hides_passwords_in_any_text():
    text = "failed for postgresql://bob:s3cr3t@host:5433/db and password=s3cr3t"
    assert "s3cr3t" not in mask_url(text)
    assert "bob" in mask_url(text)


def test_readonly_connection_refuses_insert(example_db_url):
    from database_use.connection import db

    db.configure(example_db_url)
    with db.readonly_connection() as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(
                "INSERT INTO users (email, username, pw_hashed) VALUES ('a@b.c', 'a', 'x')"
            )
    with psycopg.connect(example_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_readonly_connection_has_statement_timeout(db_url):
    from database_use.connection import db

    db.configure(db_url)
    with (
        db.readonly_connection(statement_timeout_ms=200) as conn,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        conn.execute("SELECT pg_sleep(2)")


def test_wrong_password_is_clear_and_masked(pg_server, db_url):
    from database_use.connection import db

    bad = db_url.replace(db_url.split("://", 1)[1].split("@")[0], "postgres:wrongpass")
    db.configure(bad)
    with pytest.raises(ConnectionFailed) as info, db.connect():
        pass
    assert "wrongpass" not in str(info.value)
    assert "authentication failed" in str(info.value)


def test_server_down_is_clear():
    from database_use.connection import db

    db.configure("postgresql://u:pw@127.0.0.1:9/nope")
    with pytest.raises(ConnectionFailed) as info, db.connect():
        pass
    assert "127.0.0.1:9/nope" in str(info.value) and "pw" not in str(info.value).split("nope")[1]


def test_session_commits_through_shared_db(example_db_url):
    from sqlalchemy import text

    from database_use.connection import db

    db.configure(example_db_url)
    with db.session() as session:
        session.execute(
            text("INSERT INTO users (email, username, pw_hashed) VALUES ('x@y.z', 'x', 'h')")
        )
    with psycopg.connect(example_db_url) as conn:
        assert conn.execute("SELECT role::text, is_active FROM users").fetchone() == (
            "viewer",
            True,
        )


def test_example_models_create_and_reflect(db_url):
    from sqlalchemy import create_engine, inspect

    import models  # noqa: F401
    from database_use.settings import sqlalchemy_url
    from utils_db.database import db

    engine = create_engine(sqlalchemy_url(db_url))
    try:
        db.metadata.create_all(engine)
        insp = inspect(engine)
        assert set(insp.get_table_names()) >= {"users", "media"}
        fks = insp.get_foreign_keys("media")
        assert fks[0]["referred_table"] == "users" and fks[0]["options"]["ondelete"] == "CASCADE"
        assert {c["name"] for c in insp.get_check_constraints("media")} == {
            "ck_media_size_bytes_non_negative"
        }
        assert {tuple(u["column_names"]) for u in insp.get_unique_constraints("media")} == {
            ("owner_id", "path")
        }
        assert {e["name"] for e in insp.get_enums()} == {"user_role", "media_kind"}
        cols = {c["name"]: c for c in insp.get_columns("users")}
        assert cols["pw_hashed"]["comment"].startswith("argon2id")
        assert "now()" in cols["created_at"]["default"]
    finally:
        engine.dispose()


def test_importing_database_module_does_not_import_sqlalchemy():
    code = "import sys, database_use.connection; print('sqlalchemy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "False", out.stderr
