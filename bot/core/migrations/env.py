"""Alembic environment: runs on a connection handed over by bot.core.db.upgrade()."""

from alembic import context

from bot.core.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `yizhan db upgrade`, which supplies the database connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
