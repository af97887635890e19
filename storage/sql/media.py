"""The media index: stored media, and which requests use them, so that clean-up keeps what is still needed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.records import StoredMedia
from storage.schema import media, posts, request_media, requests
from storage.sql.connection import Database, upsert


async def link_media(db: AsyncConnection, request_id: int, keys: Sequence[str]) -> None:
    """Record, in the caller's transaction, that a request uses these stored media."""
    if keys:
        rows = [{"request_id": request_id, "media_key": key} for key in keys]
        await db.execute(upsert(db.dialect.name, request_media).values(rows).on_conflict_do_nothing())


class SqlMediaIndex:
    """The `MediaIndex` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, key: str, *, sha256: str, content_type: str, size: int) -> None:
        row = {"key": key, "sha256": sha256, "content_type": content_type, "size": size, "created_at": self._db.now()}
        async with self._db.transaction() as db:
            await db.execute(upsert(self._db.dialect, media).values(row).on_conflict_do_nothing())

    async def get(self, key: str) -> StoredMedia | None:
        row = await self._db.row(
            select(media.c.key, media.c.sha256, media.c.content_type, media.c.size).where(media.c.key == key)
        )
        return StoredMedia(**dict(row)) if row else None

    async def keys(self) -> set[str]:
        return {str(row["key"]) for row in await self._db.rows(select(media.c.key))}

    async def link(self, request_id: int, keys: Sequence[str]) -> None:
        async with self._db.transaction() as db:
            await link_media(db, request_id, keys)

    async def disposable(self, *, done_before: datetime, orphan_before: datetime) -> list[str]:
        used = exists().where(request_media.c.media_key == media.c.key)
        still_needed = (
            select(1)
            .select_from(request_media.join(requests, requests.c.id == request_media.c.request_id))
            .where(
                request_media.c.media_key == media.c.key,
                or_(
                    requests.c.updated_at >= done_before,
                    # Still to be sent: its create under way, or waiting for its approvers (or its author's changes).
                    requests.c.state.in_(
                        ("sending", "unconfirmed", "awaiting_approval", "changes_requested", "series")  # a live series
                    ),
                    and_(requests.c.state == "awaiting_confirmation", requests.c.created_at >= orphan_before),
                    exists().where(
                        posts.c.request_id == requests.c.id,
                        or_(
                            posts.c.status.not_in(("posted", "failed", "cancelled", "missing")),
                            posts.c.updated_at >= done_before,
                        ),
                    ),
                ),
            )
            .exists()
        )
        rows = await self._db.rows(
            union(
                select(media.c.key).where(~used, media.c.created_at < orphan_before),
                select(media.c.key).where(used, ~still_needed),
            )
        )
        return [str(row["key"]) for row in rows]

    async def forget(self, keys: Sequence[str]) -> None:
        async with self._db.transaction() as db:
            await db.execute(delete(request_media).where(request_media.c.media_key.in_(keys)))
            await db.execute(delete(media).where(media.c.key.in_(keys)))
