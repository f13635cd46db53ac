"""MCP tools over the schema engine: filled in by the MCP server issue (placeholder)."""

from __future__ import annotations


def register(server) -> None:
    """Add the schema tools to ``server`` (an MCPServer)."""
