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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StorageError

logger = logging.getLogger(__name__)

# Requests made through this process's Infinipost (its own stamp, or the URL alone it was stamped with before
# keys were told apart), or before the API was recorded at all. Takes the two values of `Database.ours`.
OURS = "(api IN (?, ?) OR api = '')"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """The aiosqlite connection with its lock, the clock rows are stamped with, and the Infinipost they are for.

    Args:
        api: the Infinipost this process talks to ("sandbox" or a URL). Requests are stamped with it, and only
            its own are tracked, so that trying the sandbox and then the real API in one database cannot mix them.
        legacy_api: the stamp this Infinipost's requests had before keys were told apart (its URL alone).
    """

    def __init__(
        self,
        connection: aiosqlite.Connection,
        *,
        clock: Callable[[], datetime] = utc_now,
        api: str = "",
        legacy_api: str | None = None,
    ) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()
        self.now = clock
        self.api = api
        self.ours = (api, legacy_api or api)

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


def marks(values: Sequence[Any]) -> str:
    """One `?` per value, for an `IN (...)`."""
    return ",".join("?" * len(values))
