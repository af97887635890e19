"""One-time keys: a platform's retry of one event is handled once.

This is on the path of every Slack acknowledgement, so the keys have a connection of their own (they never
queue behind the work of a burst of commands, which cost each acknowledgement tens of milliseconds), and keys
that come while one write is under way are written together by the next, in one statement.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.errors import StorageError
from storage.sqlite.encoding import to_db_time

logger = logging.getLogger(__name__)

ONCE_PURGE_EVERY = timedelta(minutes=1)  # how often expired one-time keys are deleted
ONCE_BATCH = 500  # one-time keys written in one statement, far below SQLite's limit on parameters


class SqliteOnceKeys:
    """The `OnceKeys` port (bot/ports.py).

    Args:
        connection: the keys' own connection, or the shared one (for `:memory:`, where a second connection would
            be a second database) with its lock, to take turns.
    """

    def __init__(self, connection: aiosqlite.Connection, *, lock: asyncio.Lock) -> None:
        self._db = connection
        self._lock = lock
        self._purged: datetime | None = None  # when expired one-time keys were last deleted
        self._waiting: list[tuple[str, datetime, datetime, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def remember(self, key: str, *, until: datetime, now: datetime) -> bool:
        sighting: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, until, now, sighting))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await sighting

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:ONCE_BATCH], self._waiting[ONCE_BATCH:]
                try:
                    new = await self._insert(batch)
                except Exception as exc:  # whatever it was, the requests waiting must hear of it
                    for *_, sighting in batch:
                        if not sighting.done():
                            sighting.set_exception(exc if isinstance(exc, StorageError) else StorageError())
                    continue
                for key, _, _, sighting in batch:
                    if not sighting.done():  # its request may have been given up meanwhile
                        sighting.set_result(key in new)
                    new.discard(key)  # the same key twice in a burst: only the first is new
        finally:
            self._writer = None

    async def _insert(self, batch: Sequence[tuple[str, datetime, datetime, Any]]) -> set[str]:
        """The keys of `batch` that were not remembered (or had expired), now remembered."""
        firsts = {key: until for key, until, _, _ in reversed(batch)}  # one row per key, as SQL requires
        now = max(at for _, _, at, _ in batch)
        values = ", ".join("(?, ?)" for _ in firsts)
        params = [value for key, until in firsts.items() for value in (key, to_db_time(until))]
        async with self._lock:
            try:
                if self._purged is None or now - self._purged > ONCE_PURGE_EVERY:
                    self._purged = now
                    await self._db.execute("DELETE FROM seen_once WHERE expires_at < ?", (to_db_time(now),))
                async with self._db.execute(
                    f"INSERT INTO seen_once (key, expires_at) VALUES {values} ON CONFLICT (key) DO UPDATE SET "
                    "expires_at = excluded.expires_at WHERE seen_once.expires_at < ? RETURNING key",
                    (*params, to_db_time(now)),
                ) as cursor:
                    return {str(row["key"]) for row in await cursor.fetchall()}
            except sqlite3.Error as exc:
                logger.exception("database write failed")
                raise StorageError() from exc
