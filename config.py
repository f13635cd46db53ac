"""App configuration, as the database-use skill expects it.

``Config`` reads ``.env`` (python-dotenv) and exposes ``DATABASE_URL`` and
``SQLALCHEMY_DATABASE_URI``; ``TestingConfig`` uses ``TEST_DATABASE_URL`` when set and
disables CSRF for tests. URLs are validated lazily so importing this module never fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from database_use.settings import load_dotenv_file, sqlalchemy_url, validate_url

load_dotenv_file(Path(__file__).resolve().parent)


class _URLProperty:
    """Resolves and validates a URL from the environment at attribute access time."""

    def __init__(self, *variables: str, sqlalchemy: bool = False) -> None:
        self.variables = variables
        self.sqlalchemy = sqlalchemy

    def __get__(self, obj, owner) -> str:
        for variable in self.variables:
            value = os.environ.get(variable)
            if value:
                url = validate_url(value, variable)
                return sqlalchemy_url(url) if self.sqlalchemy else url
        return validate_url(None, self.variables[-1])


class Config:
    """Base configuration: the app database from DATABASE_URL."""

    DATABASE_URL = _URLProperty("DATABASE_URL")
    SQLALCHEMY_DATABASE_URI = _URLProperty("DATABASE_URL", sqlalchemy=True)
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_ENABLED = True


class TestingConfig(Config):
    """Tests: TEST_DATABASE_URL when set (else DATABASE_URL), CSRF off."""

    TESTING = True
    DATABASE_URL = _URLProperty("TEST_DATABASE_URL", "DATABASE_URL")
    SQLALCHEMY_DATABASE_URI = _URLProperty("TEST_DATABASE_URL", "DATABASE_URL", sqlalchemy=True)
    WTF_CSRF_ENABLED = False
