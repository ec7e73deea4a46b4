"""Alembic environment. `warehouse.db.upgrade` hands in its connection; the alembic CLI
(`alembic -c warehouse/alembic.ini ...`) connects to the settings' warehouse URL instead."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from guidefund.warehouse.db import make_engine
from guidefund.warehouse.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    from guidefund.settings import get_settings

    return context.config.get_main_option("sqlalchemy.url") or get_settings().database_url


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := context.config.attributes.get("connection")) is not None:
    _run(given)
else:
    engine = make_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
