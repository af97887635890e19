"""The weekly digest: each channel with posts is told, by default on Monday at 09:00 in its zone, how last week went
per account, this week's plan by day, and which days have nothing scheduled.

    /digest      /digest off | on      /digest mon 9am      /digest fri 4pm

A digest is written to the outbox together with a row naming its channel and the moment it was due, which only one
write can insert: no restart or second replica sends a week's digest twice. A bot that was down when a digest was
due sends it when it comes back, if that is within DIGEST_GRACE; a later one waits for the next week.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar.plan import PlannedPost, by_day, day_start, plan
from bot.context import Context
from bot.dates import wall_clock, zone
from bot.errors import BadCommand, NotAllowed
from bot.model import ChannelRef, Command, PostStatus, Reply
from bot.notices import Digest, DigestAccount, DigestFailure, DigestPost, Notice, NoticeKind
from bot.records import DigestSetting, NewNotice
from bot.slots import read_time
from bot.texts import clip

logger = logging.getLogger(__name__)

DIGEST_GRACE = timedelta(days=1)
ACTIVE_WITHIN = timedelta(weeks=8)  # a channel whose requests are older than this, with nothing upcoming, gets none
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
USAGE = (
    "`/digest` shows when this channel's weekly digest goes out; admins change it with `/digest mon 9am` (any day "
    "and time, in your zone), `/digest off` or `/digest on`."
)


def default_setting(ctx: Context) -> DigestSetting:
    return DigestSetting(zone=ctx.settings.default_timezone or "UTC")


async def digest(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    words = command.text.lower().split()
    current = await ctx.storage.calendar.digest_setting(caller.channel) or default_setting(ctx)
    if not words:
        return Reply(text=_describe(current))
    if not caller.is_admin:
        raise NotAllowed("Only an admin can change this channel's digest.")
    if words in (["off"], ["on"]):
        changed = replace(current, enabled=words == ["on"])
    else:
        weekday, minute = _read_when(words)
        tz = await ctx.zone_of(caller)
        changed = DigestSetting(enabled=True, weekday=weekday, minute=minute, zone=tz.key)
    await ctx.storage.calendar.save_digest_setting(caller, changed)
    return Reply(text=_describe(changed, changed=True))


def _read_when(words: list[str]) -> tuple[int, int]:
    if len(words) not in (2, 3):
        raise BadCommand(USAGE)
    day = next((n for n, name in enumerate(DAYS) if len(words[0]) >= 3 and name.startswith(words[0])), None)
    if day is None:
        raise BadCommand(f"`{clip(words[0], 20)}` is not a day of the week. {USAGE}")
    return day, read_time(" ".join(words[1:]))


def _describe(setting: DigestSetting, *, changed: bool = False) -> str:
    if not setting.enabled:
        return "This channel gets no weekly digest" + (
            " now." if changed else "; an admin can turn it on with `/digest on`."
        )
    day = DAYS[setting.weekday].capitalize()
    at = f"{setting.minute // 60:02d}:{setting.minute % 60:02d}"
    return (
        f"This channel's weekly digest {'now goes' if changed else 'goes'} out on {day}s at {at} ({setting.zone}): "
        "last week per account, this week's plan by day, and the days with nothing scheduled."
    )


def last_due(setting: DigestSetting, now: datetime) -> datetime:
    """The latest moment at or before `now` the digest was due, in its zone's own clock (so across a DST change it
    stays at 09:00 there)."""
    tz = zone(setting.zone)
    local = now.astimezone(tz)
    back = (local.weekday() - setting.weekday) % 7
    day = local.date() - timedelta(days=back)
    due = wall_clock(day, setting.minute, tz)
    if due > now:
        due = wall_clock(day - timedelta(days=7), setting.minute, tz)
    return due


async def send_due_digests(ctx: Context) -> int:
    """Write the digests due now to the outbox, once per channel and week; how many were written."""
    now = ctx.clock()
    settings = await ctx.storage.calendar.digest_settings()
    default = default_setting(ctx)
    done = await ctx.storage.calendar.digests_written(since=now - DIGEST_GRACE - timedelta(hours=1))
    written = 0
    for channel in await ctx.storage.calendar.channels_with_posts(since=now - ACTIVE_WITHIN):
        setting = settings.get(channel, default)
        if not setting.enabled:
            continue
        due = last_due(setting, now)
        if now - due > DIGEST_GRACE or (channel, due) in done:
            continue
        content = await compose(ctx, channel, due=due, tz=zone(setting.zone))
        notice = Notice.of_digest(content, due=due, sandbox=ctx.sandbox)
        stored = NewNotice(channel=channel, kind=NoticeKind.DIGEST.value, request_id=None, payload=notice.to_json())
        if await ctx.storage.calendar.record_digest(channel, due_at=due, notice=stored):
            written += 1
    if written:
        logger.info("wrote %d weekly digest(s)", written)
        ctx.outbox.wake()
    return written


async def compose(ctx: Context, channel: ChannelRef, *, due: datetime, tz: ZoneInfo) -> Digest:
    """A channel's digest for the week that starts at `due`: last week per account, this week by day, and the days
    with nothing scheduled."""
    first = due.astimezone(tz).date()
    start, end = day_start(first - timedelta(days=7), tz), day_start(first + timedelta(days=7), tz)
    entries = await plan(
        ctx, channel.platform, channel.workspace_id, start=start, end=end, channels=[channel.channel_id]
    )
    week_start = day_start(first, tz)
    days: list[tuple[str, tuple[DigestPost, ...]]] = []
    empty: list[str] = []
    for day, posts in by_day([e for e in entries if e.at >= week_start], tz, first=first, days=7):
        label = f"{day:%a} {day.day} {day:%b}"
        if not posts:
            empty.append(label)
            continue
        days.append((label, tuple(_planned(entry, tz) for entry in posts)))
    return Digest(
        week=f"{first:%a} {first.day} {first:%b}",
        zone=tz.key,
        workspace_id=channel.workspace_id,
        past=_outcomes([e for e in entries if e.at < week_start]),
        days=tuple(days),
        empty=tuple(empty),
    )


def _planned(entry: PlannedPost, tz: ZoneInfo) -> DigestPost:
    return DigestPost(
        time=f"{entry.at.astimezone(tz):%H:%M}",
        account=entry.account_label,
        status=entry.status_words,
        caption=" ".join((entry.caption or "").split()),
        request_id=entry.request_id,
    )


_OUTCOME = {
    PostStatus.POSTED: "live",
    PostStatus.FAILED: "failed",
    PostStatus.MISSING: "failed",
    PostStatus.CANCELLED: "cancelled",
}


def _outcomes(entries: list[PlannedPost]) -> tuple[DigestAccount, ...]:
    """Per account: how many went live, failed (each failure linked to its request's announcement) or were
    cancelled."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    failures: dict[str, list[DigestFailure]] = defaultdict(list)
    for entry in entries:
        word = _OUTCOME.get(PostStatus.from_api(entry.status), "not settled")
        counts[entry.account_label][word] += 1
        if word == "failed":
            announcement = entry.announcement
            failures[entry.account_label].append(
                DigestFailure(
                    request_id=entry.request_id,
                    post_id=entry.post_id,
                    channel_id=announcement.channel_id if announcement else entry.channel.channel_id,
                    message_id=announcement.message_id if announcement else None,
                )
            )
    return tuple(
        DigestAccount(
            account=account,
            counts=tuple(sorted(counts[account].items())),
            failures=tuple(failures[account]),
        )
        for account in sorted(counts)
    )
