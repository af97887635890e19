"""`/post`: from a draft to a checked request, a preview, the create call, and what is stored around it.

The request is stored before the create call and completed after it. A create whose outcome is unknown is
never repeated: it is stored as unconfirmed, and the tracker finds out whether the posts exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.approvals import named, submit
from bot.context import Context, out_of_time, run_to_the_end
from bot.dates import format_local
from bot.errors import (
    ApiError,
    ApiUnconfirmed,
    BadCommand,
    BotError,
    InvalidTime,
    NotAllowed,
    StorageError,
    UsageError,
)
from bot.grammar import USAGE, parse_post
from bot.model import (
    Account,
    Caller,
    Command,
    PostForm,
    PostRequest,
    RemotePost,
    Reply,
)
from bot.notices import NoticeKind, notice_for
from bot.post_checks import check, with_uploads
from bot.post_status import RECONCILE_DELAYS, confusable, tracked_post
from bot.records import NewNotice, RequestState, StoredPost, StoredRequest
from bot.recurrence import read_recurrence, rule_in
from bot.series import describe_rule, first_instants
from bot.series import start as start_series
from bot.texts import fields_text, request_fields

# What an accepted /post is kept with until it is read: its command's text says the rest.
UNREAD = PostRequest(accounts=(), content_type="video", media_urls=())

logger = logging.getLogger(__name__)

PREVIEW_LIFETIME = timedelta(hours=1)


async def post(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    if not caller.may_post:
        raise NotAllowed(
            "You are not allowed to schedule posts here. Ask an admin of this workspace or server for access."
        )
    if command.draft is None and not command.text.strip() and not command.attachments:
        raise BadCommand(f"Tell me what to post. {USAGE}")
    draft = command.draft or parse_post(command.text)
    tz = await ctx.zone_of(caller)
    rule = None
    every = draft.every or rule_in(draft.when)
    if every:  # a recurring post: checked as one post, its times from the rule
        rule = read_recurrence(every, tz=tz, now=ctx.clock(), locale=caller.locale)
        draft = replace(draft, when=None, every=None)
    checked = await check(ctx, draft, command=command, tz=tz)
    instants = first_instants(rule, now=ctx.clock()) if rule else []
    if rule is not None:
        if not instants:
            raise InvalidTime(f"`every {rule.text}` has no time left to post at.")
        checked = replace(checked, scheduled=instants[0])
    received = None
    if checked.uploads:
        # Kept as received before the uploads are fetched, which can take minutes: if the bot stops meanwhile,
        # the request is still there after the restart, and its author is told it was not sent.
        received = await store_request(ctx, command, request=checked.as_received(), state=RequestState.RECEIVED)
    try:
        request = await with_uploads(ctx, checked)
    except BaseException as exc:
        # Refused, or out of time: forgotten like any refused command. Stopped with the bot: kept for the restart.
        stopping = isinstance(exc, asyncio.CancelledError) and not out_of_time()
        if received is not None and not stopping:
            await ctx.storage.requests.drop_received(received.id)
        raise
    run_to_the_end()  # what follows may reach Infinipost, and is never cut short
    confirm_token = secrets.token_urlsafe(16) if ctx.settings.confirm_posts else None
    approval = (await ctx.storage.preferences.channel_settings(caller.channel)).approval
    if rule is not None and approval is not None:
        raise UsageError(
            "Recurring posts cannot wait for approval yet, and this channel requires it: post each one on its own."
        )
    # Waiting for approval, a request goes nowhere until it is confirmed and submitted to its approvers; a series
    # until it is confirmed and started.
    waits = confirm_token is not None or approval is not None or rule is not None
    state = RequestState.AWAITING_CONFIRMATION if waits else RequestState.SENDING
    async with ctx.create_lock:
        try:
            await hold_back_look_alikes(ctx, request)  # nor is a preview shown of what could not be sent
        except UsageError:
            if received is not None:
                await ctx.storage.requests.drop_received(received.id)
            raise
        recurrence = rule.to_json() if rule else None
        if received is None:
            stored = await store_request(
                ctx, command, request=request, state=state, confirm_token=confirm_token, recurrence=recurrence
            )
        else:
            await ctx.storage.requests.ready(
                received.id, request=request, state=state, confirm_token=confirm_token, recurrence=recurrence
            )
            stored = replace(received, request=request, state=state, confirm_token=confirm_token, recurrence=recurrence)
    if confirm_token is None:
        if rule is not None:
            return await start_series(ctx, stored, caller)
        if approval is not None:
            return await submit(ctx, stored, caller=caller, approval=approval)
        return await send(ctx, stored, caller=caller, tz=tz)
    fields = request_fields(request, tz)
    if checked.slot:
        fields += (("Slot", "The channel's next posting slot free for these accounts"),)
    if approval is not None:
        fields += (("Approval", f"Needed from {named(approval.approvers)} before anything is sent"),)
    if rule is not None:
        fields = (*tuple(f for f in fields if f[0] != "When"), ("Repeats", describe_rule(rule, instants)))
    return Reply(
        title="Schedule this post?",
        text=f"Schedule this post? (request #{stored.id})\n{fields_text(fields)}",
        fields=fields,
        confirm_token=confirm_token,
    )


def command_text(command: Command) -> str:
    """What the request keeps of the command: its text, or a form's fields."""
    return command.text if command.draft is None else json.dumps(vars(command.draft), ensure_ascii=False)


