"""``.env`` is a project file an agent can write: the tool takes database URLs from it and
nothing else (DESIGN's threat model, T2). The example app's own ``config.py`` still loads the
whole file, as apps do."""

from __future__ import annotations

import os

import pytest

from database_use.errors import ConfigError
from database_use.settings import database_url

HOSTILE = {
    "LD_PRELOAD": "/tmp/agent-evil.so",
    "PYTHONPATH": "/tmp/agent-code",
    "DATABASE_USE_DEBUG": "1",
    "DATABASE_USE_MODELS_CACHE": "off",
    "PGOPTIONS": "-c default_transaction_read_only=off",
    "LANG": "agent",
}


@pytest.fixture
def env_file(tmp_path):
    saved = dict(os.environ)  # loading .env sets variables: put the environment back after
    for name in (*HOSTILE, "DATABASE_URL", "DATABASE_READONLY_URL", "STAGING_DATABASE_URL"):
        os.environ.pop(name, None)
    lines = [f"{k}={v}" for k, v in HOSTILE.items()]
    lines += [
        "DATABASE_URL=postgresql://app:pw@localhost:5433/app",
        "DATABASE_READONLY_URL=postgresql://ro:pw@localhost:5433/app",
        "STAGING_DATABASE_URL=postgresql://app:pw@staging:5433/app",
        "STAGING_NOTE=not-a-url",
    ]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def test_the_tool_takes_only_urls_from_dotenv(env_file):
    assert database_url(env_file) == "postgresql://app:pw@localhost:5433/app"
    assert os.environ["DATABASE_READONLY_URL"].startswith("postgresql://ro:")
    leaked = {name for name in HOSTILE if name in os.environ and os.environ[name] == HOSTILE[name]}
    assert leaked == set()
    assert "STAGING_DATABASE_URL" not in os.environ


def test_a_url_variable_named_on_purpose_is_taken(env_file):
    assert database_url(env_file, "STAGING_DATABASE_URL").startswith("postgresql://app:")
    # a name that is not a URL variable is not loaded, even when asked for
    with pytest.raises(ConfigError):
        database_url(env_file, "STAGING_NOTE")
    assert "STAGING_NOTE" not in os.environ
    assert "LD_PRELOAD" not in os.environ or os.environ["LD_PRELOAD"] != HOSTILE["LD_PRELOAD"]
