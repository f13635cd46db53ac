"""The diff of two snapshots (``diff``) and the model lines its fixes quote (``model_lines``)."""

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
