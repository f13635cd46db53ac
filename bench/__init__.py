"""Speed benchmark of the schema engine and CLI (see bench/README.md)."""
