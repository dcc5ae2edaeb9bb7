"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

import os

from bookings import create_app

# The `flask` command sets FLASK_RUN_FROM_CLI before it loads this module: only then are the
# `flask db ...` commands (and Alembic behind them) loaded. A server's workers go without them.
app = create_app(MIGRATE_COMMANDS=os.environ.get("FLASK_RUN_FROM_CLI") == "true")
