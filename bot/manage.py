"""`/cancel` and `/reschedule`: looking after posts already scheduled."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.approvals import withdraw
from bot.context import Context
from bot.dates import format_local, parse_when
from bot.errors import (
    ApiError,
    ApiUnconfirmed,
    BadCommand,
    InvalidTime,
    NotAllowed,
    UsageError,
)
from bot.model import Caller, Command, PostStatus, Reply
from bot.queue import STATUS_TEXT
from bot.records import RequestState, StoredPost, StoredRequest
from bot.relink import renewed_links
from bot.series import stop as stop_series
from bot.tracking import announcement_update

logger = logging.getLogger(__name__)

CANCEL_PREFIX = "cancel-"  # what tells a `/cancel` question's token from a preview's
CONFIRMATION_LIFETIME = timedelta(minutes=15)


async def cancel(ctx: Context, command: Command) -> Reply:
    """`/cancel <post-id | #request>`. A request with several posts to cancel is asked about first, listing them."""
    target = command.text.strip().strip("`")  # an ID copied from the bot's own replies keeps its backticks
    words = target.split()
    if len(words) == 2 and words[0].lower() == "series":
        return await stop_series(ctx, command, words[1])
    if not target or len(target.split()) != 1:
        raise BadCommand(
            "`/cancel` takes one post ID or request number: `/cancel <post-id>`, `/cancel #<request>`, or "
            "`/cancel series #<request>` to stop a recurring post."
        )
    waiting = await _waiting_for_approval(ctx, target, command.caller)
    if waiting is not None:
        return await withdraw(ctx, waiting, command.caller)
    stored, pending = await _cancellable(ctx, target, command.caller)
    if len(pending) == 1:
        return await _cancel(ctx, command.caller, stored, pending)
    token = CANCEL_PREFIX + secrets.token_urlsafe(12)
    ctx.confirmations[token] = (target, _whose(command.caller), ctx.clock())
    tz = await ctx.zone_of(command.caller)
    lines = [f"Cancel these {len(pending)} posts of request #{stored.id}?"]
    lines += [f"• `{p.id}` {p.account_label}, {_at(p, tz)}" for p in pending]
    return Reply(
        title=f"Cancel {len(pending)} posts?",
        text="\n".join(lines),
        confirm_token=token,
        confirm_labels=("Cancel them", "Keep them"),
    )


async def confirm_cancel(ctx: Context, command: Command) -> Reply:
    """ "Cancel them" (or `yes`) under a `/cancel` that listed several posts: only its author's, once."""
    target = _confirmation(ctx, command)
    stored, pending = await _cancellable(ctx, target, command.caller)
    return await _cancel(ctx, command.caller, stored, pending)


async def keep(ctx: Context, command: Command) -> Reply:
    """ "Keep them" (or `no`) under a `/cancel` that listed several posts."""
    target = _confirmation(ctx, command)
    return Reply(text=f"Kept `{target}`: nothing was cancelled.")


def _confirmation(ctx: Context, command: Command) -> str:
    token = command.text.strip()
    target, whose, asked = ctx.confirmations.get(token, ("", (), None))
    if asked is None or ctx.clock() - asked > CONFIRMATION_LIFETIME:
        ctx.confirmations.pop(token, None)
        raise UsageError("That question has expired; nothing was cancelled. Send `/cancel` again.")
    if whose != _whose(command.caller):
        raise NotAllowed("Only the person who asked to cancel can answer this.")
    del ctx.confirmations[token]
    return str(target)


async def _waiting_for_approval(ctx: Context, target: str, caller: Caller) -> StoredRequest | None:
    """The request `#N` names, if it is in the caller's workspace and still waits for approval: nothing was sent."""
    number = target.lstrip("#")
    if not (number.isascii() and number.isdigit() and len(number) < 18):
        return None
    stored = await ctx.storage.requests.get(int(number))
    if stored is None or stored.channel.workspace_id != caller.workspace_id:
        return None
    return stored if stored.state in RequestState.PENDING else None


def _whose(caller: Caller) -> tuple[str, str, str]:
    return (caller.platform, caller.workspace_id, caller.user_id)


def _at(post: StoredPost, tz: ZoneInfo) -> str:
    return format_local(post.scheduled_time, tz) if post.scheduled_time else "right away"


async def _cancellable(ctx: Context, target: str, caller: Caller) -> tuple[StoredRequest, list[StoredPost]]:
    stored, posts = await _target(ctx, target, caller, verb="cancel")
    pending = [p for p in posts if not p.status.is_final]
    if not pending:
        raise UsageError(f"Nothing to cancel in request #{stored.id}: {_finals(posts)}.")
    return stored, pending


