"""The Infinipost posts of each request, with the status the bot last saw and the tracker's schedule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, exists, select, update

from bot.model import PostStatus
from bot.ports import PostAudit
from bot.records import NewNotice, StoredPost
from storage.schema import posts, requests
from storage.sql.audit import write_audit
from storage.sql.connection import Database
from storage.sql.notices import enqueue

POST_COLUMNS = (
    posts.c.id,
    posts.c.request_id,
    posts.c.account_id,
    posts.c.account_label,
    posts.c.status,
    posts.c.scheduled_time,
    posts.c.posted_at,
    posts.c.next_check_at,
    posts.c.checks,
    posts.c.delay_warned,
)


class SqlPosts:
    """The `Posts` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def of_requests(self, request_ids: Sequence[int]) -> dict[int, list[StoredPost]]:
        if not request_ids:
            return {}
        rows = await self._db.rows(
            select(*POST_COLUMNS)
            .where(posts.c.request_id.in_(request_ids))
            .order_by(posts.c.request_id, posts.c.position)
        )
        found: dict[int, list[StoredPost]] = {i: [] for i in request_ids}
        for row in rows:
            found[int(row["request_id"])].append(_post(row))
        return found

    async def by_ids(self, post_ids: Sequence[str]) -> dict[str, StoredPost]:
        if not post_ids:
            return {}
        rows = await self._db.rows(select(*POST_COLUMNS).where(posts.c.id.in_(post_ids)))
        return {str(row["id"]): _post(row) for row in rows}

    async def get(self, post_id: str) -> StoredPost | None:
        row = await self._db.row(select(*POST_COLUMNS).where(posts.c.id == post_id))
        return _post(row) if row else None

    async def known_ids(self, post_ids: Sequence[str]) -> set[str]:
        if not post_ids:
            return set()
        rows = await self._db.rows(select(posts.c.id).where(posts.c.id.in_(post_ids)))
        return {str(row["id"]) for row in rows}

    async def update(
        self,
        changes: Sequence[StoredPost],
        *,
        audit: PostAudit | None = None,
        notices: Iterable[NewNotice] = (),
    ) -> None:
        now = self._db.now()
        statement = (
            update(posts)
            .where(posts.c.id == bindparam("post_id"))
            .values(
                {
                    **{column: bindparam(f"new_{column}") for column in POST_STATE},
                    "updated_at": now,
                    "claimed_by": None,
                    "claimed_until": None,
                }
            )
        )
        async with self._db.transaction() as db:
            if changes:
                await db.execute(statement, [{"post_id": post.id, **_prefixed(post_state(post))} for post in changes])
            if audit:
                caller, action, request_id, detail = audit
                await write_audit(db, caller, at=now, action=action, request_id=request_id, detail=detail)
            await enqueue(db, notices, at=now)

    async def claim_due(self, now: datetime, *, limit: int) -> list[StoredPost]:
        # The rows are chosen and stamped in one statement: under SQLite's write lock, or, on PostgreSQL, with the
        # rows chosen locked and those another replica is choosing skipped, so that two replicas never both get a
        # post.
        at, replica, until = self._db.claim()
        due = (
            select(posts.c.id)
            .where(
                posts.c.next_check_at <= now,
                self._db.claimable(posts, at),
                # EXISTS, not `IN (SELECT ...)`: SQLite would list every request ever made and read each one's posts
                # (200 ms at a million tracked posts) instead of walking the due index to the first few.
                exists().where(requests.c.id == posts.c.request_id, self._db.is_ours(requests.c.api)),
            )
            .order_by(posts.c.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._db.returning(
            update(posts)
            .where(posts.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=replica, claimed_until=until)
            .returning(*POST_COLUMNS, posts.c.position)
        )
        # Due at one moment, in the order they were made: a request's posts as Infinipost listed them.
        rows.sort(key=lambda row: (row["next_check_at"] or now, row["request_id"], row["position"]))
        return [_post(row) for row in rows]

    async def next_check_time(self) -> datetime | None:
        # Along the index of tracked posts, earliest first, until one of this Infinipost's is found: each scrape
        # asks this, and `IN (SELECT ...)` would list every request ever made first.
        row = await self._db.row(
            select(posts.c.next_check_at)
            .where(
                posts.c.next_check_at.is_not(None),
                exists().where(requests.c.id == posts.c.request_id, self._db.is_ours(requests.c.api)),
            )
            .order_by(posts.c.next_check_at)
            .limit(1)
        )
        return row["next_check_at"] if row else None


# The columns a post's status and tracking live in.
POST_STATE = ("status", "scheduled_time", "posted_at", "next_check_at", "checks", "delay_warned")


def post_state(post: StoredPost) -> dict[str, Any]:
    return {
        "status": post.status.value,
        "scheduled_time": post.scheduled_time,
        "posted_at": post.posted_at,
        "next_check_at": post.next_check_at,
        "checks": post.checks,
        "delay_warned": post.delay_warned,
    }


def _prefixed(state: dict[str, Any]) -> dict[str, Any]:
    """The parameters of an executemany UPDATE: SQLAlchemy keeps the columns' own names for its SET clause."""
    return {f"new_{column}": value for column, value in state.items()}


def _post(row: RowMapping) -> StoredPost:
    return StoredPost(
        id=row["id"],
        request_id=int(row["request_id"]),
        account_id=row["account_id"],
        account_label=row["account_label"],
        status=PostStatus(row["status"]),
        scheduled_time=row["scheduled_time"],
        posted_at=row["posted_at"],
        next_check_at=row["next_check_at"],
        checks=int(row["checks"]),
        delay_warned=bool(row["delay_warned"]),
    )
