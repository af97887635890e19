"""The tracker: following posts until they are live, what Infinipost says about them, and what the channel is
told. The rules it follows about a post's status are in `bot.post_status`.

Infinipost has no webhooks, so the tracker asks about a post only once its scheduled time has come, then on a
backoff until it is posted or failed: its cost grows with the posts that are due, not with all posts ever
scheduled. Every change is stored with the notices it causes, in one transaction. Creates whose outcome was
unknown are reconciled by looking for the posts at Infinipost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cachetools import LRUCache

from bot.api import InfinipostClient
from bot.approvals import sweep as sweep_approvals
from bot.calendar.digest import send_due_digests
from bot.context import Context
from bot.errors import ApiNotFound, ApiUnavailable, BotError
from bot.model import Account, ChannelRef, PostStatus, RemotePost
from bot.notices import NoticeKind, notice_for
from bot.post_status import MAX_BACKOFF, RECONCILE_DELAYS, is_late, next_check, same_time, tracked_post
from bot.records import NewNotice, RequestState, StoredPost, StoredRequest
from bot.recovery import settle_unfinished
from bot.series import create_due as create_due_occurrences

logger = logging.getLogger(__name__)

DUE_BATCH = 500
CONCURRENCY = 8
SCAN_LIMIT = 300  # posts of one account looked at per attempt
PLACES_KEPT = 10_000  # requests whose workspace the tracker remembers, so that it need not read them each round
STUCK_SENDING = timedelta(minutes=10)  # far beyond the client's timeout


async def record_remote(ctx: Context, observed: Sequence[tuple[StoredPost, RemotePost | None]]) -> int:
    """Store what Infinipost now says (None: it no longer has the post) and tell the channels. Returns how
    many posts changed status or time."""
    async with ctx.tracking_lock:
        return await _record(ctx, observed)


async def _record(ctx: Context, observed: Sequence[tuple[StoredPost, RemotePost | None]]) -> int:
    # Compare with what is stored now, not with what the caller read earlier: news is told once.
    fresh = await ctx.storage.posts.by_ids([post.id for post, _ in observed])
    # A post cancelled (or settled) since it was read keeps its final state, whatever the answer said.
    observed = [(fresh[post.id], remote) for post, remote in observed if not fresh[post.id].status.is_final]
    now = ctx.clock()
    updated: list[StoredPost] = []
    changed: list[tuple[StoredPost, StoredPost]] = []
    delayed: list[StoredPost] = []
    for before, remote in observed:
        after = _observed(before, remote)
        moved = after.scheduled_time != before.scheduled_time
        if after.status is not before.status or moved:
            changed.append((before, after))
        due = after.scheduled_time is None or after.scheduled_time <= now
        after = replace(after, checks=after.checks + 1 if due and not after.status.is_final else 0)
        if _late(after, now=now, delay=ctx.settings.delay_alert):
            after = replace(after, delay_warned=True)
            delayed.append(after)
        updated.append(replace(after, next_check_at=next_check(after, now=now, settings=ctx.settings)))
    notices = await _notices(ctx, changed, delayed)
    await ctx.storage.posts.update(updated, notices=notices)
    if notices:
        ctx.outbox.wake()
    return len(changed)


def _late(post: StoredPost, *, now: datetime, delay: timedelta) -> bool:
    """Late, and not yet warned about."""
    return is_late(post, now=now, delay=delay) and not post.delay_warned


def _observed(before: StoredPost, remote: RemotePost | None) -> StoredPost:
    if remote is None:  # Infinipost no longer knows it: nobody is known to have cancelled it, so it is not said to be
        return replace(before, status=PostStatus.MISSING)
    status = before.status if remote.status is PostStatus.UNKNOWN else remote.status
    if remote.status is PostStatus.UNKNOWN:
        logger.warning("post %s: undocumented status %r; keeping %s", before.id, remote.raw_status, before.status)
    return replace(
        before,
        status=status,
        scheduled_time=remote.scheduled_time or before.scheduled_time,
        posted_at=remote.posted_at or before.posted_at,
    )


async def _notices(
    ctx: Context, changed: list[tuple[StoredPost, StoredPost]], delayed: list[StoredPost]
) -> list[NewNotice]:
    by_request: dict[int, list[tuple[StoredPost, StoredPost]]] = defaultdict(list)
    for before, after in changed:
        by_request[after.request_id].append((before, after))
    late: dict[int, list[StoredPost]] = defaultdict(list)
    for post in delayed:
        late[post.request_id].append(post)
    notices: list[NewNotice] = []
    for request_id in sorted(by_request.keys() | late.keys()):
        stored = await ctx.storage.requests.get(request_id)
        if stored is None:
            continue
        pairs = by_request.get(request_id, [])
        went_live = [a for b, a in pairs if a.status is PostStatus.POSTED and b.status is not PostStatus.POSTED]
        failed = [a for b, a in pairs if a.status is PostStatus.FAILED and b.status is not PostStatus.FAILED]
        missing = [a for b, a in pairs if a.status is PostStatus.MISSING and b.status is not PostStatus.MISSING]
        if missing:
            notices.append(notice_for(NoticeKind.MISSING, stored, missing, sandbox=ctx.sandbox))
        if went_live:
            notices.append(notice_for(NoticeKind.POSTED, stored, went_live, sandbox=ctx.sandbox))
        if failed:
            notices += _failure_notices(ctx, stored, failed)
        if late[request_id]:
            notices.append(notice_for(NoticeKind.DELAYED, stored, late[request_id], sandbox=ctx.sandbox))
        if pairs:
            notices.append(await announcement_update(ctx, stored, [after for _, after in pairs]))
    return notices


async def announcement_update(ctx: Context, stored: StoredRequest, changed: Sequence[StoredPost]) -> NewNotice:
    """The request's announcement rewritten with every one of its posts, `changed` as they are now."""
    current = {p.id: p for p in (await ctx.storage.posts.of_requests([stored.id]))[stored.id]}
    current.update({p.id: p for p in changed})
    return notice_for(NoticeKind.UPDATED, stored, list(current.values()), sandbox=ctx.sandbox)


