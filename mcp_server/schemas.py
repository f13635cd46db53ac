"""Pydantic return models of the schema tools: they become the tools' output schemas.

They mirror the dicts ``utils_db/service.py`` returns (the same data the CLI prints with
``--format json``). Models accept extra keys, so a field the service adds later reaches
the client instead of failing output validation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from database_use.compare import OBJECT_KINDS
from database_use.schema import LISTED_KINDS

Side = Literal["db", "models", "doc"]
ObjectKind = Literal[OBJECT_KINDS]  # type: ignore[valid-type]
IntrospectKind = Literal[LISTED_KINDS]  # type: ignore[valid-type]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Difference(_Open):
    """One difference between two schema sources (the engine's record contract)."""

    object: str = Field(description=" | ".join(OBJECT_KINDS))
    table: str | None = Field(
        None, description="schema-qualified table, e.g. public.users (null for enums)"
    )
    name: str | None = Field(None, description="column / constraint / index / enum name")
    status: str = Field(
        description="missing_in_db | missing_in_models | missing_in_doc | different"
    )
    attribute: str | None = Field(
        None, description="what differs (for status 'different'): type, nullable, default, ..."
    )
    values: dict[str, Any] = Field(default_factory=dict, description="what each side holds")
    authority: str | None = Field(None, description="the side that wins: live db > models > doc")
    fix: str | None = Field(None, description="one line: what to change where")
    hint: str | None = Field(None, description="extra advice, e.g. a possible rename")


class CompareResult(_Open):
    left: str
    right: str
    count: int | None = Field(None, description="differences matching the filters (all pages)")
    total: int | None = Field(None, description="differences before the filters")
    differences: list[Difference] = Field(description="empty when the two sources agree")
    not_modelled: list[dict[str, Any]] | None = Field(
        None,
        description="models on one side: per kind, what models cannot declare (triggers, "
        "functions, ...); information, not drift",
    )
    offset: int | None = None
    returned: int | None = None
    truncated: bool | None = None
    next_offset: int | None = None
    note: str | None = Field(None, description="what was cut and how to get the rest")


class GenerateDocsResult(_Open):
    path: str = Field(
        description="the doc written, relative to the project root (.roo/docs/database_schema.md)"
    )
    changed: bool = Field(
        description="false when the doc was already current (file left untouched)"
    )
    schema_hash: str | None = Field(
        None, description="hash of the live schema, also in the doc header"
    )
    tables: int | None = Field(None, description="number of tables documented")
    enums: int | None = Field(None, description="number of enum types documented")


class ValidateResult(_Open):
    ok: bool = Field(description="true when the doc is exactly what generate_docs would write now")
    differences: list[Difference] = Field(
        default_factory=list, description="live db vs doc; empty when ok"
    )
    schema_hash: str | None = Field(None, description="hash of the live schema")
    doc_hash: str | None = Field(
        None, description="schema hash of the doc's content (null when missing)"
    )
    warnings: list[str] = Field(
        default_factory=list, description="e.g. a schema change nobody logged"
    )
    doc_path: str | None = Field(None, description="the doc checked, relative to the project root")
    message: str | None = Field(None, description="one line: the verdict and what to do")
    note: str | None = Field(None, description="set when the differences were cut")
    ledger: dict[str, Any] | None = Field(
        None,
        description="strict mode only: does the change log agree with the database's ledger "
        "of applied changes (problems: entries missing, altered or not in the ledger)",
    )


class ComparisonSummary(_Open):
    left: str
    right: str
    count: int | None = Field(None, description="differences found (null when a source failed)")
    error: str | None = Field(None, description="why this comparison could not run")


class ReportSummary(_Open):
    ok: bool | None = Field(None, description="true when all three comparisons are clean")
    total_differences: int | None = None
    errors: int | None = Field(None, description="comparisons that could not run")
    comparisons: list[ComparisonSummary] = Field(default_factory=list)


class ReportResult(_Open):
    json_path: str = Field(
        description="the JSON report, relative to the project root (.roo/reports/)"
    )
    markdown_path: str = Field(description="the Markdown report, relative to the project root")
    latest_json: str | None = Field(None, description="copy of the newest JSON report")
    latest_markdown: str | None = Field(None, description="copy of the newest Markdown report")
    summary: ReportSummary = Field(
        description="counts per comparison (db↔models, models↔doc, db↔doc)"
    )


class LogChangeResult(_Open):
    path: str = Field(
        description="the change log, relative to the project root (.roo/docs/pgdb_changes.md)"
    )
    created: bool | None = Field(None, description="true when this entry created the file")
    logged_at: str | None = Field(None, description="UTC time written in the entry heading")
    schema_hash_after: str | None = Field(
        None, description="live schema hash recorded with the entry"
    )
    note: str | None = Field(None, description="e.g. why the schema hash was not recorded")
    entry: str | None = Field(None, description="the Markdown entry appended")


# -- introspect ------------------------------------------------------------------------


class TableLine(_Open):
    name: str = Field(description="schema-qualified table name")
    summary: str = Field(description="columns with type and PK/NN/UQ/FK markers, row estimate")


class EnumLabels(_Open):
    name: str
    labels: list[str]


class ColumnInfo(_Open):
    name: str
    type: str = Field(description="canonical PostgreSQL type")
    nullable: bool = True
    default: str | None = None
    identity: str | None = Field(None, description="always | by default")
    generated: str | None = None
    comment: str | None = None
    position: int | None = None


class PrimaryKeyInfo(_Open):
    columns: list[str]
    name: str | None = None


class ForeignKeyInfo(_Open):
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    name: str | None = None
    on_delete: str | None = None
    on_update: str | None = None


class IndexInfo(_Open):
    columns: list[str]
    name: str | None = None
    unique: bool = False
    method: str | None = None
    where: str | None = None


class UniqueInfo(_Open):
    columns: list[str]
    name: str | None = None


class CheckInfo(_Open):
    expression: str
    name: str | None = None


class TableDetail(_Open):
    schema_: str = Field(alias="schema", description="PostgreSQL schema")
    name: str
    kind: str = Field(
        "table", description="table | partitioned table | view | materialized view | foreign table"
    )
    columns: list[ColumnInfo] = Field(default_factory=list)
    primary_key: PrimaryKeyInfo | None = None
    foreign_keys: list[ForeignKeyInfo] = Field(default_factory=list)
    indexes: list[IndexInfo] = Field(default_factory=list)
    unique_constraints: list[UniqueInfo] = Field(default_factory=list)
    check_constraints: list[CheckInfo] = Field(default_factory=list)
    comment: str | None = None
    definition: str | None = Field(None, description="view definition")
    estimated_rows: int | None = None
    size_bytes: int | None = None


class Reference(_Open):
    table: str = Field(description="the referencing table")
    columns: list[str]
    ref_columns: list[str]
    name: str | None = None
    on_delete: str | None = None


class IntrospectResult(_Open):
    """The overview (one line per table, paged), one kind's objects (``kind``), or one table
    (``table``) or object (``object``) in full."""

    tier: str | None = Field(
        None, description="this setup's safety tier (T1/T2/T3); tell the person"
    )
    schema_hash: str | None = Field(None, description="hash of the live schema's structure")
    server_version: str | None = None
    # overview
    schemas: list[str] | None = None
    table_count: int | None = Field(None, description="tables in scope (all pages)")
    enum_count: int | None = None
    counts: dict[str, int] | None = Field(None, description="objects of the other kinds")
    offset: int | None = None
    returned: int | None = Field(None, description="tables in this page")
    truncated: bool | None = Field(
        None, description="true when more tables follow: ask again with next_offset"
    )
    next_offset: int | None = None
    tables: list[TableLine] | None = None
    note: str | None = Field(None, description="what this page holds and how to ask for more")
    # overview: [{name, labels}]; one table: {enum name: labels} of the enums its columns use
    enums: list[EnumLabels] | dict[str, list[str]] | None = None
    # one table (table=...)
    table: TableDetail | None = None
    referenced_by: list[Reference] | None = Field(
        None, description="foreign keys pointing at this table"
    )
    partitions: list[dict[str, Any]] | None = None
    # one kind (kind=...): [{name, summary}]; one object (object=...): kind, name, object
    kind: str | None = None
    count: int | None = None
    objects: list[TableLine] | None = None
    name: str | None = None
    object: dict[str, Any] | None = None
