"""The example app's one SQLAlchemy object, ``db``: models subclass ``db.Model``.

This is the app's own file, not part of the tool: database-use never imports it. It uses the
tool's connection helper for the URL (``DATABASE_URL`` from the environment or ``.env``), the
lazy engine, sessions and read-only connections.
"""

from __future__ import annotations

from database_use.connection import Database

db = Database()
