"""Alembic's environment for Beatbook: always run through server.db.migrate with a connection.

Later revisions on SQLite use batch mode (copy-and-move) for the ALTERs SQLite lacks.
"""

from alembic import context

from server.db.migrate import include_object, target_metadata


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Beatbook's migrations run against a database: use `beatbook db upgrade`.")
run_migrations()
