"""Which posting slots are taken: by a post of this bot, a request on its way, or a claim of a /post being read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select

from bot.model import PostStatus
from bot.records import RequestState
from storage.schema import posts, requests, slot_claims
from storage.sql.connection import Database, upsert
from storage.sql.requests import names_account

# A request in these states holds its time for its accounts: it is, or may become, a post at that time.
_HOLDING = (
    RequestState.AWAITING_CONFIRMATION,
    RequestState.AWAITING_APPROVAL,
    RequestState.CHANGES_REQUESTED,
    RequestState.SENDING,
    RequestState.UNCONFIRMED,
)
_GONE = (PostStatus.CANCELLED.value, PostStatus.FAILED.value, PostStatus.MISSING.value)


class SqlSlots:
    """The `Slots` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def taken(
        self, platform: str, workspace_id: str, account_ids: Sequence[str], *, start: datetime, end: datetime
    ) -> set[datetime]:
        """The instants in [start, end) at which one of these accounts already has a post from this bot, a request
        on its way, or a live claim."""
        now = self._db.now()
        of_workspace = and_(requests.c.platform == platform, requests.c.workspace_id == workspace_id)
        by_posts = (
            select(posts.c.scheduled_time.label("at"))
            .join(requests, requests.c.id == posts.c.request_id)
            .where(
                of_workspace,
                posts.c.account_id.in_(list(account_ids)),
                posts.c.status.not_in(_GONE),
                posts.c.scheduled_time >= start,
                posts.c.scheduled_time < end,
            )
        )
        by_requests = select(requests.c.scheduled_time.label("at")).where(
            of_workspace,
            requests.c.state.in_(_HOLDING),
            requests.c.scheduled_time >= start,
            requests.c.scheduled_time < end,
            or_(*(names_account(self._db.dialect, account) for account in account_ids)),
        )
        by_claims = select(slot_claims.c.at.label("at")).where(
            slot_claims.c.platform == platform,
            slot_claims.c.workspace_id == workspace_id,
            slot_claims.c.account_id.in_(list(account_ids)),
            slot_claims.c.at >= start,
            slot_claims.c.at < end,
            slot_claims.c.until > now,
        )
        found: set[datetime] = set()
        for query in (by_posts, by_requests, by_claims):
            found |= {row["at"] for row in await self._db.rows(query) if row["at"] is not None}
        return found

    async def claim(
        self, platform: str, workspace_id: str, account_ids: Sequence[str], *, at: datetime, until: datetime
    ) -> bool:
        """Take the slot at `at` for these accounts until `until`, all or none: False if another claim has any."""
        now = self._db.now()
        rows = [
            {"platform": platform, "workspace_id": workspace_id, "account_id": account, "at": at, "until": until}
            for account in account_ids
        ]
        try:
            async with self._db.transaction() as db:
                await db.execute(delete(slot_claims).where(slot_claims.c.until <= now))  # lapsed claims are no one's
                inserted = await db.execute(upsert(db.dialect.name, slot_claims).values(rows).on_conflict_do_nothing())
                if inserted.rowcount != len(rows):
                    raise _Taken  # none of the accounts' claims is kept
        except _Taken:
            return False
        return True


class _Taken(Exception):
    """Another claim holds the slot for one of the accounts."""
