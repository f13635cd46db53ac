"""CLI commands of this area: filled in by its issue (placeholder so the CLI imports)."""

from __future__ import annotations


def add_commands(subparsers, parent) -> None:
    """Register this area's sub-commands on ``subparsers`` (each with ``parents=[parent]``)."""