@asynccontextmanager
async def accepted(ctx: Context, command: Command) -> AsyncIterator[Command]:
    """A /post kept as `accepted` from the moment the core has it, before it waits its turn or is read, with its
    claim renewed while it is worked on (uploads can take many minutes): if this replica dies meanwhile, another
    tells its author it was not sent, once the claim has expired. A command refused or cut short is forgotten, as if
    never stored; one stopped with the bot is kept for the restart to settle."""
    kept = command.accepted_id
    if kept is None:
        kept = await accept(ctx, command.caller, command_text(command))

    async def renew() -> None:
        while True:
            await asyncio.sleep(ctx.settings.claim_lease_seconds / 3)
            with contextlib.suppress(StorageError):  # the next attempt may succeed before the lease runs out
                await ctx.storage.requests.keep_claim(kept)

    renewing = asyncio.create_task(renew(), name=f"claim-{kept}")
    try:
        yield replace(command, accepted_id=kept)
    except BaseException as exc:
        # Refused or cut short: forgotten, unless it was read and moved on. Stopped with the bot: kept.
        if not isinstance(exc, asyncio.CancelledError) or out_of_time():
            with contextlib.suppress(StorageError):
                await ctx.storage.requests.drop_received(kept)
        raise
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


async def accept(ctx: Context, caller: Caller, text: str) -> int:
    """Keep a /post as `accepted`, claimed by this replica: its stored request's number."""
    return await ctx.storage.requests.accept(caller, command_text=text, request=UNREAD)


async def store_request(
    ctx: Context,
    command: Command,
    *,
    request: PostRequest,
    state: str,
    confirm_token: str | None = None,
    recurrence: str | None = None,
) -> StoredRequest:
    """The request, read: the accepted one moves on, or (a /post the core did not accept first) a new one."""
    if command.accepted_id is None:
        return await ctx.storage.requests.save(
            command.caller,
            command_text=command_text(command),
            request=request,
            state=state,
            confirm_token=confirm_token,
            recurrence=recurrence,
        )
    return await ctx.storage.requests.ready(
        command.accepted_id,
        request=request,
        state=state,
        confirm_token=confirm_token,
        from_state=RequestState.ACCEPTED,
        user_name=command.caller.display_name,
        recurrence=recurrence,
    )


