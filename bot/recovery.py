"""After a restart, or a replica's death: the requests left half-way are settled, and their authors told.

A /post accepted but not yet read, or stopped while its uploads were being fetched, was never sent: it becomes
`not_sent`, and its author is told to send it again. One stopped during its create call may or may not exist at
Infinipost: it becomes unconfirmed for the tracker to look for, and its author is told not to send it again yet.

With several replicas on one database, only requests whose claim has expired (or that this replica held before its
restart) are settled: one a live replica is reading, fetching or sending right now is its own business, and it
renews its claim while it does.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.notices import NoticeKind, notice_for
from bot.records import RequestState

logger = logging.getLogger(__name__)


# Why a request that was never sent was not, for the log and the request's error, and the notice its author gets.
_NOT_SENT = {
    RequestState.ACCEPTED: ("the bot stopped before it handled the command", NoticeKind.NOT_HANDLED),
    RequestState.RECEIVED: ("the bot stopped while fetching its files", NoticeKind.NOT_SENT),
}


async def settle_unfinished(ctx: Context, *, restarted: bool = True) -> None:
    """At start-up (`restarted`), before anything else uses the database: this replica's own unfinished requests
    and those of replicas that stopped. Then now and again (not `restarted`): those of replicas that stopped
    since, whose claims expired."""
    for stored in await ctx.storage.requests.claim_unfinished(restarted=restarted):
        if stored.state in _NOT_SENT:
            why, kind = _NOT_SENT[stored.state]
            logger.warning("request %s was not sent: %s", stored.id, why)
            await ctx.storage.requests.finish(
                stored.id,
                state=RequestState.NOT_SENT,
                error=why,
                notices=[notice_for(kind, stored, [], sandbox=ctx.sandbox)],
            )
        else:
            logger.warning("request %s was interrupted during its create call: now unconfirmed", stored.id)
            await ctx.storage.requests.finish(
                stored.id,
                state=RequestState.UNCONFIRMED,
                error="interrupted during the create call",
                reconcile_at=ctx.clock(),
                notices=[notice_for(NoticeKind.SEND_INTERRUPTED, stored, [], sandbox=ctx.sandbox)],
            )
