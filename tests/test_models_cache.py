"""The models snapshot cache: used only while nothing that shaped the snapshot changed."""

from __future__ import annotations

import json

import pytest

from database_use.sources import models_cache
from database_use.sources.models import load_models


def _tables(snap):
    return {name: [c.name for c in t.columns] for name, t in snap.tables.items()}


def test_second_load_is_served_from_the_cache_and_equal(project):
    first = load_models(project)
    cache = models_cache.cache_path(project)
    assert cache.is_file()
    # Poison the file on disk only where a reload would not: prove the cache answered.
    data = json.loads(cache.read_text())
    data["snapshot"]["tables"][0]["comment"] = "served from cache"
    cache.write_text(json.dumps(data))
    second = load_models(project)
    assert second.structure()["tables"][0]["comment"] == "served from cache"
    assert _tables(second) == _tables(first)
    assert second.model_origins == first.model_origins


def test_editing_a_models_file_invalidates_the_cache(project):
    load_models(project)
    path = project / "models" / "models_user.py"
    path.write_text(
        path.read_text().replace(
            "    last_login_at:",
            "    nickname: Mapped[str | None] = mapped_column(String(40))\n    last_login_at:",
        )
    )
    assert "nickname" in _tables(load_models(project))["public.users"]


def test_a_new_models_file_invalidates_the_cache(project):
    load_models(project)
    (project / "models" / "models_tag.py").write_text(
        "from sqlalchemy import Integer\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from utils_db.database import db\n\n\n"
        "class Tag(db.Model):\n"
        "    __tablename__ = 'tags'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
    )
    assert "public.tags" in load_models(project).tables


def test_editing_a_project_module_the_models_import_invalidates_the_cache(project):
    (project / "app_limits.py").write_text("EMAIL_LENGTH = 255\n")
    path = project / "models" / "models_user.py"
    text = path.read_text().replace("String(255), unique=True", "String(EMAIL_LENGTH), unique=True")
    text = text.replace(
        "from utils_db.database import db",
        "from app_limits import EMAIL_LENGTH\nfrom utils_db.database import db",
    )
    path.write_text(text)
    assert (
        load_models(project).tables["public.users"].column("email").type == "character varying(255)"
    )
    (project / "app_limits.py").write_text("EMAIL_LENGTH = 320\n")
    assert (
        load_models(project).tables["public.users"].column("email").type == "character varying(320)"
    )


@pytest.mark.parametrize("garbage", ["", "{not json", json.dumps({"key": 1})])
def test_a_corrupt_cache_is_ignored(project, garbage):
    expected = _tables(load_models(project))
    models_cache.cache_path(project).write_text(garbage)
    assert _tables(load_models(project)) == expected


def test_cache_can_be_switched_off(project, monkeypatch):
    monkeypatch.setenv("DATABASE_USE_MODELS_CACHE", "0")
    load_models(project)
    assert not models_cache.cache_path(project).exists()
