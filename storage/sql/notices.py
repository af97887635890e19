"""The notice outbox: notices written with the changes that cause them (`enqueue`), then delivered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import ChannelRef, MessageRef
from bot.records import NewNotice, OutboxBacklog, StoredNotice
from storage.schema import channel_pacing, notices, requests
from storage.sql.connection import Database, replacing
from storage.sql.encoding import ref_to_json

_INSERT = insert(notices)  # built once, like the other statements every command makes

_NOTICE_COLUMNS = (
    notices.c.id,
    notices.c.platform,
    notices.c.workspace_id,
    notices.c.channel_id,
    notices.c.kind,
    notices.c.request_id,
    notices.c.attempts,
)


async def enqueue(db: AsyncConnection, new: Iterable[NewNotice], *, at: datetime) -> None:
    """Write notices in the caller's transaction, due at once."""
    rows = [
        {
            "created_at": at,
            "platform": n.channel.platform,
            "workspace_id": n.channel.workspace_id,
            "channel_id": n.channel.channel_id,
            "kind": n.kind,
            "request_id": n.request_id,
            "payload": n.payload,
            "next_attempt_at": at,
        }
        for n in new
    ]
    if rows:
        await db.execute(_INSERT, rows)


class SqlNoticeQueue:
    """The `NoticeQueue` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def _mine(self) -> ColumnElement[bool]:
        """A notice this replica may settle: waiting, or handed over by this replica (not one another replica is
        sending)."""
        return or_(
            notices.c.state == "pending", (notices.c.state == "sending") & (notices.c.claimed_by == self._db.replica)
        )

    async def due(self, now: datetime, *, platforms: Sequence[str], limit: int = 100) -> list[StoredNotice]:
        if not platforms:
            return []
        rows = await self._db.rows(
            select(*_NOTICE_COLUMNS)
            .where(notices.c.state == "pending", notices.c.next_attempt_at <= now, notices.c.platform.in_(platforms))
            .order_by(notices.c.id)
            .limit(limit)
        )
        return [_notice(row) for row in rows]

    async def with_payloads(self, waiting: Sequence[StoredNotice]) -> list[StoredNotice]:
        # Payloads are read only for the notices about to go out, so that a long queue of paced notices costs
        # little to look at.
        if not waiting:
            return []
        rows = await self._db.rows(
            select(notices.c.id, notices.c.payload).where(notices.c.id.in_([n.id for n in waiting]))
        )
        payloads = {int(row["id"]): str(row["payload"]) for row in rows}
        return [replace(n, payload=payloads[n.id]) for n in waiting if n.id in payloads]

    async def next_time(self, *, platforms: Sequence[str]) -> datetime | None:
        if not platforms:
            return None
        row = await self._db.row(
            select(func.min(notices.c.next_attempt_at).label("at")).where(
                notices.c.state == "pending", notices.c.platform.in_(platforms)
            )
        )
        return row["at"] if row else None

    async def delivered(self, notice_ids: Sequence[int], *, announcement: tuple[int, MessageRef] | None = None) -> None:
        async with self._db.transaction() as db:
            if announcement:
                request_id, ref = announcement
                await db.execute(
                    update(requests).where(requests.c.id == request_id).values(announcement_ref=ref_to_json(ref))
                )
            await db.execute(
                update(notices)
                .where(notices.c.id.in_(notice_ids), self._mine())
                .values(
                    state="delivered",
                    delivered_at=self._db.now(),
                    attempts=notices.c.attempts + 1,
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    async def retry(
        self, notice_ids: Sequence[int], *, at: datetime, error: str, give_up: bool, count: bool = True
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                update(notices)
                .where(notices.c.id.in_(notice_ids), self._mine())
                .values(
                    attempts=notices.c.attempts + int(count),
                    next_attempt_at=at,
                    last_error=error[:500],
                    state="dead" if give_up else "pending",
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    async def announcement_pending(self, request_id: int) -> bool:
        row = await self._db.row(
            select(literal(1)).where(
                notices.c.request_id == request_id,
                notices.c.kind.in_(("scheduled", "awaiting_approval")),  # the kinds that announce a request
                notices.c.state.in_(("pending", "sending")),
            )
        )
        return row is not None

    async def backlog(self, now: datetime, *, platforms: Sequence[str]) -> OutboxBacklog:
        if not platforms:
            return OutboxBacklog(due=0, oldest=None)
        # One branch per state, each matching a partial index: delivered notices stay in the table, and a scrape
        # must not read them all.
        columns = (notices.c.state, notices.c.next_attempt_at, notices.c.created_at, notices.c.platform)
        waiting = union_all(
            select(*columns).where(notices.c.state == "pending"), select(*columns).where(notices.c.state == "sending")
        ).subquery()
        due = case((or_(waiting.c.state == "sending", waiting.c.next_attempt_at <= now), 1), else_=0)
        row = await self._db.row(
            select(func.coalesce(func.sum(due), 0).label("due"), func.min(waiting.c.created_at).label("oldest")).where(
                waiting.c.platform.in_(platforms)
            )
        )
        assert row is not None  # an aggregate always has its row
        return OutboxBacklog(due=int(row["due"]), oldest=row["oldest"])

    async def claim_for_sending(self, notice_ids: Sequence[int]) -> list[int]:
        # A notice goes only while no earlier notice of its channel is being handed over by another live replica,
        # so that a channel's notices keep their order. SQLite: one statement under its write lock. PostgreSQL: the
        # channels are locked for the transaction first, so that two replicas check one channel in turn.
        at, replica, until = self._db.claim()
        earlier = notices.alias("earlier")
        handed_over_elsewhere = exists().where(
            earlier.c.state == "sending",
            earlier.c.id < notices.c.id,
            earlier.c.platform == notices.c.platform,
            earlier.c.workspace_id == notices.c.workspace_id,
            earlier.c.channel_id == notices.c.channel_id,
            earlier.c.claimed_by.is_distinct_from(replica),
            earlier.c.claimed_until > at,
        )
        async with self._db.transaction() as db:
            if self._db.dialect == "postgresql":
                await db.execute(_lock_channels(notice_ids))
            result = await db.execute(
                update(notices)
                .where(notices.c.id.in_(notice_ids), notices.c.state == "pending", ~handed_over_elsewhere)
                .values(state="sending", claimed_by=replica, claimed_until=until)
                .returning(notices.c.id)
            )
            return sorted(int(notice_id) for notice_id in result.scalars())

    async def take_turn(self, channel: ChannelRef, *, now: float, interval: float, burst: int) -> tuple[bool, float]:
        if interval <= 0:
            return True, 0.0
        here = (
            (channel_pacing.c.platform == channel.platform)
            & (channel_pacing.c.workspace_id == channel.workspace_id)
            & (channel_pacing.c.channel_id == channel.channel_id)
        )
        bucket = select(channel_pacing.c.tokens, channel_pacing.c.at).where(here)
        async with self._db.transaction() as db:
            if self._db.dialect == "postgresql":  # two replicas count one channel's messages in turn
                await db.execute(
                    select(
                        func.pg_advisory_xact_lock(
                            _channel_key(channel.platform, channel.workspace_id, channel.channel_id)
                        )
                    )
                )
            row = (await db.execute(bucket)).mappings().first()
            tokens = _tokens(row, now=now, interval=interval, burst=burst)
            if tokens < 1:
                return False, (1 - tokens) * interval
            counted = {
                "platform": channel.platform,
                "workspace_id": channel.workspace_id,
                "channel_id": channel.channel_id,
                "tokens": tokens - 1,
                "at": now,
            }
            await db.execute(replacing(self._db.dialect, channel_pacing, counted))
            return True, max(0.0, 2 - tokens) * interval  # what the next needs: the one token it lacks, if any

    async def claim_in_flight(self, *, platforms: Sequence[str]) -> list[StoredNotice]:
        # Most rounds find nothing: a read along the partial index first, so that they take no write lock.
        if not platforms or await self._db.row(select(literal(1)).where(notices.c.state == "sending").limit(1)) is None:
            return []
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            update(notices)
            .where(notices.c.state == "sending", self._db.claimable(notices, at), notices.c.platform.in_(platforms))
            .values(claimed_by=replica, claimed_until=until)
            .returning(*_NOTICE_COLUMNS, notices.c.payload)
        )
        return sorted((_notice(row) for row in rows), key=lambda notice: notice.id)


def _tokens(bucket: RowMapping | None, *, now: float, interval: float, burst: int) -> float:
    if bucket is None:
        return float(burst)
    return min(float(burst), float(bucket["tokens"]) + max(0.0, now - float(bucket["at"])) / interval)


def _channel_key(platform: object, workspace_id: object, channel_id: object) -> ColumnElement[int]:
    """PostgreSQL: the number a channel's advisory lock is taken on, from its columns or its values: the same for
    its notices and its pacing."""
    return func.hashtextextended(func.concat_ws("\x1f", platform, workspace_id, channel_id), 0)


def _lock_channels(notice_ids: Sequence[int]) -> Select[tuple[object]]:
    """PostgreSQL: a transaction-level advisory lock on each channel of these notices, in one order everywhere."""
    channel = _channel_key(notices.c.platform, notices.c.workspace_id, notices.c.channel_id).label("channel")
    channels = select(channel).where(notices.c.id.in_(notice_ids)).distinct().order_by(channel).subquery()
    return select(func.pg_advisory_xact_lock(channels.c.channel))


def _notice(row: RowMapping) -> StoredNotice:
    return StoredNotice(
        id=int(row["id"]),
        channel=ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]),
        kind=row["kind"],
        request_id=row["request_id"],
        payload=row.get("payload", ""),
        attempts=int(row["attempts"]),
    )
