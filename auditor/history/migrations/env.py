"""Alembic's environment for the history store: migrations run on the connection the store hands over (never
from an alembic.ini; the store's URL may carry a password)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