async def hold_back_look_alikes(ctx: Context, request: PostRequest, *, own_id: int | None = None) -> None:
    """Refuse a request that could not be told apart from one whose create outcome is still unknown: if that one
    was created, sending this would post it twice, and looking for that one's post could take this one's."""
    now = ctx.clock()
    for pending in await ctx.storage.requests.unsettled():
        if pending.id != own_id and confusable(pending, request, now=now):
            ids = {a.id for a in request.accounts}
            shared = ", ".join(a.label for a in pending.request.accounts if a.id in ids)
            raise UsageError(
                f"Nothing was sent: request #{pending.id} has the same media for {shared} at the same time, and "
                f"Infinipost has not yet said whether it created it. Sending this too could post it twice. I will "
                f"say what became of #{pending.id} within a quarter of an hour; send this again then if you still "
                "need it."
            )


async def form(ctx: Context, caller: Caller) -> PostForm:
    """The choices a /post form shows in this channel."""
    settings = await ctx.storage.preferences.channel_settings(caller.channel)
    known = [a for a in await (await ctx.infinipost(caller)).accounts.all() if a.is_ready and settings.allows(a.id)]
    ids = {a.id for a in known}
    aliases = await ctx.storage.preferences.aliases(caller.platform, caller.workspace_id)
    return PostForm(
        accounts=tuple(known),
        defaults=tuple(d for d in settings.default_accounts if d in ids),
        aliases=tuple(sorted((alias, account_id) for alias, account_id in aliases.items() if account_id in ids)),
    )


@dataclass(frozen=True)
class Sent:
    """What a create call came to: the request's state after it (`sent`, `failed`, `unconfirmed`, or still
    `sending` when Infinipost created it but the bot could not record it yet), and the answer for its author."""

    state: str
    reply: Reply


async def send(ctx: Context, stored: StoredRequest, *, caller: Caller, tz: ZoneInfo) -> Reply:
    """Make the create call for a stored request and record its outcome; the answer for its author.

    Once the call may have gone out, no answer ever says "nothing was sent": an unknown outcome is stored as
    unconfirmed for the tracker to settle, and a create that worked but could not be recorded is left in the
    `sending` state, which the tracker also settles.
    """
    return (await create(ctx, stored, caller=caller, tz=tz)).reply


