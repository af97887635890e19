"""The one connection every aggregate shares: its lock, its transactions, its reads, and the bot's clock.

Every write is an explicit transaction under one lock, so that a status change and the notice it causes are
committed together or not at all. Only parameterised SQL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StorageError
from storage.sqlite.encoding import to_db_time

logger = logging.getLogger(__name__)

# Requests made through this process's Infinipost (its own stamp, or the URL alone it was stamped with before
# keys were told apart), or before the API was recorded at all. Takes the two values of `Database.ours`.
OURS = "(api IN (?, ?) OR api = '')"

# A claim this replica may take: nobody's, expired at `?` (now), or its own (left by its predecessor of the same
# id, or by one of its own rounds that stopped half-way). Takes (now, replica).
CLAIMABLE = "(claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)"

# Claims last this long unless the work is recorded sooner: far beyond a tracker round, a delivery, a create call.
DEFAULT_LEASE = timedelta(minutes=10)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """The aiosqlite connection with its lock, the clock rows are stamped with, and the Infinipost they are for.

    Args:
        api: the Infinipost this process talks to ("sandbox" or a URL). Requests are stamped with it, and only
            its own are tracked, so that trying the sandbox and then the real API in one database cannot mix them.
        legacy_api: the stamp this Infinipost's requests had before keys were told apart (its URL alone).
        replica: this replica's id, which its claims are stamped with. It must differ between replicas that run
            at once, and stays the same across restarts of one, so that a restart takes back its own claims at once.
        lease: how long a claim lasts when its work is not recorded (the replica died, or its round stopped).
    """

    def __init__(
        self,
        connection: aiosqlite.Connection,
        *,
        clock: Callable[[], datetime] = utc_now,
        api: str = "",
        legacy_api: str | None = None,
        replica: str = "",
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()
        self.now = clock
        self.api = api
        self.ours = (api, legacy_api or api)
        self.replica = replica
        self.lease = lease

    def claim(self) -> tuple[str, str, str]:
        """(now, this replica, until when a claim made now lasts), as stored."""
        now = self.now()
        return stamp(now), self.replica, stamp(now + self.lease)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self.lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
                try:
                    yield self.connection
                except BaseException:
                    await self.connection.execute("ROLLBACK")
                    raise
                await self.connection.execute("COMMIT")
            except sqlite3.Error as exc:
                logger.exception("database write failed")
                raise StorageError() from exc

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows a write `... RETURNING` statement changed, in a transaction of its own: how claims are made."""
        async with self.transaction() as db, db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self.lock:
            try:
                async with self.connection.execute(sql, params) as cursor:
                    return list(await cursor.fetchall())
            except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's word for a closed connection
                logger.exception("database read failed")
                raise StorageError() from exc

    async def row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self.rows(sql, params)
        return rows[0] if rows else None


async def connect(path: Path | str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            await db.execute(f"PRAGMA {pragma}")
    except BaseException:
        await db.close()  # its thread would otherwise keep the process alive
        raise
    return db


def stamp(at: datetime) -> str:
    text = to_db_time(at)
    assert text is not None
    return text


def marks(values: Sequence[Any]) -> str:
    """One `?` per value, for an `IN (...)`."""
    return ",".join("?" * len(values))