def _failure_notices(ctx: Context, stored: StoredRequest, failed: list[StoredPost]) -> list[NewNotice]:
    notices = [notice_for(NoticeKind.FAILED, stored, failed, sandbox=ctx.sandbox)]
    alerts = alerts_channel(ctx.settings.alerts_channel, stored.channel.platform)
    if alerts and alerts != stored.channel.channel_id:
        notices.append(replace(notices[0], channel=replace(stored.channel, channel_id=alerts)))
    return notices


def alerts_channel(setting: str | None, platform: str) -> str | None:
    """BOT_ALERTS_CHANNEL for one platform: `C0123` applies to any; `slack:C0123,discord:1234` to each its own."""
    plain = None
    for entry in (setting or "").split(","):
        named, _, channel = entry.strip().rpartition(":")
        if named == platform:
            return channel
        if not named and channel:
            plain = channel
    return plain


@dataclass(frozen=True)
class Cycle:
    """What one tracker round did, for logs and the benchmark."""

    checked: int
    changed: int
    reconciled: int
    backed_off: float = 0.0  # seconds Infinipost asked us to wait, if it did, up to MAX_BACKOFF
    approvals: int = 0  # requests waiting for approval whose approvers were reminded, or that expired
    digests: int = 0  # weekly digests written to the outbox


