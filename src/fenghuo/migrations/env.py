"""Alembic environment: uses the connection handed over by fenghuo.platform.migrate."""

from alembic import context

from fenghuo.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # invoked by the alembic CLI for autogenerate
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    connection = engine.connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
