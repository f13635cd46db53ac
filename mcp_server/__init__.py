"""database-use MCP server (thin face over utils_db)."""