class Tracker:
    """Runs inside `infinipost-bot run`: a round every BOT_POLL_SECONDS until cancelled."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Until then Infinipost asked not to be called (Retry-After); rounds go on, so late posts are still warned
        # about on time, but make no API calls.
        self._quiet_until: datetime | None = None
        self._channels: LRUCache[int, ChannelRef] = LRUCache(PLACES_KEPT)  # request -> where it was asked

    async def _api_for(self, post: StoredPost) -> InfinipostClient:
        """The client of the workspace the post's request came from, with that workspace's current key."""
        channel = self._channels.get(post.request_id)
        if channel is None:
            stored = await self.ctx.storage.requests.get(post.request_id)
            if stored is None:
                return self.ctx.api
            channel = self._channels[post.request_id] = stored.channel
        return (await self.ctx.infinipost(channel)).api

    async def run(self) -> None:
        while True:
            try:
                await self.cycle()
            except Exception:
                logger.exception("tracker round failed; trying again next round")
            await asyncio.sleep(self.ctx.settings.poll_seconds)

    async def cycle(self) -> Cycle:
        approvals = await sweep_approvals(self.ctx)  # asks nothing of Infinipost: done even while it says to wait
        digests = await send_due_digests(self.ctx)
        await create_due_occurrences(self.ctx)
        now = self.ctx.clock()
        # Claimed, so that another replica's round at the same moment asks about other posts; recording each
        # post's outcome (or backing it off) clears its claim.
        due = await self.ctx.storage.posts.claim_due(now, limit=DUE_BATCH)
        observed: list[tuple[StoredPost, RemotePost | None]] = []
        retry_later: list[StoredPost] = []
        quiet = (self._quiet_until - now).total_seconds() if self._quiet_until and self._quiet_until > now else 0.0
        backed_off = quiet
        gate = asyncio.Semaphore(CONCURRENCY)

        async def check(post: StoredPost) -> None:
            nonlocal backed_off
            async with gate:
                if backed_off:  # Infinipost asked us to wait: the rest of this round waits too
                    retry_later.append(post)
                    return
                try:
                    api = await self._api_for(post)
                    observed.append((post, await api.get_post(post.id)))
                except ApiNotFound:
                    observed.append((post, None))
                except ApiUnavailable as exc:
                    # However long Infinipost asks for, the tracker looks again within MAX_BACKOFF.
                    backed_off = max(backed_off, min(exc.retry_after or 0.0, MAX_BACKOFF.total_seconds()))
                    retry_later.append(post)
                except BotError:  # refused, or the workspace's own key cannot be opened
                    logger.warning("could not check post %s", post.id, exc_info=True)
                    retry_later.append(post)

        await asyncio.gather(*(check(post) for post in due))
        changed = await record_remote(self.ctx, observed) if observed else 0
        if retry_later:
            await self._back_off(retry_later, extra=timedelta(seconds=backed_off))
        if backed_off > quiet:
            self._quiet_until = now + timedelta(seconds=backed_off)
        reconciled = 0 if backed_off else await self.reconcile()
        if due:
            logger.info("tracker: %d due, %d checked, %d changed", len(due), len(observed), changed)
        return Cycle(
            checked=len(observed),
            changed=changed,
            reconciled=reconciled,
            backed_off=backed_off,
            approvals=approvals,
            digests=digests,
        )

    async def _back_off(self, posts: list[StoredPost], *, extra: timedelta) -> None:
        now, settings = self.ctx.clock(), self.ctx.settings
        async with self.ctx.tracking_lock:  # as stored now: a /cancel meanwhile must not be undone
            fresh = await self.ctx.storage.posts.by_ids([p.id for p in posts])
            later: list[StoredPost] = []
            delayed: list[StoredPost] = []
            for post in fresh.values():
                if post.status.is_final:
                    continue
                post = replace(post, checks=post.checks + 1)
                if _late(
                    post, now=now, delay=settings.delay_alert
                ):  # not known to be live: the warning need not wait for the API
                    post = replace(post, delay_warned=True)
                    delayed.append(post)
                at = max(next_check(post, now=now, settings=settings) or now, now + extra)
                if not post.delay_warned and post.scheduled_time is not None:
                    at = min(at, max(now, post.scheduled_time + settings.delay_alert))  # warned on time, unread
                later.append(replace(post, next_check_at=at))
            notices = await _notices(self.ctx, [], delayed) if delayed else []
            await self.ctx.storage.posts.update(later, notices=notices)
        if notices:
            self.ctx.outbox.wake()

    # Unconfirmed creates

    async def reconcile(self) -> int:
        """Look for the posts of creates whose outcome was unknown; adopt them, or say they were not created."""
        # A replica that stopped with commands in hand: its claims expired, their authors are told here.
        await settle_unfinished(self.ctx, restarted=False)
        # A create left `sending` this long did not die in flight: its outcome just could not be stored.
        stuck = await self.ctx.storage.requests.interrupted_to_unconfirmed(before=self.ctx.clock() - STUCK_SENDING)
        if stuck:
            logger.warning("requests %s were stuck sending; looking for their posts", stuck)
        settled = 0
        for stored in await self.ctx.storage.requests.claim_reconciliations(self.ctx.clock()):
            try:
                settled += await self._reconcile(stored)
            except BotError:
                logger.warning("could not look for request %s's posts yet", stored.id, exc_info=True)
                await self._try_later(stored)
        return settled

    async def _reconcile(self, stored: StoredRequest) -> bool:
        found: list[StoredPost] = []
        missing: list[Account] = []
        unclear: list[tuple[Account, list[RemotePost]]] = []  # several unknown posts could be this account's
        for account in stored.request.accounts:
            candidates = await self._candidates(stored, account.id)
            if len(candidates) == 1:
                found.append(
                    tracked_post(stored, candidates[0], account.label, now=self.ctx.clock(), settings=self.ctx.settings)
                )
            elif candidates:
                unclear.append((account, candidates))
            else:
                missing.append(account)
        last_try = stored.reconcile_attempts + 1 >= len(RECONCILE_DELAYS)
        if missing and not last_try:
            await self._try_later(stored)
            return False
        sent = replace(stored, state=RequestState.SENT)
        notices: list[NewNotice] = []
        if found:
            notices.append(notice_for(NoticeKind.SCHEDULED, sent, found, sandbox=self.ctx.sandbox))
            notices.append(notice_for(NoticeKind.ADOPTED, sent, found, sandbox=self.ctx.sandbox))
        if unclear:
            notices.append(_unclear_notice(stored, unclear, sandbox=self.ctx.sandbox))
        if missing:
            gone = replace(stored, request=replace(stored.request, accounts=tuple(missing)), state="not_created")
            notices.append(notice_for(NoticeKind.NOT_CREATED, gone, [], sandbox=self.ctx.sandbox))
        logger.info(
            "request %s reconciled: %d found, %d unclear, %d not created",
            stored.id,
            len(found),
            len(unclear),
            len(missing),
        )
        if found:
            state, error = RequestState.SENT, None
        elif unclear:
            state, error = RequestState.UNCLEAR, "several posts at Infinipost could be it"
        else:
            state, error = RequestState.NOT_CREATED, "not created at Infinipost"
        await self.ctx.storage.requests.finish(stored.id, state=state, error=error, posts=found, notices=notices)
        self.ctx.outbox.wake()
        return True

    async def _try_later(self, stored: StoredRequest) -> None:
        step = RECONCILE_DELAYS[min(stored.reconcile_attempts, len(RECONCILE_DELAYS) - 1)]
        await self.ctx.storage.requests.reconcile_later(stored.id, at=self.ctx.clock() + step)

    async def _candidates(self, stored: StoredRequest, account_id: str) -> list[RemotePost]:
        """The account's posts that could be this request: same caption and time, the same content wherever
        Infinipost says what the content is, and not a post the bot already knows."""
        request = stored.request
        candidates: list[RemotePost] = []
        seen = 0
        api = (await self.ctx.infinipost(stored.channel)).api
        async for remote in api.list_posts(accountId=account_id):
            seen += 1
            if seen > SCAN_LIMIT:
                break
            if (remote.caption or "") != (request.caption or "") or not same_time(stored, remote.scheduled_time):
                continue
            # Another request's post has other content: taking it would lose this one and repeat that one.
            if remote.content_urls and remote.content_urls != request.media_urls:
                continue
            candidates.append(remote)
        known = await self.ctx.storage.posts.known_ids([c.id for c in candidates])
        return [c for c in candidates if c.id not in known]


def _unclear_notice(
    stored: StoredRequest, unclear: Sequence[tuple[Account, Sequence[RemotePost]]], *, sandbox: bool
) -> NewNotice:
    """The author is told which posts could each be theirs; none of them is tracked."""
    unknown = replace(stored, state=RequestState.UNCLEAR)
    posts = [
        StoredPost(
            id=remote.id,
            request_id=stored.id,
            account_id=account.id,
            account_label=account.label,
            status=PostStatus.UNKNOWN,
            scheduled_time=remote.scheduled_time,
            posted_at=None,
        )
        for account, candidates in unclear
        for remote in candidates
    ]
    return notice_for(NoticeKind.UNCLEAR, unknown, posts, sandbox=sandbox)
