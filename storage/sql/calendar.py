"""What the calendar reads and keeps: the posts of a time window, private feeds, and weekly digests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update

from bot.model import Caller, ChannelRef
from bot.records import CalendarFeed, DigestSetting, NewNotice, RequestState, StoredRequest
from storage.schema import calendar_feeds, digest_settings, digests_sent, posts, requests
from storage.sql.connection import Database, replacing, upsert
from storage.sql.notices import enqueue
from storage.sql.requests import REQUEST_COLUMNS, stored_request

# Requests that never went anywhere: nothing of them belongs on a calendar.
_UNPLANNED = (
    RequestState.ACCEPTED,
    RequestState.RECEIVED,
    RequestState.AWAITING_CONFIRMATION,
    RequestState.DISCARDED,
)


class SqlCalendar:
    """The `Calendar` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def planned(
        self, platform: str, workspace_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[StoredRequest]:
        """A workspace's requests with a post due (or gone out) in [start, end), or waiting for approval with a time
        in it, soonest first."""
        post = posts.alias("p")
        when = func.coalesce(post.c.posted_at, post.c.scheduled_time)
        in_window = exists().where(post.c.request_id == requests.c.id, when >= start, when < end)
        waiting = and_(
            requests.c.state.in_(RequestState.PENDING),
            requests.c.scheduled_time >= start,
            requests.c.scheduled_time < end,
        )
        rows = await self._db.rows(
            select(*REQUEST_COLUMNS)
            .where(
                requests.c.platform == platform,
                requests.c.workspace_id == workspace_id,
                requests.c.state.not_in(_UNPLANNED),
                or_(in_window, waiting),
            )
            .order_by(requests.c.scheduled_time, requests.c.id)
            .limit(limit)
        )
        return [stored_request(row) for row in rows]

    async def open_feed(self, token_hash: str, caller: Caller, channels: Sequence[str] | None) -> None:
        row = {
            "token_hash": token_hash,
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "user_id": caller.user_id,
            "channels": json.dumps(list(channels)) if channels is not None else None,
            "created_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            await db.execute(upsert(db.dialect.name, calendar_feeds).values(row))

    async def feed(self, token_hash: str) -> CalendarFeed | None:
        row = await self._db.row(
            select(calendar_feeds).where(
                calendar_feeds.c.token_hash == token_hash, calendar_feeds.c.revoked_at.is_(None)
            )
        )
        if row is None:
            return None
        channels = row["channels"]
        return CalendarFeed(
            platform=row["platform"],
            workspace_id=row["workspace_id"],
            user_id=row["user_id"],
            channels=tuple(json.loads(channels)) if channels is not None else None,
        )

    async def revoke_feeds(self, platform: str, workspace_id: str, user_id: str) -> int:
        async with self._db.transaction() as db:
            result = await db.execute(
                update(calendar_feeds)
                .where(
                    calendar_feeds.c.platform == platform,
                    calendar_feeds.c.workspace_id == workspace_id,
                    calendar_feeds.c.user_id == user_id,
                    calendar_feeds.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._db.now())
            )
            return int(result.rowcount)

    async def digest_setting(self, channel: ChannelRef) -> DigestSetting | None:
        row = await self._db.row(
            select(digest_settings).where(
                digest_settings.c.platform == channel.platform,
                digest_settings.c.workspace_id == channel.workspace_id,
                digest_settings.c.channel_id == channel.channel_id,
            )
        )
        if row is None:
            return None
        return DigestSetting(
            enabled=bool(row["enabled"]), weekday=int(row["weekday"]), minute=int(row["minute"]), zone=row["zone"]
        )

    async def save_digest_setting(self, caller: Caller, setting: DigestSetting) -> None:
        row = {
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "channel_id": caller.channel_id,
            "enabled": setting.enabled,
            "weekday": setting.weekday,
            "minute": setting.minute,
            "zone": setting.zone,
            "updated_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            await db.execute(replacing(self._db.dialect, digest_settings, row))

    async def digest_settings(self) -> dict[ChannelRef, DigestSetting]:
        """Every channel's digest setting that was ever changed."""
        return {
            ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]): (
                DigestSetting(
                    enabled=bool(row["enabled"]),
                    weekday=int(row["weekday"]),
                    minute=int(row["minute"]),
                    zone=row["zone"],
                )
            )
            for row in await self._db.rows(select(digest_settings))
        }

    async def channels_with_posts(self, *, since: datetime) -> list[ChannelRef]:
        """The channels whose requests changed since `since`, or that have a post still to go out."""
        upcoming = exists().where(posts.c.request_id == requests.c.id, posts.c.next_check_at.is_not(None))
        rows = await self._db.rows(
            select(requests.c.platform, requests.c.workspace_id, requests.c.channel_id)
            .where(requests.c.state.not_in(_UNPLANNED), or_(requests.c.updated_at >= since, upcoming))
            .distinct()
        )
        return [
            ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"])
            for row in rows
        ]

    async def digests_written(self, *, since: datetime) -> set[tuple[ChannelRef, datetime]]:
        """The digests due at or after `since` that were written: their channel and due time."""
        rows = await self._db.rows(select(digests_sent).where(digests_sent.c.due_at >= since))
        return {
            (
                ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]),
                row["due_at"],
            )
            for row in rows
        }

    async def record_digest(self, channel: ChannelRef, *, due_at: datetime, notice: NewNotice) -> bool:
        """Write a channel's digest due at `due_at` to the outbox, unless one was already: whether it was written."""
        row = {
            "platform": channel.platform,
            "workspace_id": channel.workspace_id,
            "channel_id": channel.channel_id,
            "due_at": due_at,
            "sent_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            inserted = await db.execute(upsert(db.dialect.name, digests_sent).values(row).on_conflict_do_nothing())
            if inserted.rowcount != 1:
                return False
            await enqueue(db, [notice], at=self._db.now())
        return True
