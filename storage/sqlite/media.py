"""The media index: stored media, and which requests use them, so that clean-up keeps what is still needed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.records import StoredMedia
from storage.sqlite.connection import Database
from storage.sqlite.encoding import to_db_time


async def link_media(db: aiosqlite.Connection, request_id: int, keys: Sequence[str]) -> None:
    """Record, in the caller's transaction, that a request uses these stored media."""
    await db.executemany(
        "INSERT OR IGNORE INTO request_media (request_id, media_key) VALUES (?, ?)",
        [(request_id, key) for key in keys],
    )


class SqliteMediaIndex:
    """The `MediaIndex` port (bot/ports.py) over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, key: str, *, sha256: str, content_type: str, size: int) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO media (key, sha256, content_type, size, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, sha256, content_type, size, to_db_time(self._db.now())),
            )

    async def get(self, key: str) -> StoredMedia | None:
        row = await self._db.row("SELECT key, sha256, content_type, size FROM media WHERE key = ?", (key,))
        return StoredMedia(**dict(row)) if row else None

    async def keys(self) -> set[str]:
        return {str(row["key"]) for row in await self._db.rows("SELECT key FROM media")}

    async def link(self, request_id: int, keys: Sequence[str]) -> None:
        async with self._db.transaction() as db:
            await link_media(db, request_id, keys)

    async def disposable(self, *, done_before: datetime, orphan_before: datetime) -> list[str]:
        done, orphan = to_db_time(done_before), to_db_time(orphan_before)
        rows = await self._db.rows(
            """
            SELECT m.key FROM media m
            WHERE NOT EXISTS (SELECT 1 FROM request_media rm WHERE rm.media_key = m.key) AND m.created_at < ?
            UNION
            SELECT m.key FROM media m
            WHERE EXISTS (SELECT 1 FROM request_media rm WHERE rm.media_key = m.key)
            AND NOT EXISTS (
                SELECT 1 FROM request_media rm JOIN requests r ON r.id = rm.request_id
                WHERE rm.media_key = m.key AND (
                    r.updated_at >= ?
                    OR r.state IN ('sending', 'unconfirmed')
                    OR (r.state = 'awaiting_confirmation' AND r.created_at >= ?)
                    OR EXISTS (
                        SELECT 1 FROM posts p WHERE p.request_id = r.id
                        AND (p.status NOT IN ('posted', 'failed', 'cancelled', 'missing') OR p.updated_at >= ?)
                    )
                )
            )
            """,
            (orphan, done, orphan, done),
        )
        return [str(row["key"]) for row in rows]

    async def forget(self, keys: Sequence[str]) -> None:
        async with self._db.transaction() as db:
            await db.executemany("DELETE FROM request_media WHERE media_key = ?", [(k,) for k in keys])
            await db.executemany("DELETE FROM media WHERE key = ?", [(k,) for k in keys])
