"""One-time keys: a platform's retry of one event is handled once, by whichever replica it reaches.

This is on the path of every Slack acknowledgement, so the keys have a connection of their own, on an SQLite file
and on PostgreSQL alike (they never queue behind the work of a burst of commands, which cost each acknowledgement
tens of milliseconds on SQLite, and on PostgreSQL, whose shared pool a burst fills, about 100 ms at the p99),
and keys that come while one write is under way are written together by the next, in one statement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StorageError
from storage.schema import seen_once
from storage.sql.connection import DATABASE_ERRORS, checked_out, upsert

logger = logging.getLogger(__name__)

ONCE_PURGE_EVERY = timedelta(minutes=1)  # how often expired one-time keys are deleted
ONCE_BATCH = 500  # one-time keys written in one statement, far below either database's limit on parameters


class SqlOnceKeys:
    """The `OnceKeys` port (bot/ports.py).

    Args:
        engine: the keys' own engine, or the shared one for `:memory:`, where a second connection would be a
            second database.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(write=True)
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
        insert = upsert(self._engine.dialect.name, seen_once).values(
            [{"key": key, "expires_at": until} for key, until in firsts.items()]
        )
        statement = insert.on_conflict_do_update(
            index_elements=[seen_once.c.key],
            set_={"expires_at": insert.excluded.expires_at},
            where=seen_once.c.expires_at < now,
        ).returning(seen_once.c.key)
        try:
            async with checked_out(self._engine) as connection, connection.begin():
                if self._purged is None or now - self._purged > ONCE_PURGE_EVERY:
                    self._purged = now
                    await connection.execute(delete(seen_once).where(seen_once.c.expires_at < now))
                return {str(key) for key in (await connection.execute(statement)).scalars()}
        except DATABASE_ERRORS as exc:
            logger.exception("database write failed")
            raise StorageError() from exc
