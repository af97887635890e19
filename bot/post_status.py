"""The rules about a post's status: how a post Infinipost made is tracked, when to ask about it again, when it
is late, and which creates could be mistaken for one another. Pure: no storage, no API, no clock of their own."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.config import Settings
from bot.model import PostRequest, PostStatus, RemotePost
from bot.records import StoredPost, StoredRequest

MAX_BACKOFF = timedelta(hours=1)
# When to look again for the posts of a create whose outcome was unknown; after the last, they were not created.
RECONCILE_DELAYS = tuple(timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 900))


def tracked_post(
    stored: StoredRequest, remote: RemotePost, label: str, *, now: datetime, settings: Settings
) -> StoredPost:
    """A post Infinipost made for a request, as it is stored and tracked from now on."""
    post = StoredPost(
        id=remote.id,
        request_id=stored.id,
        account_id=remote.account_id,
        account_label=label,
        status=remote.status if remote.status is not PostStatus.UNKNOWN else PostStatus.SCHEDULED,
        scheduled_time=remote.scheduled_time or stored.request.scheduled_time,
        posted_at=remote.posted_at,
    )
    return replace(post, next_check_at=next_check(post, now=now, settings=settings))


def next_check(post: StoredPost, *, now: datetime, settings: Settings) -> datetime | None:
    """When to ask about a post again: never once final, at its time while it waits, then backing off, but
    never past the moment it becomes late (BOT_DELAY_ALERT_MINUTES after its time) before that was warned about."""
    poll, delay = settings.poll_interval, settings.delay_alert
    if post.status.is_final:
        return None
    ahead = post.scheduled_time is not None and post.scheduled_time > now
    if post.status is PostStatus.PENDING_RENDER and ahead:
        return now + poll  # a render is followed every round until its time; one that outlasts it, backing off
    if ahead:
        return post.scheduled_time
    wait: timedelta = min(MAX_BACKOFF, poll * 2 ** min(post.checks, 12))
    if not post.delay_warned and post.scheduled_time is not None and post.scheduled_time + delay > now:
        return min(now + wait, post.scheduled_time + delay)
    return now + wait


def is_late(post: StoredPost, *, now: datetime, delay: timedelta) -> bool:
    """Not live `delay` (BOT_DELAY_ALERT_MINUTES) after its time, as far as the bot has heard."""
    return not post.status.is_final and post.scheduled_time is not None and now - post.scheduled_time >= delay


def confusable(pending: StoredRequest, request: PostRequest, *, now: datetime) -> bool:
    """Whether looking for `pending`'s posts could find the post of `request`, were it sent now: the same
    content for an account in common, at a time that cannot be told apart."""
    if pending.request.media_urls != request.media_urls:
        return False
    if not {a.id for a in pending.request.accounts} & {a.id for a in request.accounts}:
        return False
    # A post for "now" is scheduled for when Infinipost receives it.
    return same_time(pending, request.scheduled_time or now)


def same_time(stored: StoredRequest, scheduled: datetime | None) -> bool:
    """Whether a post scheduled then could be the request's."""
    wanted = stored.request.scheduled_time
    if scheduled is None:
        return wanted is None
    if wanted is not None:
        return abs(scheduled - wanted) < timedelta(minutes=1)
    # "Now" posts are scheduled for when Infinipost received them.
    return stored.created_at - timedelta(minutes=2) <= scheduled <= stored.created_at + timedelta(hours=1)
