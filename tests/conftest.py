"""Test harness: one PostgreSQL per session, a fresh throwaway database per test.

The server is ``TEST_DATABASE_URL``'s when set (its role needs CREATEDB), otherwise an
embedded throwaway cluster (see ``utils_db/embedded_pg.py``) that is always stopped.
Each test's database is cloned from a template — empty, or holding the example app's
schema — which is fast. Tests never see the developer's ``DATABASE_URL``: it is removed
from the environment and every test runs in its own temporary working directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from database_use.settings import validate_url
from tests import isolation

REPO_ROOT = Path(__file__).resolve().parent.parent
try:  # before anything starts a thread: see tests/isolation.py
    _PERSON_CONFIG = isolation.isolate_session(Path(tempfile.mkdtemp(prefix="dbuse-config-")))
except OSError as exc:
    pytest.exit(
        f"cannot hide the real ~/.config/database-use from the tests ({exc}); the tests need "
        "a mount namespace (run as root, or allow unprivileged user namespaces)",
        returncode=4,
    )
_DEVELOPER_TEST_URL = os.environ.pop("TEST_DATABASE_URL", None)
os.environ.pop("DATABASE_URL", None)


class PgServer:
    """The session's server: an admin URL and helpers to create/drop throwaway databases."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.tag = uuid.uuid4().hex[:8]
        with psycopg.connect(admin_url, autocommit=True) as conn:
            self.version = conn.info.server_version

    def url_for(self, dbname: str) -> str:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(self.admin_url)
        params["dbname"] = dbname
        info = make_conninfo(**params)
        # Back to URL form so every part of the code sees the documented shape.
        parts = {k: v for k, v in conninfo_to_dict(info).items()}
        from urllib.parse import quote

        auth = quote(parts.get("user", ""), safe="")
        if parts.get("password"):
            auth += ":" + quote(parts["password"], safe="")
        host = parts.get("host", "127.0.0.1")
        port = parts.get("port", "5432")
        return f"postgresql://{auth}@{host}:{port}/{dbname}"

    def execute(self, statement: sql.Composable | str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
            if self.version >= 150000:
                stmt = sql.SQL("{} STRATEGY FILE_COPY").format(stmt)
        self.execute(stmt)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        force = sql.SQL(" WITH (FORCE)") if self.version >= 130000 else sql.SQL("")
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if _DEVELOPER_TEST_URL:
        yield PgServer(validate_url(_DEVELOPER_TEST_URL, "TEST_DATABASE_URL"))
        return
    from database_use.dev.embedded_pg import EmbeddedPostgres

    with EmbeddedPostgres() as server:
        yield PgServer(server.url)


def _create_example_schema(url: str) -> None:
    from sqlalchemy import create_engine

    import models  # noqa: F401 - registers the example tables on db.metadata
    from database_use.settings import sqlalchemy_url
    from utils_db.database import db

    engine = create_engine(sqlalchemy_url(url))
    try:
        db.metadata.create_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_templates(pg_server: PgServer) -> Iterator[dict[str, str]]:
    names = {
        "empty": f"dbuse_tpl_empty_{pg_server.tag}",
        "example": f"dbuse_tpl_example_{pg_server.tag}",
    }
    pg_server.create_database(names["empty"])
    example_url = pg_server.create_database(names["example"])
    _create_example_schema(example_url)
    try:
        yield names
    finally:
        for name in names.values():
            pg_server.drop_database(name)


@pytest.fixture
def make_database(pg_server: PgServer, pg_templates: dict[str, str]):
    """Factory: ``make_database("empty"|"example")`` → URL of a new throwaway database."""
    created: list[str] = []

    def make(template: str = "empty") -> str:
        name = f"dbuse_t_{pg_server.tag}_{uuid.uuid4().hex[:10]}"
        url = pg_server.create_database(name, pg_templates[template])
        created.append(name)
        return url

    yield make
    for name in created:
        pg_server.drop_database(name)


@pytest.fixture
def db_url(make_database) -> str:
    """A fresh, empty database."""
    return make_database("empty")


@pytest.fixture
def example_db_url(make_database) -> str:
    """A fresh database holding the example app's schema (users, media)."""
    return make_database("example")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root laid out like this repo: models/, .roo/, temp/, utils_db/ (scripts)."""
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    for path in (REPO_ROOT / "models").glob("*.py"):
        shutil.copy(path, root / "models" / path.name)
    for sub in (".roo/docs", ".roo/reports", ".roo/changes", "temp", "utils_db"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in ("__init__.py", "database.py"):  # the app's own db, as the models import it
        shutil.copy(REPO_ROOT / "utils_db" / name, root / "utils_db" / name)
    return root


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's DATABASE_URL or the repo's .env; each runs in its tmp dir."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    # A private HOME: installed skills and client configs never land in the real one.
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # The person's config (approver key, policy, HTTP token) follows the passwd home, not
    # HOME: this test's own folder is mounted there, for it and every process it starts.
    isolation.bind(home / ".config" / "database-use", _PERSON_CONFIG)
    monkeypatch.delenv("DATABASE_USE_APPROVAL_TTL", raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir(exist_ok=True)
    monkeypatch.chdir(workdir)
    from database_use.connection import db

    db.configure(url=None, project_root=workdir)
    try:
        yield
    finally:
        db.dispose()
        isolation.unbind(_PERSON_CONFIG)


@pytest.fixture
def private_home(tmp_path: Path) -> Path:
    """The HOME every test runs with (set by the autouse fixture below)."""
    return tmp_path / "home"


@pytest.fixture
def proj(project: Path, example_db_url: str):
    """A Project on the ``project`` folder and a fresh database with the example schema."""
    from database_use.project import Project

    return Project(root=project, url_override=example_db_url)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
