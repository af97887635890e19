"""A person's overview of the next two weeks, for a platform's home tab (Slack's App Home): posts by day in their
zone, counts per account, and what they may do with each post. Platform-neutral: adapters lay it out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from bot.calendar.command import page_channels
from bot.calendar.links import PageScope
from bot.calendar.plan import PlannedPost, by_day, day_start, plan, visible_channels
from bot.context import Context
from bot.model import Caller, MessageRef

HOME_DAYS = 14


@dataclass(frozen=True, kw_only=True)
class HomeEntry:
    """One post on the overview, as its reader sees it."""

    time: str  # HH:MM in the reader's zone
    account: str
    status: str  # in words: scheduled, live, waiting for approval...
    caption: str
    request_id: int
    post_id: str | None
    channel_id: str
    author_id: str
    author_name: str
    announcement: MessageRef | None  # where "Open in channel" goes
    # The reader may cancel it (its author or an admin), and move it: it has not gone out, or still waits for approval.
    manageable: bool


@dataclass(frozen=True, kw_only=True)
class HomeDay:
    day: date
    label: str  # "Sat 28 Nov"
    entries: tuple[HomeEntry, ...]


@dataclass(frozen=True, kw_only=True)
class HomeView:
    """The next HOME_DAYS days from today, in the reader's zone."""

    zone: str
    days: tuple[HomeDay, ...]
    counts: tuple[tuple[str, int], ...]  # (account, posts in these days), most first
    calendar_url: str | None  # a signed link to the calendar page, when the bot has an address

    @property
    def total(self) -> int:
        return sum(len(day.entries) for day in self.days)


async def home(ctx: Context, caller: Caller, *, with_link: bool = True) -> HomeView:
    """The overview `caller` may see: only posts from channels they may see."""
    tz = await ctx.zone_of(caller)
    first = ctx.clock().astimezone(tz).date()
    start, end = day_start(first, tz), day_start(first + timedelta(days=HOME_DAYS), tz)
    entries = await plan(ctx, caller.platform, caller.workspace_id, start=start, end=end, channels=None)
    visible = await visible_channels(ctx, caller, {e.channel.channel_id for e in entries})
    entries = [e for e in entries if e.channel.channel_id in visible]
    days = tuple(
        HomeDay(
            day=day,
            label=f"{day:%a} {day.day} {day:%b}",
            entries=tuple(_entry(e, caller, time=f"{e.at.astimezone(tz):%H:%M}") for e in posts),
        )
        for day, posts in by_day(entries, tz, first=first, days=HOME_DAYS)
    )
    counts = Counter(e.account_label for e in entries)
    return HomeView(
        zone=tz.key,
        days=days,
        counts=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        calendar_url=await _calendar_url(ctx, caller) if with_link else None,
    )


def _entry(entry: PlannedPost, caller: Caller, *, time: str) -> HomeEntry:
    caption = " ".join((entry.caption or "").split())
    return HomeEntry(
        time=time,
        account=entry.account_label,
        status=entry.status_words,
        caption=caption,
        request_id=entry.request_id,
        post_id=entry.post_id,
        channel_id=entry.channel.channel_id,
        author_id=entry.author_id,
        author_name=entry.author_name,
        announcement=entry.announcement,
        manageable=(entry.upcoming or entry.waiting) and (caller.is_admin or caller.user_id == entry.author_id),
    )


async def _calendar_url(ctx: Context, caller: Caller) -> str | None:
    links = ctx.calendar_links
    if links is None or links.base_url is None:
        return None
    channels = await page_channels(ctx, caller)
    scope = PageScope(
        platform=caller.platform,
        workspace_id=caller.workspace_id,
        user_id=caller.user_id,
        channels=channels,
        # On the hour: the same overview asked twice within an hour is the same, link and all.
        expires=(ctx.clock() + timedelta(hours=ctx.settings.calendar_link_hours)).replace(
            minute=0, second=0, microsecond=0
        ),
    )
    return links.page_url(scope)
