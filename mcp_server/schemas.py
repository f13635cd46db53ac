"""Pydantic return models of the schema tools: they become the tools' output schemas.

They mirror the dicts ``utils_db/service.py`` returns (the same data the CLI prints with
``--format json``). Models accept extra keys, so a field the service adds later reaches
the client instead of failing output validation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["db", "models", "doc"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Difference(_Open):
    """One difference between two schema sources (the engine's record contract)."""

    object: str = Field(description="table | column | primary_key | foreign_key | index | "
                        "unique_constraint | check_constraint | enum | view")
    table: str | None = Field(None, description="schema-qualified table, e.g. public.users (null for enums)")
    name: str | None = Field(None, description="column / constraint / index / enum name")
    status: str = Field(description="missing_in_db | missing_in_models | missing_in_doc | different")
    attribute: str | None = Field(None, description="what differs (for status 'different'): type, nullable, default, ...")
    values: dict[str, Any] = Field(default_factory=dict, description="what each side holds")
    authority: str | None = Field(None, description="the side that wins: live db > models > doc")
    fix: str | None = Field(None, description="one line: what to change where")
    hint: str | None = Field(None, description="extra advice, e.g. a possible rename")


class CompareResult(_Open):
    left: str = Field(description="left source: db | models | doc")
    right: str = Field(description="right source: db | models | doc")
    differences: list[Difference] = Field(description="empty when the two sources agree")


class GenerateDocsResult(_Open):
    path: str = Field(description="the doc file written (.roo/docs/database_schema.md)")
    changed: bool = Field(description="false when the doc was already current (file left untouched)")
    schema_hash: str | None = Field(None, description="hash of the live schema, also in the doc header")
    tables: int | None = Field(None, description="number of tables documented")


class ValidateResult(_Open):
    ok: bool = Field(description="true when the doc matches the live database")
    differences: list[Difference] = Field(default_factory=list, description="live db vs doc; empty when ok")
    schema_hash: str | None = Field(None, description="hash of the live schema")
    doc_hash: str | None = Field(None, description="hash recorded in the doc header")
    warnings: list[str] = Field(default_factory=list, description="e.g. schema changes nobody logged")


class ReportResult(_Open):
    json_path: str = Field(description="the JSON report under .roo/reports/")
    markdown_path: str = Field(description="the Markdown report under .roo/reports/")
    summary: dict[str, Any] = Field(default_factory=dict, description="counts per comparison")


class LogChangeResult(_Open):
    path: str | None = Field(None, description="the change log (.roo/docs/pgdb_changes.md)")


class IntrospectResult(_Open):
    """The overview (one entry per table) or, with ``table``, that table in full detail."""
