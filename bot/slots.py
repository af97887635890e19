"""Posting slots: a channel's preset times, and `/post … at next slot`, which takes the first one free.

    /slots      /slots set mon-fri 9am, 6pm; sat 11am      /slots clear

Slots are weekdays and wall-clock times, read in the channel's zone (the zone of the admin who set them): 09:00
stays 09:00 there across daylight-saving changes. A slot inside a spring-forward gap (02:30 on the night clocks go
from 02:00 to 03:00) is taken as far after the gap as it was into it (03:30); in an autumn overlap, the first of the
two (summer time). A slot is free for a /post when none of its accounts has a post from this bot, a request on its
way, or a claim at that instant; the claim, taken before the preview is shown, is what keeps two /posts racing for
one slot from getting the same one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.dates import format_local, wall_clock, zone
from bot.errors import BadCommand, InvalidTime, NotAllowed, UsageError
from bot.model import Caller, ChannelRef, Command, Reply
from bot.records import ChannelSettings
from bot.texts import clip

NEXT_SLOT = "next slot"
LOOKAHEAD = timedelta(weeks=8)  # how far `next slot` looks for a free one
CLAIM_FOR = timedelta(hours=1, minutes=5)  # a preview's life, and a little: by then the request holds the time
SHOWN = 10
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: n for n, name in enumerate(DAYS)} | {
    full: n for n, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_GROUPS = {
    "daily": range(7),
    "everyday": range(7),
    "weekdays": range(5),
    "weekday": range(5),
    "weekends": range(5, 7),
    "weekend": range(5, 7),
}
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
USAGE = (
    "`/slots` shows this channel's posting slots and the next free ones; admins set them with `/slots set mon-fri "
    "9am, 6pm; sat 11am` (days, then times; groups separated by `;`) or remove them with `/slots clear`. "
    "`/post … at next slot` takes the first free one."
)


def says_next_slot(phrase: str | None) -> bool:
    """Whether a /post's time phrase (`at next slot`, `when:next slot`) asks for the next free slot."""
    if not phrase:
        return False
    words = phrase.lower().split()
    if words and words[0] in ("at", "on", "in", "when"):
        words = words[1:]
    return " ".join(words) in (NEXT_SLOT, "the next slot")


def read_slots(text: str) -> tuple[tuple[int, int], ...]:
    """`mon-fri 9am, 6pm; sat 11am` -> (weekday, minute of the day) pairs, sorted. BadCommand names what is wrong."""
    slots: set[tuple[int, int]] = set()
    for group in filter(None, (part.strip() for part in text.split(";"))):
        days_text, _, times_text = group.partition(" ")
        days = _read_days(days_text)
        times = [t.strip() for t in times_text.split(",") if t.strip()]
        if not times:
            raise BadCommand(f"`{clip(group, 40)}` has no time: write days, then times, e.g. `mon-fri 9am, 6pm`.")
        slots |= {(day, read_time(t)) for day in days for t in times}
    if not slots:
        raise BadCommand(USAGE)
    return tuple(sorted(slots))


def _read_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.lower().split(","):
        if part in _GROUPS:
            days += list(_GROUPS[part])
            continue
        first, dash, last = part.partition("-")
        if first not in _DAY_NAMES or (dash and last not in _DAY_NAMES):
            raise BadCommand(f"`{clip(part, 20)}` is not a day: use `mon`…`sun`, a range `mon-fri`, or `daily`.")
        start, end = _DAY_NAMES[first], _DAY_NAMES[last] if dash else _DAY_NAMES[first]
        days += [(start + n) % 7 for n in range((end - start) % 7 + 1)]
    return days


