"""Recurring posts: a confirmed `/post … every …` becomes a series, whose occurrences are created at Infinipost one
by one, each its own request and post, as they come within BOT_RECURRING_HORIZON_DAYS.

Each occurrence is stored (claimed, as any create) before its create call, under a unique (series, place) that
only one replica can take, and the series is advanced past it in a guarded step: an occurrence is created once, and
a crash leaves it to the same settling as any interrupted create. An occurrence whose time passed while the bot
was down is skipped: nothing goes out late on its own. `/cancel series #N` stops the rest; `/cancel` of one
occurrence cancels just that post.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice

from bot.context import Context
from bot.dates import format_local, zone
from bot.errors import NotAllowed, UsageError
from bot.model import Caller, Command, PostRequest, Reply
from bot.records import RequestState, SeriesState, StoredRequest
from bot.recurrence import Recurrence
from bot.relink import renewed_request

logger = logging.getLogger(__name__)

PREVIEWED = 5  # the first instants a preview lists
ROUNDS = 50  # occurrences created per series sweep at most (the rest come next round)
START_AFTER = timedelta(minutes=1)


def first_instants(rule: Recurrence, *, now: datetime) -> list[datetime]:
    return list(islice(rule.instants(after=now + START_AFTER), PREVIEWED))


def describe_rule(rule: Recurrence, instants: list[datetime]) -> str:
    """A preview's lines: the rule, its first instants, and when it stops."""
    tz = zone(rule.zone)
    stops = f"until {rule.until:%a %d %b %Y}" if rule.until else f"{rule.times} times in all"
    lines = [f"Every {rule.text} ({stops}); the first {len(instants)}:"]
    lines += [f"• {format_local(instant, tz)}" for instant in instants]
    return "\n".join(lines)


async def start(ctx: Context, stored: StoredRequest, caller: Caller) -> Reply:
    """A recurring post confirmed: the series goes live, and the occurrences within the horizon are created now."""
    assert stored.recurrence is not None
    rule = Recurrence.from_json(stored.recurrence)
    first = next(iter(first_instants(rule, now=ctx.clock())), None)
    if first is None:
        raise UsageError(f"Every time of request #{stored.id}'s series has passed; nothing was sent.")
    started = await ctx.storage.series.start(
        stored.id, from_state=stored.state, next_at=first, audit=(caller, "series_start", {"every": rule.text})
    )
    if not started:
        raise UsageError(f"Request #{stored.id} was already handled.")
    created = await create_due(ctx)
    tz = zone(rule.zone)
    return Reply(
        text=f"Recurring post #{stored.id}: every {rule.text}, from {format_local(first, tz)}. Each post is created "
        f"at Infinipost {ctx.settings.recurring_horizon_days:g} days ahead ({created} so far) and announced here; "
        f"`/cancel series #{stored.id}` stops the rest, `/cancel` of one post skips just that one."
    )


async def create_due(ctx: Context) -> int:
    """Create the occurrences of every live series that come within the horizon; how many were created."""
    created = 0
    for _ in range(ROUNDS):
        now = ctx.clock()
        due = await ctx.storage.series.due(now + timedelta(days=ctx.settings.recurring_horizon_days), limit=100)
        if not due:
            break
        for state in due:
            try:
                created += await _next_occurrence(ctx, state, now=now)
            except Exception:  # one series' trouble must not stop the others, nor the tracker's round
                logger.exception("series %s: could not create its next post; skipping it", state.request_id)
                await _skip(ctx, state)
    return created


async def _next_occurrence(ctx: Context, state: SeriesState, *, now: datetime) -> int:
    """Create (or skip, when its time passed) a series' next occurrence, and move the series on; 1 if created."""
    asked = await ctx.storage.requests.get(state.request_id)
    if asked is None or asked.recurrence is None or state.next_at is None:
        return 0
    rule = Recurrence.from_json(asked.recurrence)
    at = state.next_at
    following = _following(rule, state, at)
    occurrence = None
    if at > now:
        request = await _occurrence_request(ctx, asked, at)
        occurrence = await ctx.storage.series.add_occurrence(asked, occurrence=state.created, request=request)
    else:
        logger.info("series %s: occurrence %s was due while the bot was away; skipped", asked.id, state.created)
    await ctx.storage.series.advance(asked.id, created_was=state.created, next_at=following)
    if occurrence is None:
        return 0
    await _send(ctx, occurrence, rule)
    return 1


async def _skip(ctx: Context, state: SeriesState) -> None:
    """Move a series past an occurrence that could not be made (its uploads gone, say): it is not tried forever."""
    asked = await ctx.storage.requests.get(state.request_id)
    if asked is None or asked.recurrence is None or state.next_at is None:
        return
    rule = Recurrence.from_json(asked.recurrence)
    following = _following(rule, state, state.next_at)
    await ctx.storage.series.advance(asked.id, created_was=state.created, next_at=following)


def _following(rule: Recurrence, state: SeriesState, at: datetime) -> datetime | None:
    """When the occurrence after the one at `at` is due; None once the series has had all its posts."""
    more = rule.times is None or state.created + 1 < rule.times
    return next(rule.instants(after=at, since=at), None) if more else None


async def _occurrence_request(ctx: Context, asked: StoredRequest, at: datetime) -> PostRequest:
    """The series' post at `at`, with links to its uploads that last until then (and the margin): their keys go
    with the occurrence, which keeps them stored while it is to go out, whatever becomes of the series."""
    renewed = await renewed_request(ctx, asked, until=at + timedelta(hours=ctx.settings.media_link_hours))
    return replace(renewed or asked.request, scheduled_time=at)


async def _send(ctx: Context, occurrence: StoredRequest, rule: Recurrence) -> None:
    # Deferred: posting imports this module to start a series.
    from bot.posting import hold_back_look_alikes, send

    author = occurrence.author
    async with ctx.create_lock:
        try:
            await hold_back_look_alikes(ctx, occurrence.request, own_id=occurrence.id)
        except UsageError as exc:
            await ctx.storage.requests.finish(
                occurrence.id, state=RequestState.FAILED, error=exc.user_message, audit=(author, "series_held", {})
            )
            return
    await send(ctx, occurrence, caller=author, tz=zone(rule.zone))


async def stop(ctx: Context, command: Command, number: str) -> Reply:
    """`/cancel series #N`: no more occurrences; those already created stay, each cancellable on its own."""
    caller = command.caller
    digits = number.strip("`").lstrip("#")
    stored = await ctx.storage.requests.get(int(digits)) if digits.isascii() and digits.isdigit() else None
    if stored is None or stored.channel.workspace_id != caller.workspace_id or stored.recurrence is None:
        raise UsageError(f"I have no recurring post `{number}`. `/posts` lists them (“recurring”).")
    if stored.user_id != caller.user_id and not caller.is_admin:
        raise NotAllowed(f"Only {stored.user_name}, who asked for it, or an admin can stop series #{stored.id}.")
    state = await ctx.storage.series.get(stored.id)
    if state is None or not await ctx.storage.series.stop(stored.id, audit=(caller, "series_stop", {})):
        raise UsageError(f"Series #{stored.id} is not running: it ended, or was stopped already.")
    return Reply(
        text=f"Stopped series #{stored.id}: no more of its posts will be created. The {state.created} already at "
        "Infinipost stay; `/cancel` each one you do not want."
    )