async def create(
    ctx: Context,
    stored: StoredRequest,
    *,
    caller: Caller,
    tz: ZoneInfo,
    also: Callable[[str], Sequence[NewNotice]] | None = None,
) -> Sent:
    """`send`, saying what state the request ended in.

    Args:
        also: more notices to write with the outcome, in the same transaction, given the state it ended in.
    """
    request_id, request = stored.id, stored.request
    more = also or _nothing
    try:
        infinipost = await ctx.infinipost(stored.channel)
    except BotError as exc:  # the workspace's own key cannot be opened: nothing was sent
        await ctx.storage.requests.finish(
            request_id,
            state=RequestState.FAILED,
            error=exc.user_message,
            audit=(caller, "schedule_failed", {}),
            notices=more(RequestState.FAILED),
        )
        return Sent(RequestState.FAILED, Reply(text=f"Nothing was scheduled. {exc.user_message}", error=True))
    try:
        remote = await infinipost.api.create_posts(request)
    except ApiUnconfirmed as exc:
        logger.warning("request %s: create outcome unknown (%s)", request_id, exc.status or "no answer")
        return await _unconfirmed(ctx, stored, caller, exc.user_message, notices=more(RequestState.UNCONFIRMED))
    except ApiError as exc:
        ctx.metrics.create_sent("refused")
        failed = replace(stored, state=RequestState.FAILED)
        await ctx.storage.requests.finish(
            request_id,
            state=RequestState.FAILED,
            error=exc.user_message,
            audit=(caller, "schedule_failed", {}),
            # Approved by someone else: its author hears of it in the channel.
            notices=[*_approved_outcome(ctx, failed, [], NoticeKind.FAILED), *more(RequestState.FAILED)],
        )
        return Sent(RequestState.FAILED, Reply(text=f"Nothing was scheduled. {exc.user_message}", error=True))
    except Exception:
        logger.exception("request %s: the create call failed in an unexpected way", request_id)
        return await _unconfirmed(
            ctx, stored, caller, ApiUnconfirmed.default_message, notices=more(RequestState.UNCONFIRMED)
        )
    matched = _by_account(remote, request.accounts)
    if matched is None:  # the IDs are logged, so that whoever runs the bot can find these posts if need be
        logger.warning(
            "request %s: the create answer's posts (%s) do not say whose they are",
            request_id,
            ", ".join(p.id for p in remote) or "none",
        )
        return await _unconfirmed(
            ctx, stored, caller, ApiUnconfirmed.default_message, notices=more(RequestState.UNCONFIRMED)
        )
    ctx.metrics.create_sent("created")
    labels = {account.id: account.label for account in request.accounts}
    now = ctx.clock()
    posts = [
        tracked_post(stored, p, labels.get(p.account_id, p.account_id), now=now, settings=ctx.settings) for p in matched
    ]
    sent = replace(stored, state=RequestState.SENT)
    try:
        await ctx.storage.requests.finish(
            request_id,
            state=RequestState.SENT,
            posts=posts,
            audit=(caller, "schedule", {"posts": [p.id for p in posts]}),
            notices=[
                *(
                    _approved_outcome(ctx, sent, posts, NoticeKind.APPROVED)
                    or [notice_for(NoticeKind.SCHEDULED, sent, posts, sandbox=ctx.sandbox)]
                ),
                *more(RequestState.SENT),
            ],
        )
    except StorageError:
        listed = ", ".join(f"`{p.id}`" for p in posts)
        return Sent(
            RequestState.SENDING,
            Reply(
                text=f"Infinipost created request #{request_id} ({listed}), but the bot could not record it yet. "
                "Do not send it again: I will find it and tell you here.",
                error=True,
            ),
        )
    ctx.outbox.wake()
    when = f"for {format_local(request.scheduled_time, tz)}" if request.scheduled_time else "to go out now"
    lines = [f"Scheduled {when} (request #{request_id}):"]
    lines += [f"• {p.account_label}: `{p.id}`" for p in posts]
    missing = [a.label for a in request.accounts if a.id not in {p.account_id for p in posts}]
    if missing:
        lines.append(f"Infinipost made no post for {', '.join(missing)}; schedule those again if you need them.")
    return Sent(RequestState.SENT, Reply(text="\n".join(lines)))


def _approved_outcome(
    ctx: Context, stored: StoredRequest, posts: Sequence[StoredPost], kind: NoticeKind
) -> list[NewNotice]:
    """What an approved request's create did, for its channel: its announcement (made when it was asked for)
    rewritten, and its author told. Nothing for a request that needed no approval."""
    if stored.approval is None:
        return []
    return [
        notice_for(NoticeKind.UPDATED, stored, posts, sandbox=ctx.sandbox),
        notice_for(kind, stored, posts, sandbox=ctx.sandbox),
    ]


def _by_account(remote: list[RemotePost], accounts: Sequence[Account]) -> list[RemotePost] | None:
    """The answer's posts, each with the account it is for; None when that cannot be told.

    Posts whose `accountId` is missing are matched by order when there is one per account asked for, as the
    create call makes them; otherwise which accounts got a post is unknown, and saying some got none would
    invite a second post.
    """
    wanted = {account.id for account in accounts}
    if all(p.account_id in wanted for p in remote) and len({p.account_id for p in remote}) == len(remote):
        return remote
    if len(remote) == len(accounts) and all(p.account_id in ("", a.id) for p, a in zip(remote, accounts, strict=True)):
        return [replace(p, account_id=a.id) for p, a in zip(remote, accounts, strict=True)]
    return None


def _nothing(state: str) -> Sequence[NewNotice]:
    return ()


