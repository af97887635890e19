"""One-time keys: a platform's retry of one event is handled once, by whichever replica it reaches.

This is on the path of every Slack acknowledgement, so the keys have a connection of their own, on an SQLite file
and on PostgreSQL alike (they never queue behind the work of a burst of commands, which cost each acknowledgement
tens of milliseconds on SQLite, and on PostgreSQL, whose shared pool a burst fills, about 100 ms at the p99),
and keys that come while one write is under way are written together by the next, in one statement
(storage/sql/batches.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete

from storage.schema import seen_once
from storage.sql.batches import Batched
from storage.sql.connection import Database, replacing

ONCE_PURGE_EVERY = timedelta(minutes=1)  # how often expired one-time keys are deleted


class SqlOnceKeys:
    """The `OnceKeys` port (bot/ports.py).

    Args:
        database: the acknowledgement's own engine, or the shared one for `:memory:`, where a second connection
            would be a second database.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self._purged: datetime | None = None  # when expired one-time keys were last deleted
        self._remember = Batched(self._insert)

    async def remember(self, key: str, *, until: datetime, now: datetime) -> bool:
        return await self._remember((key, until, now))

    async def _insert(self, batch: Sequence[tuple[str, datetime, datetime]]) -> list[bool]:
        """Whether each key of `batch` was new (not remembered, or expired), and is now remembered. The same key
        twice in a burst is new only the first time."""
        firsts = {key: until for key, until, _ in reversed(batch)}  # one row per key, as SQL requires
        now = max(at for _, _, at in batch)
        rows = [{"key": key, "expires_at": until} for key, until in firsts.items()]
        statement = replacing(self._db.dialect, seen_once, rows, where=seen_once.c.expires_at < now).returning(
            seen_once.c.key
        )
        if self._purged is None or now - self._purged > ONCE_PURGE_EVERY:
            self._purged = now
            await self._db.returning(delete(seen_once).where(seen_once.c.expires_at < now))
        new = {str(row["key"]) for row in await self._db.returning(statement)}
        sightings = []
        for key, _, _ in batch:
            sightings.append(key in new)
            new.discard(key)
        return sightings
