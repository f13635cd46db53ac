"""The repo's own .roo/ folder stays true to the example models."""

from __future__ import annotations

import json

from database_use import service
from database_use.project import Project
from tests.conftest import REPO_ROOT


def test_committed_schema_doc_is_what_generate_docs_writes(example_db_url, project):
    """The example schema (built by create_all from models/) renders to the committed doc."""
    fresh = Project(root=project, url_override=example_db_url)
    service.generate_docs(fresh)
    committed = (REPO_ROOT / ".roo" / "docs" / "database_schema.md").read_bytes()
    assert (project / ".roo" / "docs" / "database_schema.md").read_bytes() == committed


def test_committed_change_log_parses_and_names_the_example_schema_hash(example_db_url, project):
    log = (REPO_ROOT / ".roo" / "docs" / "pgdb_changes.md").read_text()
    (project / ".roo" / "docs" / "pgdb_changes.md").write_text(log)
    fresh = Project(root=project, url_override=example_db_url)
    assert service.last_logged_schema_hash(fresh) == service.introspect(fresh)["schema_hash"]


def test_repo_client_configs_are_valid_json_without_secrets():
    for path in (REPO_ROOT / ".roo" / "mcp.json", REPO_ROOT / ".mcp.json"):
        text = path.read_text()
        config = json.loads(text)
        assert "database-use" in config["mcpServers"]
        assert "DATABASE_URL" not in text and "password" not in text.lower()
