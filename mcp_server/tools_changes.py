"""MCP tools of this area: filled in by its issue (placeholder so the server imports)."""

from __future__ import annotations


def register(server) -> None:
    """Add this area's tools to ``server`` (an MCPServer)."""
