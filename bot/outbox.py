"""Delivers the notices written to the outbox, through the messenger of each chat platform.

A notice is marked delivered only after the platform accepted it, so a crash before that delivers it after the
restart. Failures are retried with backoff; a platform's refusal that no retry can fix is logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import DeliveryError
from bot.model import ChannelRef, MessageRef
from bot.notices import Notice, NoticeKind
from storage.records import StoredNotice
from storage.sqlite import Storage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=30)


class Messenger(Protocol):
    """What an adapter offers the outbox: write notices into a channel, and rewrite an earlier message."""

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None
    ) -> MessageRef: ...

    async def edit(self, ref: MessageRef, notice: Notice) -> None: ...

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        """Tell the person a notice was about, privately, that it could not be delivered and why."""
        ...


class Outbox:
    """The delivery worker. `run()` loops until cancelled; `flush()` delivers whatever is due now."""

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Callable[[], datetime],
        messengers: Mapping[str, Messenger] | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self.messengers: dict[str, Messenger] = dict(messengers or {})
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # the worker and an explicit flush must not deliver the same notice

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                logger.exception("notice delivery round failed")
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        next_at = await self._storage.next_notice_time()
        timeout = 30.0
        if next_at is not None:
            timeout = min(timeout, max(0.05, (next_at - self._clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def flush(self) -> int:
        """Deliver every due notice of the platforms present; return how many were delivered."""
        delivered = 0
        async with self._flushing:
            for stored in await self._storage.due_notices(self._clock()):
                messenger = self.messengers.get(stored.channel.platform)
                if messenger is None:
                    continue  # that platform is not running in this process; it stays in the outbox
                if await self._deliver(stored, messenger):
                    delivered += 1
        return delivered

    async def _deliver(self, stored: StoredNotice, messenger: Messenger) -> bool:
        notice = Notice.from_json(stored.payload)
        request = await self._storage.get_request(notice.request_id)
        announcement = request.announcement if request else None
        announced: tuple[int, MessageRef] | None = None
        try:
            if notice.placement == "edit":
                if announcement is None:
                    # The announcement itself is still on its way, or was never delivered: nothing to edit.
                    await self._storage.notices_delivered([stored.id])
                    return False
                await messenger.edit(announcement, notice)
            else:
                thread = announcement if notice.placement == "thread" else None
                ref = await messenger.send(stored.channel, [notice], thread=thread)
                if notice.kind is NoticeKind.SCHEDULED:
                    announced = (notice.request_id, ref)
        except DeliveryError as exc:
            gave_up = await self._retry([stored], exc.user_message, retryable=exc.retryable, after=exc.retry_after)
            if gave_up and notice.kind is NoticeKind.SCHEDULED:
                await self._warn(messenger, stored, notice, exc.user_message)
            return False
        except Exception as exc:
            logger.exception("delivering notice %s failed", stored.id)
            await self._retry([stored], type(exc).__name__, retryable=True, after=None)
            return False
        await self._storage.notices_delivered([stored.id], announcement=announced)
        return True

    async def _warn(self, messenger: Messenger, stored: StoredNotice, notice: Notice, problem: str) -> None:
        try:
            await messenger.warn_author(stored.channel, notice, problem)
        except Exception:
            logger.warning("could not tell the author of request %s either", notice.request_id, exc_info=True)

    async def _retry(
        self, notices: Sequence[StoredNotice], error: str, *, retryable: bool, after: float | None
    ) -> bool:
        """Schedule another attempt, or give up; returns True when given up."""
        attempts = max(n.attempts for n in notices) + 1
        give_up = not retryable or attempts >= MAX_ATTEMPTS
        wait = timedelta(seconds=after) if after else min(MAX_BACKOFF, timedelta(seconds=2**attempts))
        if give_up:
            logger.warning("dropping notice(s) %s after %d attempt(s): %s", [n.id for n in notices], attempts, error)
        else:
            logger.info("notice(s) %s will be retried in %s: %s", [n.id for n in notices], wait, error)
        await self._storage.notices_retry(
            [n.id for n in notices], at=self._clock() + wait, error=error, give_up=give_up
        )
        return give_up
