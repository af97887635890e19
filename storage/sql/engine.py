"""The engines behind `BOT_DATABASE`: an SQLite file (aiosqlite), or a PostgreSQL server (asyncpg), and the
migrations that bring either to the present schema."""

from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.errors import StorageError
from storage.legacy_schema import LAST_LEGACY, apply_legacy

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Waiting for the one SQLite connection is waiting for the database's write lock, which is never held for long;
# the pool's own 30-second limit would turn a burst of commands into errors.
SQLITE_POOL_WAIT = 600
POSTGRES_POOL = {"pool_size": 5, "max_overflow": 10}
# What an acknowledgement waits for: the one-time keys (written together, storage/sql/once_keys.py) and each
# command kept as accepted, one short statement each.
POSTGRES_ACK_POOL = {"pool_size": 2, "max_overflow": 2}
# A pooled connection unused for this long is pinged before it is lent out, and replaced if the server has dropped
# it (a restart, a fail-over, an idle timeout). One used more recently is not: under load that ping (the pool's
# own pre_ping, on every checkout) was a round trip in every statement's four.
IDLE_BEFORE_PING = 5.0

# Replicas that start together migrate one after the other: a transaction-level advisory lock on this key.
_MIGRATION_LOCK = zlib.crc32(b"infinipost-bot migrations")


def is_server_url(target: str | Path) -> bool:
    """Whether BOT_DATABASE names a database server rather than a file."""
    return "://" in str(target)


def postgres_url(target: str) -> URL:
    """The URL asyncpg is reached through. Raises StorageError for a URL that is not PostgreSQL's."""
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise StorageError("BOT_DATABASE is not a database URL; give a file path or postgresql://…") from exc
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise StorageError(
            f"BOT_DATABASE names a {url.get_backend_name()} database; the bot keeps its data in an SQLite file "
            "(a path) or in PostgreSQL (postgresql://user:password@host:5432/database)."
        )
    return url.set(drivername="postgresql+asyncpg")


def postgres_engine(target: str, *, pool: dict[str, Any] = POSTGRES_POOL) -> AsyncEngine:
    url = postgres_url(target)
    try:
        engine = create_async_engine(url, **pool)
    except ImportError as exc:
        raise StorageError(
            "BOT_DATABASE is a PostgreSQL URL, but its driver is not installed: pip install 'infinipost-bot[postgres]'."
        ) from exc

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool drops this connection and lends out another, or a new one
            raise DisconnectionError("the server dropped an idle connection") from exc

    return engine


def sqlite_engine(path: str) -> AsyncEngine:
    """One connection, as the bot has always had: SQLite takes one writer at a time anyway, and `:memory:` is a
    database per connection."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{path}",
        poolclass=AsyncAdaptedQueuePool,  # for `:memory:` too: its one connection, kept, is its database
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_POOL_WAIT,
        pool_reset_on_return=None,  # every write ends its transaction itself; a read has none
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver begins nothing of its own: see _on_begin
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write takes the write lock at once, so that it never fails half-way on a lock another process holds.
        # A read is one statement, which SQLite reads consistently on its own: no transaction, and so nothing to
        # end when the connection goes back to the pool (each a trip to aiosqlite's thread).
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the present schema, in one transaction."""
    async with engine.execution_options(write=True).begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "_migrations" in tables and "alembic_version" not in tables:
        # Made by a release before PostgreSQL: finish its own steps, then it is the first revision's schema.
        apply_legacy(connection)
        command.stamp(config, LAST_LEGACY)
    command.upgrade(config, "head")
