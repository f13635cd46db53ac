"""The models snapshot cache: used only while nothing that shaped the snapshot changed."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from database_use.errors import NotFound
from database_use.sources import models, models_cache
from database_use.sources.models import load_models, loading_ahead


def _tables(snap):
    return {name: [c.name for c in t.columns] for name, t in snap.tables.items()}


def test_second_load_is_served_from_the_cache_and_equal(project):
    first = load_models(project)
    cache = models_cache.cache_path(project)
    assert cache.is_file()
    # Poison the file on disk only where a reload would not: prove the cache answered.
    header, snapshot = cache.read_text().split("\n", 1)
    data = json.loads(snapshot)
    data["tables"][0]["comment"] = "served from cache"
    cache.write_text(header + "\n" + json.dumps(data))
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


# -- a load begun ahead (the CLI's compare starts the child before the live read) --------------


def _snapshot_json(snap) -> str:
    return json.dumps(snap.to_dict(), sort_keys=True)


def test_a_load_begun_ahead_gives_the_same_answer_and_cache(project, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project, other)
    plain = load_models(other)
    with loading_ahead(project):
        assert (project.resolve(), True) in models._AHEAD  # started before anyone asked
        ahead = load_models(project)
        assert not models._AHEAD  # collected, not kept
    assert ahead.loaded_in == plain.loaded_in == "sandbox"
    assert _snapshot_json(ahead) == _snapshot_json(plain)
    assert ahead.model_origins == plain.model_origins
    # the cache it wrote (from the child's own dict) serves the same snapshot
    assert _snapshot_json(load_models(project)) == _snapshot_json(plain)
    assert load_models(project).loaded_in == "cache"


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line names ``text`` (zombies have none), after letting
    the ones just killed go (bounded: at most 5 s)."""
    for _ in range(50):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if text.encode() in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    continue
        if not found:
            break
        time.sleep(0.1)
    return found


def test_a_load_begun_ahead_and_never_collected_is_stopped(project):
    with loading_ahead(project):
        running = models._AHEAD[(project.resolve(), True)]
        child = running.child.proc
    assert child.poll() is not None  # stopped on the way out, not left running
    # nor anything it started (bubblewrap's inner process, the interpreter)
    assert _processes_mentioning(str(project)) == []
    assert not models._AHEAD
    assert not models_cache.cache_path(project).exists()  # and nothing half-written


def test_nothing_is_begun_for_a_caller_that_needs_no_models(project):
    with loading_ahead(project, wanted=False):
        assert not models._AHEAD
    assert not models_cache.cache_path(project).exists()


def test_a_load_that_cannot_start_ahead_raises_in_its_turn(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    # no models files: entering raises nothing, the load inside raises as without it
    with loading_ahead(empty), pytest.raises(NotFound, match="no models/models_"):
        load_models(empty)


# -- a package upgrade, in the layout users have: the venv inside the project root -------------

THIRDPARTY_MODELS = """import json
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

LENGTHS = json.loads(resources.files(__package__).joinpath("lengths.json").read_text())


class Base(DeclarativeBase):
    pass


class Widget(Base):
    __tablename__ = "widgets"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(LENGTHS["name"]))
{extra}"""

LOAD = """import sys
from database_use.sources.models import load_models

snap = load_models(sys.argv[1])
widgets = snap.tables["public.widgets"]
print(getattr(snap, "loaded_in", "?"), *(f"{c.name}:{c.type}" for c in widgets.columns))
"""


def _release(where: Path, version: str, extra: str = "", name_length: int = 40) -> Path:
    """A wheel of one release of a third-party package that ships declarative models (built
    by hand, a wheel being a zip with a dist-info; pip installs and upgrades it for real)."""
    files = {
        "thirdparty_models/__init__.py": THIRDPARTY_MODELS.format(extra=extra),
        "thirdparty_models/lengths.json": json.dumps({"name": name_length}),
    }
    info = f"thirdparty_models-{version}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: thirdparty-models\nVersion: {version}\n"
    )
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for name, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{name},sha256={b64},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = where / f"thirdparty_models-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def _project_venv(project_root: Path) -> Path:
    """``<project>/.venv`` (what ``make install`` creates) that sees the tool's own packages."""
    venv = project_root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site_dir,) = (venv / "lib").glob("python*/site-packages")
    line = "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages())
    (site_dir / "_the_tool.pth").write_text(f"import site; {line}\n")
    return venv / "bin" / "python"


def _install(python: Path, source: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        check=True,
        capture_output=True,
    )


def _load(python: Path, root: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", LOAD, str(root)], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def test_a_package_upgrade_changes_the_answer(project, tmp_path):
    (project / "models" / "models_thirdparty.py").write_text(
        "from thirdparty_models import Base  # noqa: F401\n"
    )
    python = _project_venv(project)
    _install(python, _release(tmp_path, "1.0"))
    first = _load(python, project)
    assert first == "sandbox id:integer name:character varying(40)"
    assert _load(python, project) == "cache " + first.split(" ", 1)[1]  # a warm hit
    # 2.0 adds a column
    _install(python, _release(tmp_path, "2.0", "    color = sa.Column(sa.Text)\n"))
    upgraded = _load(python, project)
    assert upgraded == "sandbox id:integer name:character varying(40) color:text"
    assert _load(python, project).startswith("cache ")
    # 2.1 changes no module at all, only a data file the models read at import time
    _install(python, _release(tmp_path, "2.1", "    color = sa.Column(sa.Text)\n", 80))
    assert _load(python, project) == "sandbox id:integer name:character varying(80) color:text"


def test_a_load_ahead_is_seen_running_until_it_is_collected(project):
    """While a models child runs beside it, the live read keeps to one session (the child
    needs the other core); the flag is down again once the load is collected or stopped."""
    from database_use import service
    from database_use.sources import models

    (project / "models" / "models_slow.py").write_text("import time\ntime.sleep(1.5)\n")
    assert not models.running_ahead() and not service._models_loading()
    with loading_ahead(project, use_cache=False):
        assert models.running_ahead() and service._models_loading()
        snap = load_models(project, use_cache=False)
        assert not models.running_ahead()
    assert "public.users" in snap.tables
    with loading_ahead(project, use_cache=False):
        assert models.running_ahead()
    assert not models.running_ahead()  # nobody collected it: stopped on the way out
