"""Alembic environment for litwatch.

litwatch runs migrations itself (``litwatch.db``), passing an open connection
in ``config.attributes["connection"]``; there is no alembic.ini. Running
without one (``sqlalchemy.url`` set on a hand-built Config) is supported for
generating a new revision during development.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from litwatch.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from litwatch.db import create_engine_for

    engine = create_engine_for(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
