"""The example app's database scripts and its one SQLAlchemy object (``utils_db.database.db``)."""