def read_time(text: str) -> int:
    time = _TIME.match(text)
    if time is None:
        raise InvalidTime(f"`{clip(text, 20)}` is not a time of day, such as `9am` or `18:30`.")
    hour, minutes, half = int(time.group(1)), int(time.group(2) or 0), (time.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise InvalidTime("With am or pm, the hour is 1 to 12.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minutes > 59:
        raise InvalidTime("A time of day is 00:00 to 23:59.")
    return hour * 60 + minutes


def instants(slots: Sequence[tuple[int, int]], tz: ZoneInfo, *, after: datetime) -> Iterator[datetime]:
    """The slots' instants after `after`, in order, each at its wall-clock time in `tz` (see the module's rule for
    the hours a DST change skips or repeats)."""
    day: date = after.astimezone(tz).date()
    while True:
        for weekday, minute in slots:
            if weekday != day.weekday():
                continue
            instant = wall_clock(day, minute, tz)
            if instant > after:
                yield instant
        day += timedelta(days=1)


async def next_free(ctx: Context, caller: Caller, account_ids: Sequence[str]) -> datetime:
    """The first of the channel's slots free for all these accounts, claimed for them; UsageError if the channel
    has no slots or none is free within LOOKAHEAD."""
    settings = await ctx.storage.preferences.channel_settings(caller.channel)
    if not settings.slots:
        raise UsageError(
            "This channel has no posting slots, so there is no next slot. An admin sets them with "
            "`/slots set mon-fri 9am, 6pm`; or give a time, e.g. `at tomorrow 9am`."
        )
    now = ctx.clock()
    start = now + timedelta(minutes=1)
    tz = _zone_of(ctx, settings)
    taken = await ctx.storage.slots.taken(
        caller.platform, caller.workspace_id, account_ids, start=start, end=start + LOOKAHEAD
    )
    for instant in instants(settings.slots, tz, after=start):
        if instant >= start + LOOKAHEAD:
            break
        if instant in taken:
            continue
        claimed = await ctx.storage.slots.claim(
            caller.platform, caller.workspace_id, account_ids, at=instant, until=now + CLAIM_FOR
        )
        if claimed:
            return instant
    raise UsageError(f"Every slot of the next {LOOKAHEAD.days // 7} weeks is taken for these accounts; give a time.")


def _zone_of(ctx: Context, settings: ChannelSettings) -> ZoneInfo:
    return zone(settings.slots_zone or ctx.settings.default_timezone or "UTC")


async def slots(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    words = command.text.split(maxsplit=1)
    action = words[0].lower() if words else ""
    current = await ctx.storage.preferences.channel_settings(caller.channel)
    if action in ("", "show", "list"):
        return Reply(text=await _describe(ctx, caller.channel, current))
    if action not in ("set", "clear"):
        raise BadCommand(USAGE)
    if not caller.is_admin:
        raise NotAllowed("Only an admin can change this channel's posting slots.")
    if action == "clear":
        changed = replace(current, slots=(), slots_zone=None)
    else:
        tz = await ctx.zone_of(caller)
        changed = replace(current, slots=read_slots(words[1] if len(words) > 1 else ""), slots_zone=tz.key)
    await ctx.storage.preferences.save_channel_settings(caller, changed, action="channel_slots")
    return Reply(text=await _describe(ctx, caller.channel, changed))


async def _describe(ctx: Context, channel: ChannelRef, settings: ChannelSettings) -> str:
    if not settings.slots:
        return "This channel has no posting slots. An admin sets them with `/slots set mon-fri 9am, 6pm; sat 11am`."
    tz = _zone_of(ctx, settings)
    by_time: dict[int, list[int]] = {}
    for weekday, minute in settings.slots:
        by_time.setdefault(minute, []).append(weekday)
    listed = "; ".join(
        f"{_days_text(days)} {minute // 60:02d}:{minute % 60:02d}" for minute, days in sorted(by_time.items())
    )
    accounts = settings.default_accounts
    lines = [f"Posting slots ({tz.key}): {listed}."]
    if accounts:
        now = ctx.clock()
        taken = await ctx.storage.slots.taken(
            channel.platform, channel.workspace_id, accounts, start=now, end=now + LOOKAHEAD
        )
        free = [i for i in _first(instants(settings.slots, tz, after=now), now + LOOKAHEAD) if i not in taken]
        lines.append(f"The next {min(SHOWN, len(free))} free for this channel's default accounts:")
        lines += [f"• {format_local(i, tz)}" for i in free[:SHOWN]]
    else:
        lines.append("This channel has no default accounts; `/post … to <accounts> at next slot` takes theirs.")
    return "\n".join(lines)


def _first(found: Iterator[datetime], until: datetime) -> Iterator[datetime]:
    for instant in found:
        if instant >= until:
            return
        yield instant


def _days_text(days: list[int]) -> str:
    days = sorted(days)
    if days == list(range(7)):
        return "daily"
    if days == list(range(5)):
        return "mon-fri"
    return ",".join(DAYS[d] for d in days)
