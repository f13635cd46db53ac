"""A project: the root where models/, .roo/, temp/, utils_db/ and .env are found.

Every service function takes a :class:`Project`, so one installed tool serves any project
with this layout, and tests point it at a temporary folder and a throwaway database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from database_use.config import ProjectConfig, is_project, load_config
from database_use.connection import DEFAULT_STATEMENT_TIMEOUT_MS, db
from database_use.errors import ConfigError
from database_use.settings import database_url as resolve_database_url
from database_use.settings import mask_url, validate_url, with_default_port

NOT_A_PROJECT = "not a database-use project: run `database-use init`"

if TYPE_CHECKING:  # pragma: no cover
    import psycopg


@dataclass
class Project:
    root: Path
    url_override: str | None = field(default=None, repr=False)
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    # Called with the URL before anything uses it (the MCP server's strict-mode refusal,
    # database_use.strict.refuse_if_required); None: no check (the CLI, doctor).
    guard: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    # -- layout (from [tool.database-use], see database_use.config) ---------------------
    @cached_property
    def config(self) -> ProjectConfig:
        return load_config(self.root)

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def docs_dir(self) -> Path:
        return self.doc_path.parent

    @property
    def doc_path(self) -> Path:
        return self.root / self.config.doc

    @property
    def changes_log_path(self) -> Path:
        return self.root / self.config.changelog

    @property
    def reports_dir(self) -> Path:
        return self.root / self.config.reports

    @property
    def changes_dir(self) -> Path:
        return self.root / ".roo" / "changes"

    @property
    def temp_dir(self) -> Path:
        return self.root / self.config.drafts

    @property
    def scripts_dir(self) -> Path:
        return self.root / self.config.scripts

    def facts(self) -> dict[str, Any]:
        """The project's facts for the agent; preferred utilities only where the file exists."""
        facts = self.config.facts()
        facts["preferred_utilities"] = [
            u for u in facts["preferred_utilities"] if (self.root / u).is_file()
        ]
        return facts

    # -- database -------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        """DATABASE_URL: the override, else the environment, else ``<root>/.env``."""
        if self.url_override:
            url = validate_url(self.url_override)
        else:
            url = resolve_database_url(self.root)
        url = with_default_port(url, self.config.default_port)
        if self.guard is not None:
            self.guard(url)
        return url

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
    project_root: str | Path | None = None,
    database_url: str | None = None,
    *,
    require: bool = False,
) -> Project:
    """The project at ``project_root`` (default: the current directory).

    With ``require``, a folder that is not a project (see :func:`database_use.config.is_project`)
    raises :class:`ConfigError` before anything reads ``.env`` or writes a file there.
    """
    root = (
        Path(project_root).expanduser().resolve() if project_root else Path(os.getcwd()).resolve()
    )
    if require and not is_project(root):
        where = "" if root == Path(os.getcwd()).resolve() else f" ({root})"
        raise ConfigError(NOT_A_PROJECT + where)
    return Project(root=root, url_override=database_url)
