"""The diff of two snapshots (``diff``: tables, columns, keys, indexes, enums; ``kinds``: the
schema-wide kinds; ``table_kinds``: what a table holds beyond its keys), the record and its
fixes (``records``), what models cannot declare (``not_modelled``) and the model lines fixes
quote (``model_lines``)."""

# The ``object`` of a difference record (the contract in DESIGN.md), for filters and schemas,
# in the order records are sorted.
OBJECT_KINDS: tuple[str, ...] = (
    "table",
    "view",
    "column",
    "primary_key",
    "foreign_key",
    "index",
    "unique_constraint",
    "check_constraint",
    "exclusion_constraint",
    "trigger",
    "policy",
    "rule",
    "grant",
    "enum",
    "sequence",
    "domain",
    "domain_check",
    "composite_type",
    "type_attribute",
    "range_type",
    "function",
    "extension",
    "schema",
)
