"""``python -m database_use``: the same command line as the ``database-use`` console script."""

from database_use.cli.main import entry

entry()
