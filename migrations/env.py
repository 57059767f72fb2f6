"""Alembic environment: online migrations only, against the URL or connection it is given."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, pool

import server.models  # noqa: F401  (registers every table on the metadata)
from server.db.base import Base
from server.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # alembic_version is Alembic's own; everything else must match the models.
    return not (type_ == "table" and name == "alembic_version")


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        include_object=include_object,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from server.config import get_settings
        from server.db.engine import open_database

        with open_database(get_settings()) as target:
            url = target.url
            engine = make_engine(url, poolclass=pool.NullPool)
            with engine.connect() as conn:
                run_with(conn)
            engine.dispose()
        return
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run_with(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
