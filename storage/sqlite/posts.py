"""The Infinipost posts of each request, with the status the bot last saw and the tracker's schedule."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.model import PostStatus
from bot.ports import PostAudit
from bot.records import NewNotice, StoredPost
from storage.sqlite.audit import write_audit
from storage.sqlite.connection import CLAIMABLE, OURS, Database, marks
from storage.sqlite.encoding import from_db_time, to_db_time
from storage.sqlite.notices import enqueue

POST_COLUMNS = (
    "id, request_id, account_id, account_label, status, scheduled_time, posted_at, next_check_at, checks, delay_warned"
)


class SqlitePosts:
    """The `Posts` port (bot/ports.py) over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def of_requests(self, request_ids: Sequence[int]) -> dict[int, list[StoredPost]]:
        if not request_ids:
            return {}
        rows = await self._db.rows(
            f"SELECT {POST_COLUMNS} FROM posts WHERE request_id IN ({marks(request_ids)}) ORDER BY rowid",
            list(request_ids),
        )
        found: dict[int, list[StoredPost]] = {i: [] for i in request_ids}
        for row in rows:
            found[int(row["request_id"])].append(_post(row))
        return found

    async def by_ids(self, post_ids: Sequence[str]) -> dict[str, StoredPost]:
        if not post_ids:
            return {}
        rows = await self._db.rows(f"SELECT {POST_COLUMNS} FROM posts WHERE id IN ({marks(post_ids)})", list(post_ids))
        return {str(row["id"]): _post(row) for row in rows}

    async def get(self, post_id: str) -> StoredPost | None:
        row = await self._db.row(f"SELECT {POST_COLUMNS} FROM posts WHERE id = ?", (post_id,))
        return _post(row) if row else None

    async def known_ids(self, post_ids: Sequence[str]) -> set[str]:
        if not post_ids:
            return set()
        rows = await self._db.rows(f"SELECT id FROM posts WHERE id IN ({marks(post_ids)})", list(post_ids))
        return {str(row["id"]) for row in rows}

    async def update(
        self,
        changes: Sequence[StoredPost],
        *,
        audit: PostAudit | None = None,
        notices: Iterable[NewNotice] = (),
    ) -> None:
        now = to_db_time(self._db.now())
        async with self._db.transaction() as db:
            await db.executemany(
                "UPDATE posts SET status = ?, scheduled_time = ?, posted_at = ?, next_check_at = ?, checks = ?, "
                "delay_warned = ?, updated_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                [(*post_state(post), now, post.id) for post in changes],
            )
            if audit:
                caller, action, request_id, detail = audit
                await write_audit(db, caller, at=self._db.now(), action=action, request_id=request_id, detail=detail)
            await enqueue(db, notices, at=self._db.now())

    async def claim_due(self, now: datetime, *, limit: int) -> list[StoredPost]:
        # One statement: the rows are chosen and stamped under SQLite's write lock, so two replicas never both
        # get a post (PostgreSQL: the inner SELECT ... FOR UPDATE SKIP LOCKED).
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            f"UPDATE posts SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id FROM posts "
            f"WHERE next_check_at <= ? AND {CLAIMABLE} "
            f"AND request_id IN (SELECT id FROM requests WHERE {OURS}) ORDER BY next_check_at LIMIT ?) "
            f"RETURNING {POST_COLUMNS}",
            (replica, until, to_db_time(now), at, replica, *self._db.ours, limit),
        )
        return sorted((_post(row) for row in rows), key=lambda post: post.next_check_at or now)

    async def next_check_time(self) -> datetime | None:
        # Along the index of tracked posts, earliest first, until one of this Infinipost's is found: each scrape
        # asks this, and `IN (SELECT ...)` would list every request ever made first.
        row = await self._db.row(
            "SELECT next_check_at FROM posts WHERE next_check_at IS NOT NULL AND EXISTS "
            f"(SELECT 1 FROM requests WHERE requests.id = posts.request_id AND {OURS}) ORDER BY next_check_at LIMIT 1",
            self._db.ours,
        )
        return from_db_time(row["next_check_at"]) if row else None


def post_state(post: StoredPost) -> tuple[Any, ...]:
    """The columns a post's status and tracking live in, in the order of POST_COLUMNS after its first four."""
    return (
        post.status.value,
        to_db_time(post.scheduled_time),
        to_db_time(post.posted_at),
        to_db_time(post.next_check_at),
        post.checks,
        int(post.delay_warned),
    )


def _post(row: sqlite3.Row) -> StoredPost:
    return StoredPost(
        id=row["id"],
        request_id=int(row["request_id"]),
        account_id=row["account_id"],
        account_label=row["account_label"],
        status=PostStatus(row["status"]),
        scheduled_time=from_db_time(row["scheduled_time"]),
        posted_at=from_db_time(row["posted_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        checks=int(row["checks"]),
        delay_warned=bool(row["delay_warned"]),
    )
