"""The schema model: the snapshot (``snapshot``), type and expression normalisation
(``normalize``) and the listed kinds (``objects``). The kinds' names live here, light to import
(the MCP server's tool schemas name them before any snapshot is built)."""

# The kinds introspect lists, in the overview's order (the argument spelling: underscores).
LISTED_KINDS = (
    "tables",
    "views",
    "partitions",
    "enums",
    "domains",
    "composite_types",
    "range_types",
    "sequences",
    "functions",
    "triggers",
    "policies",
    "rules",
    "extensions",
)
