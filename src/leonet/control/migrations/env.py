"""Alembic environment, run programmatically by :func:`leonet.control.store.migrate` on the connection it
passes in ``config.attributes["connection"]`` (there is no alembic.ini: the package ships its migrations)."""

from __future__ import annotations

from alembic import context

from leonet.control.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
