"""Approvals: a second pair of eyes before a post goes out, in the thread where it was proposed.

    /approvals [off | required by <approvers> | authors-may-approve yes|no]
    /approve #N [<time> | now]      /changes #N <note>      /reject #N <reason>

In a channel that requires approval, a confirmed /post is stored as awaiting approval and nothing is sent; its
announcement names whom it waits for and carries Approve, Request changes and Reject. Every step is one guarded
state change in storage (`Requests.transition`), written with its audit row and its notices, so that of two
approvers (or two replicas) acting at once one wins, and the other is told what happened.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NoReturn

from bot.context import Context
from bot.errors import BadCommand, BotError, NotAllowed, UsageError
from bot.model import Caller, Command, Reply
from bot.notices import NoticeKind, notice_for
from bot.records import Approval, ApprovalStep, Approver, RequestState, StoredRequest
from bot.texts import clip

APPROVALS_USAGE = (
    "`/approvals` shows this channel's approval settings. Admins can change them: `/approvals required by @alice, "
    "@design-team` (people or groups), `/approvals authors-may-approve yes` (or `no`), and `/approvals off`."
)
# A request with no time of its own ("now") waits this long for its approvers, then expires.
WAIT_WITHOUT_TIME = timedelta(days=1)
MAX_NOTE = 1000
# Mentions as Slack (escaped) and Discord write them; a platform may add `|name` to any of them.
_MENTION = re.compile(r"<(@!?|@&|!subteam\^)([A-Za-z0-9]+)(?:\|@?([^>]*))?>")
_WORDS = re.compile(r"<[^>]*>|[^\s,]+")
_NAME = re.compile(r"@?[\w.\-]{1,80}")


def read_approvers(text: str, caller: Caller) -> tuple[Approver, ...]:
    """The approvers `/approvals required by ...` names, as mentions (and, in the console, plain names)."""
    found: dict[tuple[str, str], Approver] = {}
    for word in _WORDS.findall(text):
        if word.lower() == "and":
            continue
        mention = _MENTION.fullmatch(word)
        if mention:
            sign, ident, name = mention.groups()
            approver = Approver(kind="user" if sign in ("@", "@!") else "group", id=ident, name=(name or "").strip())
        elif caller.plain_names and _NAME.fullmatch(word):
            approver = Approver(kind="user", id=word.lstrip("@"), name=word.lstrip("@"))
        else:
            raise BadCommand(
                f"`{clip(word, 40)}` is not someone I can tell apart: name approvers by mentioning them (pick them "
                "from the list as you type `@`), people or groups. If you did, the bot's app needs its current "
                "settings: whoever runs the bot updates its manifest (README, “Approvals”). " + APPROVALS_USAGE
            )
        found.setdefault((approver.kind, approver.id), approver)
    return tuple(found.values())


def named(approvers: tuple[Approver, ...]) -> str:
    """Approvers in a reply, which mentions no one: their names (a group's marked as one)."""
    return ", ".join(f"{'group ' if a.kind == 'group' else ''}@{a.name or a.id}" for a in approvers)


async def approvals(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    words = command.text.split()
    action = words[0].lower() if words else ""
    current = await ctx.storage.preferences.channel_settings(caller.channel)
    if action in ("", "show", "status"):
        return Reply(text=_settings_text(current.approvers, current.authors_may_approve))
    if action not in ("off", "required", "authors-may-approve"):
        raise BadCommand(APPROVALS_USAGE)
    if not caller.is_admin:
        raise NotAllowed("Only an admin can change this channel's approvals.")
    if action == "off":
        if len(words) != 1:
            raise BadCommand(APPROVALS_USAGE)
        changed = replace(current, approvers=(), authors_may_approve=False)
    elif action == "required":
        rest = command.text.split(maxsplit=1)[1] if len(words) > 1 else ""
        if not rest.lower().startswith("by "):
            raise BadCommand("Write `/approvals required by` and the approvers, e.g. `/approvals required by @alice`.")
        approvers = read_approvers(rest[3:], caller)
        if not approvers:
            raise BadCommand("Name at least one approver, e.g. `/approvals required by @alice, @design-team`.")
        changed = replace(current, approvers=approvers)
    else:
        if len(words) != 2 or words[1].lower() not in ("yes", "no"):
            raise BadCommand("Write `/approvals authors-may-approve yes` or `/approvals authors-may-approve no`.")
        changed = replace(current, authors_may_approve=words[1].lower() == "yes")
    await ctx.storage.preferences.save_channel_settings(caller, changed, action="channel_approvals")
    return Reply(text=_settings_text(changed.approvers, changed.authors_may_approve, changed=True))


def _settings_text(approvers: tuple[Approver, ...], authors_may_approve: bool, *, changed: bool = False) -> str:
    if not approvers:
        return "Posts from this channel need no approval" + (
            " now." if changed else ". An admin can require it with `/approvals required by @someone`."
        )
    authors = "may approve their own" if authors_may_approve else "may not approve their own"
    return (
        f"Posts from this channel{' now' if changed else ''} wait for approval by {named(approvers)} before "
        f"anything is sent; authors {authors} (`/approvals authors-may-approve yes|no`)."
    )


async def submit(ctx: Context, stored: StoredRequest, *, caller: Caller, approval: Approval) -> Reply:
    """A confirmed request in a channel that requires approval: stored as awaiting it, announced with the
    buttons, and nothing sent."""
    now = ctx.clock()
    approval = approval.with_step(step("asked", caller, now))
    asked = replace(stored, state=RequestState.AWAITING_APPROVAL, approval=approval)
    moved = await ctx.storage.requests.transition(
        stored.id,
        from_states=(stored.state,),
        to_state=RequestState.AWAITING_APPROVAL,
        approval=approval,
        approval_due=next_look(ctx, asked, now=now),
        audit=(caller, "ask_approval", {"approvers": [f"{a.kind}:{a.id}" for a in approval.approvers]}),
        notices=[notice_for(NoticeKind.AWAITING_APPROVAL, asked, [], sandbox=ctx.sandbox)],
    )
    if moved is None:
        raise UsageError(f"Request #{stored.id} was already handled.")
    ctx.outbox.wake()
    return Reply(
        text=f"Request #{stored.id} waits for approval by {named(approval.approvers)}. Nothing is sent until one of "
        "them approves it; you will hear in the thread of its announcement."
    )


def next_look(ctx: Context, stored: StoredRequest, *, now: datetime) -> datetime:
    """When the bot must next look at a request waiting for approval: its reminder, else its expiry."""
    expiry = _expiry(stored)
    remind = timedelta(minutes=ctx.settings.approval_remind_minutes)
    reminded = stored.approval is not None and stored.approval.reminded
    if stored.state == RequestState.AWAITING_APPROVAL and remind and not reminded and expiry - remind > now:
        return expiry - remind
    return expiry


def _expiry(stored: StoredRequest) -> datetime:
    return stored.request.scheduled_time or stored.created_at + WAIT_WITHOUT_TIME


def step(action: str, caller: Caller, at: datetime, note: str = "") -> ApprovalStep:
    return ApprovalStep(action=action, by_id=caller.user_id, by_name=caller.display_name, at=at, note=note)


async def request_changes(ctx: Context, command: Command) -> Reply:
    """`/changes #N <note>`, or Request changes (and its note) under the announcement."""
    caller = command.caller
    stored, note = await decided_by_an_approver(ctx, command, verb="ask for changes to")
    if stored.state != RequestState.AWAITING_APPROVAL:
        raise UsageError(what_happened(stored))
    if not note:
        raise BadCommand(
            f"Say what should change: `/changes #{stored.id} <note>`, e.g. `/changes #{stored.id} "
            "shorter caption, and tag the brand`."
        )
    await _decide(
        ctx,
        stored,
        caller,
        action="changes",
        note=note,
        to_state=RequestState.CHANGES_REQUESTED,
        notice=NoticeKind.CHANGES_REQUESTED,
        audit="request_changes",
        from_states=(RequestState.AWAITING_APPROVAL,),
    )
    return Reply(
        text=f"Asked {stored.user_name} for changes to request #{stored.id}; it comes back to the "
        "approvers once edited."
    )


async def reject(ctx: Context, command: Command) -> Reply:
    """`/reject #N <reason>`, or Reject (and its reason) under the announcement."""
    caller = command.caller
    stored, reason = await decided_by_an_approver(ctx, command, verb="reject")
    if not reason:
        raise BadCommand(f"Give a reason: `/reject #{stored.id} <reason>`, e.g. `/reject #{stored.id} off-brand`.")
    await _decide(
        ctx,
        stored,
        caller,
        action="rejected",
        note=reason,
        to_state=RequestState.REJECTED,
        notice=NoticeKind.REJECTED,
        audit="reject",
    )
    return Reply(text=f"Rejected request #{stored.id}; nothing was sent, and {stored.user_name} is told why.")


async def withdraw(ctx: Context, stored: StoredRequest, caller: Caller) -> Reply:
    """`/cancel #N` of a request still waiting for approval: closed, and its announcement says so."""
    if stored.user_id != caller.user_id and not caller.is_admin:
        raise NotAllowed(f"Only {stored.user_name}, who asked for it, or an admin can cancel request #{stored.id}.")
    await _decide(
        ctx,
        stored,
        caller,
        action="cancelled",
        note="",
        to_state=RequestState.WITHDRAWN,
        notice=None,
        audit="cancel",
    )
    return Reply(text=f"Cancelled request #{stored.id}; nothing was sent.")


async def _decide(
    ctx: Context,
    stored: StoredRequest,
    caller: Caller,
    *,
    action: str,
    note: str,
    to_state: str,
    notice: NoticeKind | None,
    audit: str,
    from_states: tuple[str, ...] = RequestState.PENDING,
) -> StoredRequest:
    if len(note) > MAX_NOTE:
        raise BadCommand(f"That note is {len(note):,} characters; a note or a reason takes at most {MAX_NOTE:,}.")
    now = ctx.clock()
    approval = (stored.approval or Approval(approvers=())).with_step(step(action, caller, now, note))
    after = replace(stored, state=to_state, approval=approval)
    notices = [notice_for(NoticeKind.UPDATED, after, [], sandbox=ctx.sandbox)]
    if notice is not None:
        notices.append(notice_for(notice, after, [], sandbox=ctx.sandbox))
    moved = await ctx.storage.requests.transition(
        stored.id,
        from_states=from_states,
        to_state=to_state,
        approval=approval,
        approval_due=_expiry(stored) if to_state in RequestState.PENDING else None,
        audit=(caller, audit, {"note": note} if note else {}),
        notices=notices,
    )
    if moved is None:
        await lost_the_race(ctx, stored.id)
    ctx.outbox.wake()
    return after


async def decision_refusal(ctx: Context, caller: Caller, request_id: int, *, action: str) -> str | None:
    """Why `caller` may not ask for changes to (`changes`) or reject (`reject`) request `request_id` now, before a
    form asks them for a note; None if they may."""
    verb = "ask for changes to" if action == "changes" else "reject"
    try:
        stored, _ = await decided_by_an_approver(
            ctx, Command(name=action, caller=caller, text=f"#{request_id}"), verb=verb
        )
        if action == "changes" and stored.state != RequestState.AWAITING_APPROVAL:
            return what_happened(stored)
    except BotError as exc:
        return exc.user_message
    return None


async def decided_by_an_approver(ctx: Context, command: Command, *, verb: str) -> tuple[StoredRequest, str]:
    """The request `#N` names, if the caller may decide on it now; and the rest of the command's text."""
    number, _, rest = command.text.strip().partition(" ")
    stored = await pending_request(ctx, number, command.caller, verb=verb)
    approval = stored.approval
    assert approval is not None
    if not approval.allows(command.caller, author_id=stored.user_id):
        if command.caller.user_id == stored.user_id and any(a.includes(command.caller) for a in approval.approvers):
            raise NotAllowed(
                f"You asked for request #{stored.id}, and authors may not approve their own posts here. Ask "
                f"{named(approval.approvers)}."
            )
        raise NotAllowed(f"Only {named(approval.approvers)} can {verb} request #{stored.id}.")
    return stored, rest.strip()


async def pending_request(ctx: Context, target: str, caller: Caller, *, verb: str) -> StoredRequest:
    """The request `#N` names in the caller's workspace, if it ever needed approval; refused with what happened
    if it is no longer waiting."""
    number = target.strip().strip("`").lstrip("#")
    if not (number.isascii() and number.isdigit() and len(number) < 18):
        raise BadCommand(f"Name the request by its number: `/{_COMMAND_OF[verb]} #12`.")
    stored = await ctx.storage.requests.get(int(number))
    if stored is None or stored.channel.workspace_id != caller.workspace_id or stored.approval is None:
        raise UsageError(f"No request #{number} waits for approval here. `/posts pending` lists those that do.")
    if stored.state not in RequestState.PENDING:
        raise UsageError(what_happened(stored))
    return stored


_COMMAND_OF = {"approve": "approve", "ask for changes to": "changes", "reject": "reject", "edit": "edit"}


async def lost_the_race(ctx: Context, request_id: int) -> NoReturn:
    """Someone else moved the request on first: say what happened, and do nothing."""
    stored = await ctx.storage.requests.get(request_id)
    raise UsageError(what_happened(stored) if stored else f"Request #{request_id} is gone.")


def what_happened(stored: StoredRequest) -> str:
    """Why a request can no longer be approved (or asked about): what happened to it, by whom and when."""
    last = stored.approval.last if stored.approval else None
    by = f" by {last.by_name}" if last else ""
    note = f" ({clip(last.note, 200)})" if last and last.note else ""
    return {
        RequestState.CHANGES_REQUESTED: f"Request #{stored.id} waits for {stored.user_name} to make the changes "
        f"asked{by}{note}; it comes back to the approvers once edited.",
        RequestState.REJECTED: f"Request #{stored.id} was rejected{by}{note}; nothing was sent.",
        RequestState.EXPIRED: f"Request #{stored.id} expired: nobody approved it before its time. Nothing was sent.",
        RequestState.WITHDRAWN: f"Request #{stored.id} was cancelled{by}; nothing was sent.",
        RequestState.SENDING: f"Request #{stored.id} was approved{by} and is being sent.",
        RequestState.SENT: f"Request #{stored.id} was already approved{by} and scheduled.",
        RequestState.FAILED: f"Request #{stored.id} was approved{by}, but Infinipost refused it: {stored.error}",
        RequestState.UNCONFIRMED: f"Request #{stored.id} was approved{by}; I am checking with Infinipost whether it "
        "was created.",
    }.get(stored.state, f"Request #{stored.id} was already handled{by}.")


async def sweep(ctx: Context, *, limit: int = 500) -> int:
    """Remind the approvers of requests whose time is near, and let those still waiting at their time expire,
    telling their authors and approvers once; how many were looked at. Each change is guarded by the moment it was
    due, so that two replicas' rounds never remind (or expire) a request twice."""
    now = ctx.clock()
    handled = 0
    for stored in await ctx.storage.requests.approvals_due(now, limit=limit):
        assert stored.approval is not None
        system = Caller(
            platform=stored.channel.platform,
            workspace_id=stored.channel.workspace_id,
            channel_id=stored.channel.channel_id,
            user_id="",
            display_name="the bot",
        )
        if now >= _expiry(stored):
            approval = stored.approval.with_step(step("expired", system, now))
            after = replace(stored, state=RequestState.EXPIRED, approval=approval)
            to_state, due = RequestState.EXPIRED, None
            notices = [
                notice_for(NoticeKind.UPDATED, after, [], sandbox=ctx.sandbox),
                notice_for(NoticeKind.EXPIRED, after, [], sandbox=ctx.sandbox),
            ]
            audit = "expire"
        elif stored.state == RequestState.AWAITING_APPROVAL and not stored.approval.reminded:
            approval = stored.approval.with_step(step("reminded", system, now))
            after = replace(stored, approval=approval)
            to_state, due = stored.state, _expiry(stored)
            notices = [notice_for(NoticeKind.REMINDER, after, [], sandbox=ctx.sandbox)]
            audit = "remind"
        else:
            approval, to_state, due, notices, audit = stored.approval, stored.state, _expiry(stored), [], ""
        moved = await ctx.storage.requests.transition(
            stored.id,
            from_states=(stored.state,),
            to_state=to_state,
            approval=approval,
            approval_due=due,
            due_was=stored.approval_due,
            audit=(system, audit, {}) if audit else None,
            notices=notices,
        )
        handled += moved is not None
    if handled:
        ctx.outbox.wake()
    return handled
