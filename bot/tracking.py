"""What the bot learns about its posts from Infinipost, recorded together with the notices it causes."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from bot.context import Context
from bot.model import PostStatus, RemotePost
from bot.notices import NoticeKind, notice_for
from storage.records import NewNotice, StoredPost

logger = logging.getLogger(__name__)


async def record_remote(ctx: Context, observed: Sequence[tuple[StoredPost, RemotePost]]) -> int:
    """Store what Infinipost now says about posts; tell their channels what changed. Returns the changes."""
    changed: list[tuple[StoredPost, StoredPost]] = []
    for stored, remote in observed:
        status = remote.status if remote.status is not PostStatus.UNKNOWN else stored.status
        if remote.status is PostStatus.UNKNOWN:
            logger.warning(
                "post %s has an undocumented status %r; keeping %s",
                stored.id,
                remote.raw_status,
                stored.status,
            )
        moved = remote.scheduled_time is not None and remote.scheduled_time != stored.scheduled_time
        if status is stored.status and not moved:
            continue
        after = replace(
            stored,
            status=status,
            scheduled_time=remote.scheduled_time or stored.scheduled_time,
            posted_at=remote.posted_at or stored.posted_at,
        )
        changed.append((stored, after))
    if not changed:
        return 0
    notices = await _notices_for(ctx, changed)
    await ctx.storage.update_posts(
        [(after.id, after.status, after.scheduled_time, after.posted_at) for _, after in changed],
        notices=notices,
    )
    ctx.outbox.wake()
    return len(changed)


async def _notices_for(ctx: Context, changed: list[tuple[StoredPost, StoredPost]]) -> list[NewNotice]:
    by_request: dict[int, list[tuple[StoredPost, StoredPost]]] = defaultdict(list)
    for before, after in changed:
        by_request[after.request_id].append((before, after))
    notices: list[NewNotice] = []
    for request_id, pairs in by_request.items():
        stored = await ctx.storage.get_request(request_id)
        if stored is None:
            continue
        current = {p.id: p for p in (await ctx.storage.posts_of([request_id]))[request_id]}
        current.update({after.id: after for _, after in pairs})
        went_live = [a for b, a in pairs if a.status is PostStatus.POSTED and b.status is not PostStatus.POSTED]
        failed = [a for b, a in pairs if a.status is PostStatus.FAILED and b.status is not PostStatus.FAILED]
        if went_live:
            notices.append(notice_for(NoticeKind.POSTED, stored, went_live, sandbox=ctx.sandbox))
        if failed:
            notices.append(notice_for(NoticeKind.FAILED, stored, failed, sandbox=ctx.sandbox, alert=True))
        notices.append(notice_for(NoticeKind.UPDATED, stored, list(current.values()), sandbox=ctx.sandbox))
    return notices
