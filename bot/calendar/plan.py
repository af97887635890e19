"""The posts of a time window, one per account, with what every calendar surface shows of them, and only from the
channels the viewer may see."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.model import Caller, ChannelRef, MessageRef, PostStatus
from bot.post_checks import media_kind
from bot.records import RequestState, StoredPost, StoredRequest

PLAN_LIMIT = 2000  # requests read for one window: far more than a team schedules in a month
# What a request that has no post (yet, or ever) shows as, on a calendar.
_REQUEST_STATUS = {
    RequestState.AWAITING_APPROVAL: "awaiting_approval",
    RequestState.CHANGES_REQUESTED: "changes_requested",
    RequestState.SENDING: "sending",
    RequestState.UNCONFIRMED: "unconfirmed",
    RequestState.FAILED: "failed",
    RequestState.NOT_CREATED: "failed",
}
STATUS_WORDS = {
    PostStatus.SCHEDULED.value: "scheduled",
    PostStatus.PENDING_RENDER.value: "rendering",
    PostStatus.POSTED.value: "live",
    PostStatus.FAILED.value: "failed",
    PostStatus.CANCELLED.value: "cancelled",
    PostStatus.MISSING.value: "not found at Infinipost",
    PostStatus.UNKNOWN.value: "status unknown",
    "awaiting_approval": "waiting for approval",
    "changes_requested": "changes requested",
    "sending": "being sent",
    "unconfirmed": "being checked",
}


@dataclass(frozen=True, kw_only=True)
class PlannedPost:
    """One account's post on the calendar: its time, where it was asked, by whom, and where it stands."""

    request_id: int
    post_id: str | None  # None: not created (yet), e.g. waiting for approval
    channel: ChannelRef
    author_id: str
    author_name: str
    account_id: str
    account_label: str
    status: str  # a PostStatus value, or what a request without posts is doing (`awaiting_approval`...)
    at: datetime
    caption: str | None
    content_type: str
    image_url: str | None  # a slideshow's first image, for a thumbnail
    announcement: MessageRef | None

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)

    @property
    def waiting(self) -> bool:
        """Waiting for approval (or its author's changes): nothing was sent, and `/cancel` withdraws it."""
        return self.status in ("awaiting_approval", "changes_requested")

    @property
    def upcoming(self) -> bool:
        """Not gone out yet (nor given up): it can still be cancelled or moved."""
        return self.post_id is not None and not PostStatus.from_api(self.status).is_final


async def visible_channels(ctx: Context, caller: Caller, channel_ids: Collection[str]) -> set[str]:
    """The channels the caller may see, as their platform says (a platform that says nothing: all of them)."""
    access = ctx.channel_access.get(caller.platform)
    if access is None or not channel_ids:
        return set(channel_ids)
    return await access.visible(caller, sorted(channel_ids))


async def plan(
    ctx: Context,
    platform: str,
    workspace_id: str,
    *,
    start: datetime,
    end: datetime,
    channels: Collection[str] | None,
) -> list[PlannedPost]:
    """The workspace's posts in [start, end), soonest first, from `channels` only (None: every channel)."""
    found = await ctx.storage.calendar.planned(platform, workspace_id, start=start, end=end, limit=PLAN_LIMIT)
    if channels is not None:
        found = [r for r in found if r.channel.channel_id in channels]
    posts = await ctx.storage.posts.of_requests([r.id for r in found])
    entries = [e for stored in found for e in _entries(stored, posts.get(stored.id, []))]
    return sorted((e for e in entries if start <= e.at < end), key=lambda e: (e.at, e.request_id, e.account_label))


def _entries(stored: StoredRequest, posts: Sequence[StoredPost]) -> list[PlannedPost]:
    request = stored.request
    if posts:
        return [
            _planned(
                stored,
                post_id=p.id,
                account=(p.account_id, p.account_label),
                status=p.status.value,
                at=p.posted_at or p.scheduled_time or stored.sent_at or stored.created_at,
            )
            for p in posts
        ]
    status = _REQUEST_STATUS.get(stored.state)
    if status is None or request.scheduled_time is None:
        return []
    return [
        _planned(stored, post_id=None, account=(a.id, a.label), status=status, at=request.scheduled_time)
        for a in request.accounts
    ]


def _planned(
    stored: StoredRequest, *, post_id: str | None, account: tuple[str, str], status: str, at: datetime
) -> PlannedPost:
    request = stored.request
    images = [url for url in request.media_urls if media_kind(url) == "image"]
    return PlannedPost(
        request_id=stored.id,
        post_id=post_id,
        channel=stored.channel,
        author_id=stored.user_id,
        author_name=stored.user_name,
        account_id=account[0],
        account_label=account[1],
        status=status,
        at=at,
        caption=request.caption,
        content_type=request.content_type,
        image_url=images[0] if images else None,
        announcement=stored.announcement,
    )


def by_day(
    entries: Sequence[PlannedPost], tz: ZoneInfo, *, first: date, days: int
) -> list[tuple[date, list[PlannedPost]]]:
    """Each day of `days` from `first` (in `tz`), with its posts in time order; a day with none is there, empty."""
    grouped: dict[date, list[PlannedPost]] = {first + timedelta(days=n): [] for n in range(days)}
    for entry in entries:
        day = entry.at.astimezone(tz).date()
        if day in grouped:
            grouped[day].append(entry)
    return list(grouped.items())


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant a day starts in `tz` (midnight, or the first hour a DST change leaves it)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)