async def _unconfirmed(
    ctx: Context, stored: StoredRequest, caller: Caller, message: str, *, notices: Sequence[NewNotice] = ()
) -> Sent:
    ctx.metrics.create_sent("unconfirmed")
    try:
        await ctx.storage.requests.finish(
            stored.id,
            state=RequestState.UNCONFIRMED,
            error=message,
            audit=(caller, "schedule_unconfirmed", {}),
            reconcile_at=ctx.clock() + RECONCILE_DELAYS[0],
            notices=notices,
        )
    except StorageError:
        logger.exception("request %s stays in sending; the tracker will settle it", stored.id)
    return Sent(RequestState.UNCONFIRMED, Reply(text=f"Request #{stored.id}: {message}", error=True))


async def confirm(ctx: Context, command: Command) -> Reply:
    """The Schedule button (or `yes` in the console) on a preview. Works once, and only for its author."""
    stored = await _preview(ctx, command)
    if stored.state != RequestState.AWAITING_CONFIRMATION:
        return _already_handled(stored)
    now = ctx.clock()
    scheduled = stored.request.scheduled_time
    expired = now - stored.created_at > PREVIEW_LIFETIME
    if expired or (scheduled is not None and scheduled <= now):
        await ctx.storage.requests.move(
            stored.id, from_state=RequestState.AWAITING_CONFIRMATION, to_state=RequestState.DISCARDED
        )
        reason = "This preview has expired" if expired else "The time you picked passed while the preview waited"
        raise UsageError(f"{reason}; nothing was sent. Send the /post command again.")
    if stored.recurrence is not None:  # a series starts from its next time after now
        return await start_series(ctx, stored, command.caller)
    approval = (await ctx.storage.preferences.channel_settings(stored.channel)).approval
    if approval is not None:  # checked for look-alikes when it is approved, just before it is sent
        return await submit(ctx, stored, caller=command.caller, approval=approval)
    run_to_the_end()  # what follows may reach Infinipost, and is never cut short
    async with ctx.create_lock:
        try:
            await hold_back_look_alikes(ctx, stored.request, own_id=stored.id)
        except UsageError:
            await ctx.storage.requests.move(
                stored.id, from_state=RequestState.AWAITING_CONFIRMATION, to_state=RequestState.DISCARDED
            )
            raise
        moved = await ctx.storage.requests.move(
            stored.id, from_state=RequestState.AWAITING_CONFIRMATION, to_state=RequestState.SENDING
        )
    if not moved:
        refreshed = await ctx.storage.requests.get(stored.id)
        return _already_handled(refreshed or stored)
    sending = replace(stored, state=RequestState.SENDING)
    return await send(ctx, sending, caller=command.caller, tz=await ctx.zone_of(command.caller))


async def discard(ctx: Context, command: Command) -> Reply:
    """The Cancel button (or `no`) on a preview."""
    stored = await _preview(ctx, command)
    if await ctx.storage.requests.move(
        stored.id, from_state=RequestState.AWAITING_CONFIRMATION, to_state=RequestState.DISCARDED
    ):
        return Reply(text=f"Dropped request #{stored.id}. Nothing was sent.")
    return _already_handled(stored)


async def _preview(ctx: Context, command: Command) -> StoredRequest:
    stored = await ctx.storage.requests.by_token(command.text.strip())
    if stored is None:
        raise UsageError("That preview is no longer available. Send the /post command again.")
    caller = command.caller
    same_user = (stored.user_id, stored.channel.platform, stored.channel.workspace_id) == (
        caller.user_id,
        caller.platform,
        caller.workspace_id,
    )
    if not same_user:
        raise NotAllowed(f"Only {stored.user_name} can confirm or cancel their post.")
    return stored


def _already_handled(stored: StoredRequest) -> Reply:
    text = {
        RequestState.SENT: f"Request #{stored.id} is already scheduled.",
        RequestState.DISCARDED: f"Request #{stored.id} was dropped; nothing was sent.",
        RequestState.SENDING: f"Request #{stored.id} is being sent right now.",
        RequestState.FAILED: f"Request #{stored.id} already failed: {stored.error or 'Infinipost refused it'}.",
        RequestState.UNCONFIRMED: f"Request #{stored.id} was sent; I am checking whether Infinipost created it.",
    }.get(stored.state, f"Request #{stored.id} was already handled.")
    return Reply(text=text)
