"""`/approve #N [<time> | now]`, or Approve under a request's announcement: the create goes out, once.

The request moves from awaiting approval to sending in one guarded write, claimed by this replica, before the create
call: of two approvers pressing at once one sends, and the other is told it was approved. A replica that dies between
the two leaves it `sending`, which the tracker settles as for any create (bot/recovery.py): never sent twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.approvals import decided_by_an_approver, lost_the_race, step, what_happened
from bot.context import Context, run_to_the_end
from bot.dates import format_local, parse_when
from bot.errors import InvalidTime, UsageError
from bot.model import Command, PostRequest, Reply
from bot.posting import hold_back_look_alikes, send
from bot.records import Approval, RequestState, StoredRequest
from bot.relink import renewed_links


async def approve(ctx: Context, command: Command) -> Reply:
    """`/approve #N [<time> | now]`, or Approve under its announcement."""
    caller = command.caller
    stored, rest = await decided_by_an_approver(ctx, command, verb="approve")
    if stored.state == RequestState.CHANGES_REQUESTED:
        raise UsageError(what_happened(stored))
    tz = await ctx.zone_of(caller)
    now = ctx.clock()
    lead = timedelta(minutes=ctx.settings.approval_min_lead_minutes)
    request = stored.request
    if rest:
        when = parse_when(rest.removeprefix("at ").strip(), now=now, tz=tz, locale=caller.locale)
        if when is not None and when - now < lead:
            raise InvalidTime(_too_soon(stored, tz, lead, now=now, new=True))
        request = replace(request, scheduled_time=when)
        if when is not None and any(request.media_keys):  # the uploads' links must last until the new time
            until = when + timedelta(hours=ctx.settings.media_link_hours)
            content = await renewed_links(ctx, stored, until=until)
            if content is not None:
                request = replace(request, media_urls=content[1])
    elif request.scheduled_time is not None and request.scheduled_time - now < lead:
        raise InvalidTime(_too_soon(stored, tz, lead, now=now, new=False))
    run_to_the_end()  # what follows may reach Infinipost, and is never cut short
    approval = (stored.approval or Approval(approvers=())).with_step(step("approved", caller, now))
    async with ctx.create_lock:
        await hold_back_look_alikes(ctx, request, own_id=stored.id)  # it stays waiting: nothing was decided
        moved = await ctx.storage.requests.transition(
            stored.id,
            from_states=(RequestState.AWAITING_APPROVAL,),
            to_state=RequestState.SENDING,
            approval=approval,
            approval_due=None,
            request=request if request != stored.request else None,
            request_was=stored.request,  # what the approver was shown: an edit meanwhile goes back to them
            audit=(caller, "approve", _new_time(request) if request != stored.request else {}),
        )
    if moved is None:
        now_stored = await ctx.storage.requests.get(stored.id)
        if now_stored is not None and now_stored.state == RequestState.AWAITING_APPROVAL:
            raise UsageError(
                f"Request #{stored.id} was edited while you approved it, so nothing was sent: look at it again (its "
                "announcement shows the new version) and approve that."
            )
        await lost_the_race(ctx, stored.id)
    reply = await send(ctx, moved, caller=caller, tz=tz)
    return replace(reply, text=f"Approved request #{stored.id}. {reply.text}")


def _too_soon(stored: StoredRequest, tz: ZoneInfo, lead: timedelta, *, now: datetime, new: bool) -> str:
    minutes = f"{lead.total_seconds() / 60:g} minutes"
    how = f"`/approve #{stored.id} <time>` (e.g. `/approve #{stored.id} in 1 hour`) or `/approve #{stored.id} now`"
    if new:
        return f"That is less than {minutes} away. Pick a later time, or approve it with {how}."
    when = stored.request.scheduled_time
    assert when is not None
    passed = "has passed" if when <= now else f"is less than {minutes} away"
    return (
        f"Request #{stored.id} is due {format_local(when, tz)}, which {passed}; nothing goes out late on its own. "
        f"Approve it with a new time, or now: {how}."
    )


def _new_time(request: PostRequest) -> dict[str, object]:
    return {"to": request.scheduled_time.isoformat() if request.scheduled_time else "now"}
