"""The one engine every aggregate shares: its transactions, its reads, the bot's clock, and claims.

Every write is an explicit transaction, so that a status change and the notice it causes are committed together
or not at all. On SQLite a write takes the database's write lock when it begins (BEGIN IMMEDIATE), as the bot
always has; on PostgreSQL each claim locks only the rows it takes (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Executable, RowMapping, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from bot.errors import StorageError

logger = logging.getLogger(__name__)

# Claims last this long unless the work is recorded sooner: far beyond a tracker round, a delivery, a create call.
DEFAULT_LEASE = timedelta(minutes=10)

# The errors a database call can end in: the engine's own, and a server that cannot be reached.
DATABASE_ERRORS = (SQLAlchemyError, OSError)

# The connections each pool has lent out (to its engine, or to one with other execution options), so that closing
# the engine can close them too.
_IN_USE: weakref.WeakKeyDictionary[Pool, set[AsyncConnection]] = weakref.WeakKeyDictionary()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """The engine, the clock rows are stamped with, the Infinipost they are for, and this replica's claims.

    Args:
        engine: the SQLAlchemy engine (SQLite through aiosqlite, or PostgreSQL through asyncpg).
        api: the Infinipost this process talks to ("sandbox" or a URL). Requests are stamped with it, and only
            its own are tracked, so that trying the sandbox and then the real API in one database cannot mix them.
        legacy_api: the stamp this Infinipost's requests had before keys were told apart (its URL alone).
        replica: this replica's id, which its claims are stamped with. It must differ between replicas that run
            at once, and stays the same across restarts of one, so that a restart takes back its own claims at once.
        lease: how long a claim lasts when its work is not recorded (the replica died, or its round stopped).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utc_now,
        api: str = "",
        legacy_api: str | None = None,
        replica: str = "",
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.engine = engine
        self._writer = engine.execution_options(write=True)  # BEGIN IMMEDIATE on SQLite (storage/sql/engine.py)
        # One statement on its own needs no BEGIN and COMMIT around it: each would be a round trip to PostgreSQL
        # (SQLite's reads and single writes already run so, storage/sql/engine.py).
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
        )
        self.now = clock
        self.api = api
        self.ours = (api, legacy_api or api)
        self.replica = replica
        self.lease = lease
        self._closed = False

    async def close(self) -> None:
        """Close every connection. The engine would open new ones on demand; a closed database refuses instead."""
        self._closed = True
        await dispose(self.engine)

    def _open(self) -> None:
        if self._closed:
            raise StorageError()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def claim(self) -> tuple[datetime, str, datetime]:
        """(now, this replica, until when a claim made now lasts)."""
        now = self.now()
        return now, self.replica, now + self.lease

    def claimable(self, table: Table, now: datetime) -> ColumnElement[bool]:
        """A row this replica may claim: nobody's, expired at `now`, or its own (left by its predecessor of the
        same id, or by one of its own rounds that stopped half-way)."""
        return or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now, table.c.claimed_by == self.replica)

    def expired(self, table: Table, now: datetime) -> ColumnElement[bool]:
        """A row whose replica stopped renewing its claim (or that was never claimed): free to any replica."""
        return or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now)

    def is_ours(self, api: ColumnElement[str]) -> ColumnElement[bool]:
        """A request made through this process's Infinipost (its own stamp, or the URL alone it was stamped with
        before keys were told apart), or before the API was recorded at all."""
        return or_(api.in_(self.ours), api == "")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        self._open()
        try:
            async with checked_out(self._writer) as connection, connection.begin():
                yield connection
        except DATABASE_ERRORS as exc:
            logger.exception("database write failed")
            raise StorageError() from exc

    async def returning(self, statement: Executable, params: dict[str, Any] | None = None) -> list[RowMapping]:
        """The rows one write statement (`... RETURNING`) changed, committed on its own: how claims are made. One
        statement is atomic by itself on both databases."""
        return await self._single_statement(statement, params, doing="write")

    def sharing_settings(self, engine: AsyncEngine) -> Database:
        """A database over another engine to the same data, with this one's clock, Infinipost, replica and lease:
        for work that must not wait for this engine's connections (the acknowledgement's)."""
        return Database(
            engine, clock=self.now, api=self.api, legacy_api=self.ours[1], replica=self.replica, lease=self.lease
        )

    async def rows(self, statement: Executable, params: Sequence[dict[str, Any]] | None = None) -> list[RowMapping]:
        return await self._single_statement(statement, params, doing="read")

    async def _single_statement(
        self, statement: Executable, params: Sequence[dict[str, Any]] | dict[str, Any] | None, *, doing: str
    ) -> list[RowMapping]:
        self._open()
        try:
            async with checked_out(self._single) as connection:
                result = await connection.execute(statement, params)
                return list(result.mappings()) if result.returns_rows else []
        except DATABASE_ERRORS as exc:
            logger.exception("database %s failed", doing)
            raise StorageError() from exc

    async def row(self, statement: Executable) -> RowMapping | None:
        rows = await self.rows(statement)
        return rows[0] if rows else None


@asynccontextmanager
async def checked_out(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection from the pool that goes back to it even when the task using it is cancelled (a command out of
    time, a worker stopping): its return is shielded from the cancellation. Otherwise the pool would count it as
    in use until the garbage collector found it, and SQLite's pool has one connection."""
    connection = await engine.connect()
    in_use = _IN_USE.setdefault(engine.pool, set())
    in_use.add(connection)
    try:
        yield connection
    finally:
        in_use.discard(connection)
        await asyncio.shield(connection.close())


async def dispose(engine: AsyncEngine, *, wait: float = 2.0) -> None:
    """Close every connection of the engine. Those still in use (work that outlived the bot's workers, a return
    under way) get `wait` seconds to come back; then they are closed under their users, whose work fails as a
    database error, rather than left open holding SQLite's write lock: the pool closes only what it holds."""
    pool = engine.pool
    for _ in range(int(wait / 0.02)):
        if not isinstance(pool, QueuePool) or pool.checkedout() == 0:
            break
        await asyncio.sleep(0.02)
    for connection in list(_IN_USE.pop(pool, ())):
        with contextlib.suppress(*DATABASE_ERRORS):
            await connection.invalidate()
    await engine.dispose()


def upsert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do ON CONFLICT: the two dialects spell it alike, each with its own class."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def replacing(
    dialect: str,
    table: Table,
    rows: dict[str, Any] | list[dict[str, Any]],
    *,
    where: ColumnElement[bool] | None = None,
) -> postgresql.Insert | sqlite.Insert:
    """`rows` (one, or several with the same columns) inserted, or, where a primary key is taken, written over
    that row's other columns they name: only where the row taken matches `where`, if given."""
    insert = upsert(dialect, table).values(rows)
    keys = {column.name for column in table.primary_key}
    named = rows if isinstance(rows, dict) else rows[0]
    return insert.on_conflict_do_update(
        index_elements=list(table.primary_key),
        set_={name: insert.excluded[name] for name in named if name not in keys},
        where=where,
    )