async def _cancel(ctx: Context, caller: Caller, stored: StoredRequest, pending: list[StoredPost]) -> Reply:
    try:
        result = await (await ctx.infinipost(stored.channel)).api.delete_posts([p.id for p in pending])
    except ApiUnconfirmed:
        return Reply(
            text="Infinipost did not confirm the cancellation. `/posts refresh` in a minute shows whether it "
            "went through.",
            error=True,
        )
    cancelled = [p for p in pending if p.id in result.deleted]
    if cancelled:
        after = [replace(p, status=PostStatus.CANCELLED, next_check_at=None) for p in cancelled]
        async with ctx.tracking_lock:
            await ctx.storage.posts.update(
                after,
                audit=(caller, "cancel", stored.id, {"posts": [p.id for p in cancelled]}),
                notices=[await announcement_update(ctx, stored, after)],
            )
        ctx.outbox.wake()
    lines = [f"Cancelled `{p.id}` ({p.account_label})." for p in cancelled]
    for post in pending:
        if post.id in result.failed or post.id not in result.deleted:
            reason = result.failed.get(post.id, "Infinipost did not delete it")
            lines.append(f"Could not cancel `{post.id}` ({post.account_label}): {reason}.")
    return Reply(text="\n".join(lines), error=not cancelled)


async def reschedule(ctx: Context, command: Command) -> Reply:
    parts = command.text.strip().split(maxsplit=1)
    if len(parts) != 2:
        raise BadCommand("Write `/reschedule <post-id or #request> <time>`, e.g. `/reschedule #12 friday 9am`.")
    tz = await ctx.zone_of(command.caller)
    when = parse_when(parts[1], now=ctx.clock(), tz=tz, locale=command.caller.locale)
    if when is None:
        raise InvalidTime("Reschedule to a future time. To post right away, `/cancel` it and `/post` it again.")
    when = when.replace(second=0)  # edits take minutes only
    if when <= ctx.clock():
        raise InvalidTime("That is less than a minute away. Pick a later time.")
    stored, posts = await _target(ctx, parts[0].strip("`"), command.caller, verb="reschedule")
    pending = [p for p in posts if not p.status.is_final]
    if not pending:
        raise UsageError(f"Nothing to reschedule in request #{stored.id}: {_finals(posts)}.")
    content = await renewed_links(ctx, stored, until=when + timedelta(hours=ctx.settings.media_link_hours))
    moved: list[StoredPost] = []
    problems: list[str] = []
    api = (await ctx.infinipost(stored.channel)).api
    for post in pending:
        try:
            remote = await api.edit_post(post.id, scheduled_time=when, content=content)
        except ApiError as exc:
            problems.append(f"Could not move `{post.id}` ({post.account_label}): {exc.user_message}")
            continue
        new_time = remote.scheduled_time or when
        moved.append(
            replace(
                post,
                status=PostStatus.SCHEDULED,
                scheduled_time=new_time,
                next_check_at=new_time,
                checks=0,
                delay_warned=False,
            )
        )
    if moved:
        async with ctx.tracking_lock:
            await ctx.storage.posts.update(
                moved,
                audit=(
                    command.caller,
                    "reschedule",
                    stored.id,
                    {"posts": [p.id for p in moved], "to": when.isoformat()},
                ),
                notices=[await announcement_update(ctx, stored, moved)],
            )
        ctx.outbox.wake()
    if moved and stored.request.sound_url:
        problems.append("Infinipost's edits may drop a post's sound; check the post in Infinipost.")
    lines = [f"Moved `{p.id}` ({p.account_label}) to {format_local(when, tz)}." for p in moved]
    return Reply(text="\n".join(lines + problems), error=not moved)


async def _target(ctx: Context, target: str, caller: Caller, *, verb: str) -> tuple[StoredRequest, list[StoredPost]]:
    """The request and posts a `/cancel` or `/reschedule` names, if the caller may touch them."""
    number = target.lstrip("#")
    is_number = number.isascii() and number.isdigit()  # "²" is a digit to str.isdigit, but no number
    stored: StoredRequest | None
    if target.startswith("#") or is_number:
        stored = await ctx.storage.requests.get(int(number)) if is_number and len(number) < 18 else None
        posts = (await ctx.storage.posts.of_requests([stored.id]))[stored.id] if stored else []
    else:
        post = await ctx.storage.posts.get(target)
        stored = await ctx.storage.requests.get(post.request_id) if post else None
        posts = [post] if post else []
    if stored is None or stored.channel.workspace_id != caller.workspace_id:
        raise UsageError(f"I have no post `{target}`. `/posts` lists this channel's posts with their IDs.")
    if not ctx.storage.requests.is_ours(stored):
        where = "the sandbox" if stored.api == "sandbox" else "another Infinipost (or with another API key)"
        raise UsageError(f"Request #{stored.id} was made in {where}, not the Infinipost the bot uses now.")
    if stored.user_id != caller.user_id and not caller.is_admin:
        raise NotAllowed(f"Only {stored.user_name}, who scheduled it, or an admin can {verb} request #{stored.id}.")
    if stored.state == RequestState.UNCONFIRMED:
        raise UsageError(f"Request #{stored.id} is still being checked with Infinipost. Try again in a few minutes.")
    if stored.state in RequestState.PENDING:
        raise UsageError(
            f"Request #{stored.id} waits for approval, so nothing is at Infinipost yet: change it with "
            f"`/edit #{stored.id} at <time>`, or `/cancel #{stored.id}`."
        )
    if not posts:
        raise UsageError(f"Request #{stored.id} has no posts at Infinipost ({stored.state}).")
    return stored, posts


def _finals(posts: list[StoredPost]) -> str:
    return ", ".join(f"`{p.id}` is {STATUS_TEXT[p.status]}" for p in posts)
