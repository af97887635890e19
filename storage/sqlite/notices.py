"""The notice outbox: notices written with the changes that cause them (`enqueue`), then delivered."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

import aiosqlite

from bot.model import ChannelRef, MessageRef
from bot.records import NewNotice, OutboxBacklog, StoredNotice
from storage.sqlite.connection import CLAIMABLE, Database, marks
from storage.sqlite.encoding import from_db_time, ref_to_json, to_db_time

_NOTICE_COLUMNS = "id, platform, workspace_id, channel_id, kind, request_id, attempts"

# A notice this replica may settle: waiting, or handed over by this replica (not one another replica is sending).
# Takes the replica.
_MINE = "(state = 'pending' OR (state = 'sending' AND claimed_by = ?))"


async def enqueue(db: aiosqlite.Connection, notices: Iterable[NewNotice], *, at: datetime) -> None:
    """Write notices in the caller's transaction, due at once."""
    now = to_db_time(at)
    await db.executemany(
        "INSERT INTO notices (created_at, platform, workspace_id, channel_id, kind, request_id, payload, "
        "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                now,
                n.channel.platform,
                n.channel.workspace_id,
                n.channel.channel_id,
                n.kind,
                n.request_id,
                n.payload,
                now,
            )
            for n in notices
        ],
    )


class SqliteNoticeQueue:
    """The `NoticeQueue` port (bot/ports.py) over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def due(self, now: datetime, *, platforms: Sequence[str], limit: int = 100) -> list[StoredNotice]:
        if not platforms:
            return []
        rows = await self._db.rows(
            f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE state = 'pending' AND next_attempt_at <= ? "
            f"AND platform IN ({marks(platforms)}) ORDER BY id LIMIT ?",
            (to_db_time(now), *platforms, limit),
        )
        return [_notice(row) for row in rows]

    async def with_payloads(self, notices: Sequence[StoredNotice]) -> list[StoredNotice]:
        # Payloads are read only for the notices about to go out, so that a long queue of paced notices costs
        # little to look at.
        if not notices:
            return []
        rows = await self._db.rows(
            f"SELECT id, payload FROM notices WHERE id IN ({marks(notices)})", [n.id for n in notices]
        )
        payloads = {int(row["id"]): str(row["payload"]) for row in rows}
        return [replace(n, payload=payloads[n.id]) for n in notices if n.id in payloads]

    async def next_time(self, *, platforms: Sequence[str]) -> datetime | None:
        if not platforms:
            return None
        row = await self._db.row(
            "SELECT MIN(next_attempt_at) AS at FROM notices WHERE state = 'pending' "
            f"AND platform IN ({marks(platforms)})",
            tuple(platforms),
        )
        return from_db_time(row["at"]) if row else None

    async def delivered(self, notice_ids: Sequence[int], *, announcement: tuple[int, MessageRef] | None = None) -> None:
        async with self._db.transaction() as db:
            if announcement:
                await db.execute(
                    "UPDATE requests SET announcement_ref = ? WHERE id = ?",
                    (ref_to_json(announcement[1]), announcement[0]),
                )
            await db.executemany(
                "UPDATE notices SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, "
                f"claimed_by = NULL, claimed_until = NULL WHERE id = ? AND {_MINE}",
                [(to_db_time(self._db.now()), i, self._db.replica) for i in notice_ids],
            )

    async def retry(
        self, notice_ids: Sequence[int], *, at: datetime, error: str, give_up: bool, count: bool = True
    ) -> None:
        async with self._db.transaction() as db:
            await db.executemany(
                "UPDATE notices SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?, state = ?, "
                f"claimed_by = NULL, claimed_until = NULL WHERE id = ? AND {_MINE}",
                [
                    (int(count), to_db_time(at), error[:500], "dead" if give_up else "pending", i, self._db.replica)
                    for i in notice_ids
                ],
            )

    async def announcement_pending(self, request_id: int) -> bool:
        row = await self._db.row(
            "SELECT 1 FROM notices WHERE request_id = ? AND kind = 'scheduled' AND state IN ('pending', 'sending')",
            (request_id,),
        )
        return row is not None

    async def backlog(self, now: datetime, *, platforms: Sequence[str]) -> OutboxBacklog:
        if not platforms:
            return OutboxBacklog(due=0, oldest=None)
        # One branch per state, each matching a partial index: delivered notices stay in the table, and a scrape
        # must not read them all.
        row = await self._db.row(
            "SELECT COALESCE(SUM(state = 'sending' OR next_attempt_at <= ?), 0) AS due, MIN(created_at) AS oldest "
            "FROM (SELECT state, next_attempt_at, created_at, platform FROM notices WHERE state = 'pending' "
            "UNION ALL SELECT state, next_attempt_at, created_at, platform FROM notices WHERE state = 'sending') "
            f"WHERE platform IN ({marks(platforms)})",
            (to_db_time(now), *platforms),
        )
        assert row is not None  # an aggregate always has its row
        return OutboxBacklog(due=int(row["due"]), oldest=from_db_time(row["oldest"]))

    async def claim_for_sending(self, notice_ids: Sequence[int]) -> list[int]:
        # One statement under SQLite's write lock. A notice goes only while no earlier notice of its channel is
        # being handed over by another live replica, so that a channel's notices keep their order. (PostgreSQL
        # needs the channel locked for that check too, e.g. a transaction-level advisory lock on it.)
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            "UPDATE notices SET state = 'sending', claimed_by = ?, claimed_until = ? "
            f"WHERE id IN ({marks(notice_ids)}) AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM notices "
            "AS earlier WHERE earlier.state = 'sending' AND earlier.id < notices.id "
            "AND earlier.platform = notices.platform AND earlier.workspace_id = notices.workspace_id "
            "AND earlier.channel_id = notices.channel_id AND earlier.claimed_by IS NOT ? "
            "AND earlier.claimed_until > ?) RETURNING id",
            (replica, until, *notice_ids, replica, at),
        )
        return sorted(int(row["id"]) for row in rows)

    async def claim_in_flight(self, *, platforms: Sequence[str]) -> list[StoredNotice]:
        # Most rounds find nothing: a read along the partial index first, so that they take no write lock.
        if not platforms or await self._db.row("SELECT 1 FROM notices WHERE state = 'sending' LIMIT 1") is None:
            return []
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            f"UPDATE notices SET claimed_by = ?, claimed_until = ? WHERE state = 'sending' AND {CLAIMABLE} "
            f"AND platform IN ({marks(platforms)}) RETURNING {_NOTICE_COLUMNS}, payload",
            (replica, until, at, replica, *platforms),
        )
        return sorted((_notice(row) for row in rows), key=lambda notice: notice.id)


def _notice(row: sqlite3.Row) -> StoredNotice:
    return StoredNotice(
        id=int(row["id"]),
        channel=ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]),
        kind=row["kind"],
        request_id=row["request_id"],
        payload=row["payload"] if "payload" in row.keys() else "",  # noqa: SIM118 - sqlite3.Row has no `in`
        attempts=int(row["attempts"]),
    )
