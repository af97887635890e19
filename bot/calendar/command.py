"""`/calendar`: the coming week as text (with buttons where the platform has them), a signed link to the calendar
page, and private iCal feeds.

    /calendar [next | previous | week <n>] [@account]      /calendar link      /calendar ical [revoke]
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.accounts import resolve_accounts
from bot.calendar.links import PageScope, new_feed_secret
from bot.calendar.page import PAGE_AHEAD, PAGE_BACK
from bot.calendar.plan import PlannedPost, by_day, day_start, plan, visible_channels
from bot.context import Context
from bot.dates import format_local
from bot.errors import BadCommand, NotSetUp
from bot.model import CalendarControls, Caller, Command, Reply
from bot.texts import clip

USAGE = (
    "`/calendar` shows the coming week; `/calendar next` (or `previous`, or `week 2`) another, and `@account` narrows "
    "it to one account. `/calendar link` opens the whole calendar in a browser; `/calendar ical` gives a private feed "
    "for Google Calendar or Outlook (`/calendar ical revoke` ends it)."
)
NO_ADDRESS = (
    "The calendar page needs the address people reach the bot at: whoever runs the bot sets BOT_PUBLIC_URL. "
    "`/calendar` shows the coming week here meanwhile."
)
MAX_WEEKS = 52


async def calendar(ctx: Context, command: Command) -> Reply:
    words = command.text.split()
    first = words[0].lower() if words else ""
    if first == "link" and len(words) == 1:
        return await _link(ctx, command.caller)
    if first == "ical":
        if words[1:] == []:
            return await _feed(ctx, command.caller)
        if [w.lower() for w in words[1:]] == ["revoke"]:
            return await _revoke(ctx, command.caller)
        raise BadCommand(USAGE)
    return await week(ctx, command.caller, words)


async def week(ctx: Context, caller: Caller, words: list[str]) -> Reply:
    """A week of posts from today (`offset` weeks on), as text, with the controls to page and narrow it."""
    offset, account = _read_week(words)
    tz = await ctx.zone_of(caller)
    first = ctx.clock().astimezone(tz).date() + timedelta(weeks=offset)
    start, end = day_start(first, tz), day_start(first + timedelta(days=7), tz)
    entries = await plan(ctx, caller.platform, caller.workspace_id, start=start, end=end, channels=None)
    visible = await visible_channels(ctx, caller, {e.channel.channel_id for e in entries})
    entries = [e for e in entries if e.channel.channel_id in visible]
    known = await (await ctx.infinipost(caller)).accounts.all()
    account_id = None
    if account:
        aliases = await ctx.storage.preferences.aliases(caller.platform, caller.workspace_id)
        (chosen,) = resolve_accounts([account], known=known, aliases=aliases)
        account_id = chosen.id
        entries = [e for e in entries if e.account_id == account_id]
    narrowed = f" @{account_id}" if account_id else ""
    lines = [_heading(first, tz, account_id)]
    for day, posts in by_day(entries, tz, first=first, days=7):
        lines.append(short_day(day) + ("" if posts else " — nothing scheduled"))
        lines += [_line(entry, tz) for entry in posts]
    if not entries:
        lines.append(
            "Nothing is scheduled this week." + (" `/calendar next` shows the next one." if offset < 1 else "")
        )
    controls = CalendarControls(
        week=offset,
        previous=f"week {offset - 1}{narrowed}" if offset > -MAX_WEEKS else None,
        next=f"week {offset + 1}{narrowed}" if offset < MAX_WEEKS else None,
        accounts=tuple((a.id, a.label) for a in known),
        account=account_id,
    )
    return Reply(text="\n".join(lines), calendar=controls)


def _read_week(words: list[str]) -> tuple[int, str | None]:
    offset, account = 0, None
    position = 0
    while position < len(words):
        word, lowered = words[position], words[position].lower()
        position += 1
        if lowered in ("next", "previous", "last", "this"):
            offset = {"next": 1, "previous": -1, "last": -1, "this": 0}[lowered]
        elif lowered == "week" and position < len(words) and words[position].lstrip("+-").isdigit():
            offset = int(words[position])
            position += 1
        elif lowered == "week":
            continue
        elif word.startswith("@") and account is None:
            account = word
        else:
            raise BadCommand(f"`/calendar` does not take `{clip(word, 40)}`. {USAGE}")
    if abs(offset) > MAX_WEEKS:
        raise BadCommand(f"`/calendar` goes at most {MAX_WEEKS} weeks away.")
    return offset, account


def _heading(first: date, tz: ZoneInfo, account: str | None) -> str:
    last = first + timedelta(days=6)
    narrowed = f" for {account}" if account else ""
    return f"Posts from {short_day(first)} to {short_day(last)}{narrowed} (times in {tz.key}):"


def short_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _line(entry: PlannedPost, tz: ZoneInfo) -> str:
    caption = " ".join((entry.caption or "").split())
    shown = f"“{clip(caption, 50)}”" if caption else "(no caption)"
    return (
        f"• {entry.at.astimezone(tz):%H:%M} {entry.account_label} — {entry.status_words} — {shown} · "
        f"#{entry.request_id} by {entry.author_name} in #{entry.channel.channel_id}"
    )


async def page_channels(ctx: Context, caller: Caller) -> tuple[str, ...] | None:
    """The channels a link may show: those of the workspace's posts the caller may see (None: all, where the
    platform says nothing of who sees what)."""
    if caller.platform not in ctx.channel_access:
        return None
    now = ctx.clock()
    everything = await plan(
        ctx, caller.platform, caller.workspace_id, start=now - PAGE_BACK, end=now + PAGE_AHEAD, channels=None
    )
    return tuple(sorted(await visible_channels(ctx, caller, {e.channel.channel_id for e in everything})))


async def _link(ctx: Context, caller: Caller) -> Reply:
    links = ctx.calendar_links
    if links is None or links.base_url is None:
        raise NotSetUp(NO_ADDRESS)
    hours = ctx.settings.calendar_link_hours
    scope = PageScope(
        platform=caller.platform,
        workspace_id=caller.workspace_id,
        user_id=caller.user_id,
        channels=await page_channels(ctx, caller),
        expires=ctx.clock() + timedelta(hours=hours),
    )
    url = links.page_url(scope)
    until = format_local(scope.expires, await ctx.zone_of(caller))
    return Reply(
        text=f"Your calendar, as you may see it: {url}\nThe link is yours alone and works until {until} "
        f"({hours:g} hours); `/calendar link` makes a new one."
    )


async def _feed(ctx: Context, caller: Caller) -> Reply:
    links = ctx.calendar_links
    if links is None or links.base_url is None:
        raise NotSetUp(NO_ADDRESS.replace("calendar page", "calendar feed"))
    secret, hashed = new_feed_secret()
    await ctx.storage.calendar.open_feed(hashed, caller, await page_channels(ctx, caller))
    return Reply(
        text=f"Your private calendar feed: {links.feed_url(secret)}\nAdd it in Google Calendar (Other calendars → "
        "From URL) or Outlook (Add calendar → Subscribe from web). Anyone with the address sees what you see, so "
        "keep it to yourself; `/calendar ical revoke` ends it (and every other feed of yours)."
    )


async def _revoke(ctx: Context, caller: Caller) -> Reply:
    ended = await ctx.storage.calendar.revoke_feeds(caller.platform, caller.workspace_id, caller.user_id)
    if not ended:
        return Reply(text="You have no calendar feed here; nothing changed.")
    return Reply(text=f"Ended {ended} calendar feed{'s' if ended != 1 else ''}: the address no longer works.")
