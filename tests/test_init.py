"""`database-use init` on three model styles (Flask-SQLAlchemy, a DeclarativeBase of the
project's own, SQLModel): it adopts the project without touching what the user wrote, is
idempotent, and afterwards the models and a database built from them show zero differences."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from database_use.settings import sqlalchemy_url

CLI = [sys.executable, "-m", "database_use"]

STYLES = {
    "flask-sqlalchemy": (
        {
            "models/models_app.py": """
                from flask_sqlalchemy import SQLAlchemy

                db = SQLAlchemy()


                class User(db.Model):
                    __tablename__ = "users"
                    id = db.Column(db.Integer, primary_key=True)
                    email = db.Column(db.String(120), nullable=False, unique=True)
                    posts = db.relationship("Post", back_populates="author")


                class Post(db.Model):
                    __tablename__ = "posts"
                    id = db.Column(db.Integer, primary_key=True)
                    author_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
                    title = db.Column(db.Text, nullable=False, server_default="untitled")
                    author = db.relationship("User", back_populates="posts")
            """,
        },
        "models.models_app.db.metadata",
    ),
    "declarative-base": (
        {
            "models/base.py": """
                from sqlalchemy.orm import DeclarativeBase


                class Base(DeclarativeBase):
                    pass
            """,
            "models/models_shop.py": """
                from sqlalchemy import ForeignKey, Numeric, String
                from sqlalchemy.orm import Mapped, mapped_column

                from models.base import Base


                class Customer(Base):
                    __tablename__ = "customers"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    name: Mapped[str] = mapped_column(String(80))
                    note: Mapped[str | None]


                class Order(Base):
                    __tablename__ = "orders"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
                    total: Mapped[float] = mapped_column(Numeric(10, 2))
            """,
        },
        "models.base.Base.metadata",
    ),
    "sqlmodel": (
        {
            "models/models_heroes.py": """
                from sqlmodel import Field, SQLModel


                class Team(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    name: str = Field(index=True)


                class Hero(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    name: str
                    age: int | None = None
                    team_id: int | None = Field(default=None, foreign_key="team.id")
            """,
        },
        "sqlmodel.SQLModel.metadata",
    ),
}


def run(*args: str, cwd: Path, url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def create_all(root: Path, metadata: str, url: str) -> None:
    """What the app itself would do: import its models and run create_all (own interpreter)."""
    package, attrs = metadata.split(".", 1)
    code = (
        "import glob, importlib, operator, sys; sys.path.insert(0, '.')\n"
        "for p in sorted(glob.glob('models/models_*.py')):\n"
        "    importlib.import_module('models.' + p[7:-3])\n"
        f"md = operator.attrgetter({attrs!r})(importlib.import_module({package!r}))\n"
        "from sqlalchemy import create_engine\n"
        f"md.create_all(create_engine({sqlalchemy_url(url)!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("style", list(STYLES))
def test_init_then_zero_differences(style: str, tmp_path: Path, db_url: str) -> None:
    files, metadata = STYLES[style]
    root = tmp_path / style
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    pyproject = '[project]\nname = "app"\nversion = "1"\n'
    (root / "pyproject.toml").write_text(pyproject)
    (root / ".gitignore").write_text("__pycache__/\n.roo/cache/\n")

    first = run("init", cwd=root)
    assert first.returncode == 0, first.stderr
    assert re.search(r"appended\s+pyproject.toml:", first.stdout)
    assert re.search(r"created\s+temp:", first.stdout)
    text = (root / "pyproject.toml").read_text()
    assert text.startswith(pyproject)  # the user's part is untouched
    assert text.count("[tool.database-use]") == 1
    ignore = (root / ".gitignore").read_text().splitlines()
    assert ignore[:2] == ["__pycache__/", ".roo/cache/"]
    assert ignore.count(".roo/cache/") == 1  # not repeated
    for line in (".roo/approvals/", ".roo/script_requests/", ".roo/changes/", ".roo/reports/"):
        assert line in ignore
    assert (root / ".roo" / "docs").is_dir() and (root / "temp").is_dir()

    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = run("init", cwd=root)
    assert second.returncode == 0 and "appended" not in second.stdout
    assert "created" not in second.stdout and second.stdout.count("left alone") == 4
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot

    create_all(root, metadata, db_url)
    compared = run("compare-db-models", cwd=root, url=db_url)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "no differences" in compared.stdout
    docs = run("generate-docs", cwd=root, url=db_url)
    assert docs.returncode == 0, docs.stderr
    assert run("validate", cwd=root, url=db_url).returncode == 0


def test_init_leaves_a_users_config_and_files_alone(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "temp").mkdir(parents=True)
    own = '[tool.database-use]\ndrafts = "scratch"\n'
    (root / "pyproject.toml").write_text(own)
    (root / ".gitignore").write_text("x")  # no final newline
    done = run("init", "--dry-run", cwd=root)
    assert done.returncode == 0 and re.search(r"would create\s+scratch:", done.stdout)
    assert not (root / "scratch").exists() and (root / ".gitignore").read_text() == "x"
    done = run("init", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "pyproject.toml").read_text() == own
    assert (root / "scratch").is_dir()
    assert (root / ".gitignore").read_text().splitlines()[0] == "x"
    assert "note: no models match" in done.stdout
    (root / "pyproject.toml").write_text("[tool.database-use]\nsandbox = false\n")
    bad = run("init", cwd=root)
    assert bad.returncode == 2 and "unknown key 'sandbox'" in bad.stderr
    assert bad.stderr.count("\n") == 1
    missing = run("init", "--project-root", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_init_installs_the_skill_and_registers_on_request(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    done = run("init", "--skill", "--register", "claude-code", "--register", "vscode", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / ".claude" / "skills" / "database-use" / "SKILL.md").is_file()
    assert '"servers"' in (root / ".vscode" / "mcp.json").read_text()
    assert "database-use-mcp" in (root / ".mcp.json").read_text()
    again = run("init", "--skill", "--register", "claude-code", cwd=root)
    assert again.returncode == 0 and "already up to date" in again.stdout
    assert "claude-code: unchanged" in again.stdout
