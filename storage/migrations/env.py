"""Alembic's environment: migrations run on the connection `storage.migrate` hands over, inside its transaction."""

from alembic import context

from storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Migrations run when the bot opens its database (storage.migrate), not from the alembic CLI.")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
