"""``python -m database_use``: the same command line as the ``database-use`` console script."""

import sys

from database_use.cli.main import main

sys.exit(main())
