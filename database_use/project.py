"""A project: the root where models/, .roo/, temp/, utils_db/ and .env are found.

Every service function takes a :class:`Project`, so one installed tool serves any project
with this layout, and tests point it at a temporary folder and a throwaway database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from database_use.connection import DEFAULT_STATEMENT_TIMEOUT_MS, db
from database_use.settings import database_url as resolve_database_url
from database_use.settings import mask_url, validate_url

if TYPE_CHECKING:  # pragma: no cover
    import psycopg


@dataclass
class Project:
    root: Path
    url_override: str | None = field(default=None, repr=False)
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS

    # -- layout ---------------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def docs_dir(self) -> Path:
        return self.root / ".roo" / "docs"

    @property
    def doc_path(self) -> Path:
        return self.docs_dir / "database_schema.md"

    @property
    def changes_log_path(self) -> Path:
        return self.docs_dir / "pgdb_changes.md"

    @property
    def reports_dir(self) -> Path:
        return self.root / ".roo" / "reports"

    @property
    def changes_dir(self) -> Path:
        return self.root / ".roo" / "changes"

    @property
    def temp_dir(self) -> Path:
        return self.root / "temp"

    @property
    def scripts_dir(self) -> Path:
        return self.root / "utils_db"

    # -- database -------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        """DATABASE_URL: the override, else the environment, else ``<root>/.env``."""
        if self.url_override:
            return validate_url(self.url_override)
        return resolve_database_url(self.root)

    @property
    def masked_url(self) -> str:
        return mask_url(self.database_url)

    @contextmanager
    def connect(
        self,
        *,
        readonly: bool = True,
        statement_timeout_ms: int | None = None,
        autocommit: bool = False,
    ) -> Iterator[psycopg.Connection]:
        """A psycopg connection to the project's database, read-only unless asked otherwise."""
        with db.connect(
            url=self.database_url,
            readonly=readonly,
            statement_timeout_ms=statement_timeout_ms or self.statement_timeout_ms,
            autocommit=autocommit,
        ) as conn:
            yield conn


def open_project(
    project_root: str | Path | None = None, database_url: str | None = None
) -> Project:
    """The project at ``project_root`` (default: the current directory)."""
    root = (
        Path(project_root).expanduser().resolve() if project_root else Path(os.getcwd()).resolve()
    )
    return Project(root=root, url_override=database_url)
