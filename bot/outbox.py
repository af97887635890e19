"""Delivers the notices written to the outbox, through the messenger of each chat platform.

A notice is marked delivered only once the platform accepted it, in the same transaction as what its delivery
taught us (an announcement's message reference), so a crash before that delivers it after the restart and a
crash after it never repeats it. Per channel, new messages are paced to the platform's rate (Slack: about one a
second), counted in the database so that the pace holds across replicas, and a burst of notices of one kind
becomes one message that lists them. Failures are retried with backoff; a refusal no retry can fix is logged,
dropped, and told to the author when it was their announcement.

Replicas sharing the database each run an outbox: a notice is claimed (moved to `sending` with the replica's id
and an expiry) before it goes, so each is delivered once, and a channel another replica is delivering to waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import DeliveryError
from bot.model import ChannelRef, MessageRef
from bot.notices import ANNOUNCING, PLACEMENT, Notice, NoticeKind
from bot.ports import Store
from bot.records import StoredNotice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=30)
WAIT_FOR_ANNOUNCEMENT = timedelta(seconds=2)
COALESCED = {NoticeKind.POSTED, NoticeKind.FAILED, NoticeKind.DELAYED}
BURST = 3  # messages a channel may get at once before pacing starts
GATHER = 0.05  # seconds between delivery rounds
DUE_LIMIT = 2000  # notices looked at per round (their payloads are read only for those that can go)

Item = tuple[StoredNotice, Notice]


class Messenger(Protocol):
    """What an adapter offers the outbox: write notices into a channel, and rewrite an earlier message."""

    min_interval: float  # seconds between new messages in one channel once a burst is spent

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None, ids: Sequence[int]
    ) -> MessageRef:
        """Post a message carrying `notices`, marked with their outbox `ids` so that `find` can spot it."""
        ...

    async def edit(self, ref: MessageRef, notice: Notice, *, channel: ChannelRef) -> None:
        """Rewrite the message `ref` (in `channel`, which tells whose workspace it is) to carry `notice`."""
        ...

    async def find(self, channel: ChannelRef, notice_id: int, *, thread: MessageRef | None) -> MessageRef | None:
        """The message that carried notice `notice_id`, if the platform has it: after a crash mid-delivery,
        this decides between "already delivered" and "send it again"."""
        ...

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        """Tell the person a notice was about, privately, that it could not be delivered and why."""
        ...


class Outbox:
    """The delivery worker. `run()` loops until cancelled; `flush()` delivers whatever may go now.

    Args:
        clock: the time notices are due by.
        seconds: the time that paces each channel, in seconds since the epoch: the machine's clock, which every
            replica shares, since a channel's turn is kept in the database (tests pass a fake).
    """

    def __init__(
        self,
        storage: Store,
        *,
        clock: Callable[[], datetime],
        messengers: Mapping[str, Messenger] | None = None,
        seconds: Callable[[], float] = time.time,
    ) -> None:
        self._notices = storage.notices
        self._requests = storage.requests
        self._clock = clock
        self.messengers: dict[str, Messenger] = dict(messengers or {})
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # the worker and an explicit flush must not deliver the same notice
        self._seconds = seconds
        self._paced_until: dict[ChannelRef, float] = {}  # channel -> when its next new message may go, as last heard
        self._paced_for = 0.0
        self._handed_over: set[int] = set()  # notices this process marked as sending

    def wake(self) -> None:
        self._wake.set()

    def register(self, platform: str, messenger: Messenger) -> None:
        """A chat platform's adapter is ready to deliver: notices left waiting for it (by a restart) go now,
        not at the worker's next idle wake-up."""
        self.messengers[platform] = messenger
        self.wake()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.flush()
                await asyncio.sleep(GATHER)  # news arriving together goes out together
            except Exception:
                logger.exception("notice delivery round failed")
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        if self._paced_for:
            # A channel is being paced: news for it or any other channel waits out the same short pause, rather
            # than each new notice waking a round that can send nothing.
            await asyncio.sleep(self._paced_for)
            return
        next_at = await self._notices.next_time(platforms=tuple(self.messengers))
        timeout = 30.0
        if next_at is not None:
            timeout = min(timeout, max(0.05, (next_at - self._clock()).total_seconds()))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives as the
        # event is set, and the worker would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def flush(self) -> int:
        """Deliver every due notice of the platforms present, as pacing allows; return how many went."""
        async with self._flushing:
            self._paced_for = 0.0
            await self._recover_interrupted()
            by_channel: dict[ChannelRef, list[StoredNotice]] = defaultdict(list)
            # Other platforms' notices wait in the outbox for a process that runs them.
            due = await self._notices.due(self._clock(), platforms=tuple(self.messengers), limit=DUE_LIMIT)
            for stored in due:
                by_channel[stored.channel].append(stored)
            delivered = 0
            for channel, waiting in by_channel.items():
                if wait := self._known_wait(channel):
                    # While the channel waits for its turn only the edits before its next new message may go (the
                    # rest goes in order, after it): the others are not even worth reading.
                    leading = list(itertools.takewhile(_is_edit, waiting))
                    if len(leading) < len(waiting):
                        self._note_pacing(wait)
                    if not leading:
                        continue
                    waiting = leading
                items = [(s, Notice.from_json(s.payload)) for s in await self._notices.with_payloads(waiting)]
                delivered += await self._flush_channel(channel, await self._drop_superseded(items))
            return delivered

    def _known_wait(self, channel: ChannelRef) -> float:
        """The seconds before the channel's next new message, as this replica last heard from the database (0: none
        known). Only a hint, which spares a look at the database every round: the turn itself is taken there."""
        until = self._paced_until.get(channel)
        if until is None:
            return 0.0
        wait = until - self._seconds()
        if wait <= 0:
            del self._paced_until[channel]
            return 0.0
        return wait

    async def _take_turn(self, channel: ChannelRef, messenger: Messenger) -> bool:
        """Whether a new message may go to the channel now, counted if so: BURST at once, then one every
        `min_interval` seconds, across every replica delivering to it. What is left to wait is remembered."""
        now = self._seconds()
        took, wait = await self._notices.take_turn(channel, now=now, interval=messenger.min_interval, burst=BURST)
        if wait:
            self._paced_until[channel] = now + wait
        return took

    def _note_pacing(self, wait: float) -> None:
        self._paced_for = wait if not self._paced_for else min(self._paced_for, wait)

    async def _recover_interrupted(self) -> None:
        """Notices an earlier process was delivering when it died: delivered if the platform has them, else due
        again. Never sent blindly twice."""
        # Only notices whose claim expired (their replica died) or this replica's own: never another live
        # replica's delivery.
        for stored in await self._notices.claim_in_flight(platforms=tuple(self.messengers)):
            messenger = self.messengers.get(stored.channel.platform)
            if stored.id in self._handed_over or messenger is None:
                continue
            notice = Notice.from_json(stored.payload)
            request = await self._requests.get(notice.request_id)
            announcement = request.announcement if request else None
            found = None
            if notice.placement != "edit":  # an edit repeated is harmless
                thread = announcement if notice.placement == "thread" else None
                found = await messenger.find(stored.channel, stored.id, thread=thread)
            if found is None:
                await self._notices.retry(
                    [stored.id], at=self._clock(), error="interrupted", give_up=False, count=False
                )
            else:
                logger.info("notice %s was delivered before the restart", stored.id)
                announced = (notice.request_id, found) if notice.kind in ANNOUNCING else None
                await self._notices.delivered([stored.id], announcement=announced)

    async def _drop_superseded(self, items: list[Item]) -> list[Item]:
        """An announcement edit shows every post's current state, so only the newest edit of each is needed."""
        newest = {notice.request_id: stored.id for stored, notice in items if notice.kind is NoticeKind.UPDATED}
        stale = [s.id for s, n in items if n.kind is NoticeKind.UPDATED and newest[n.request_id] != s.id]
        if stale:
            await self._notices.delivered(stale)
        return [(s, n) for s, n in items if s.id not in stale]

    async def _flush_channel(self, channel: ChannelRef, items: list[Item]) -> int:
        messenger = self.messengers[channel.platform]
        delivered = 0
        for group in _groups(items):
            notice = group[0][1]
            new_message = len(group) > 1 or notice.placement != "edit"
            if new_message and (wait := self._known_wait(channel)):
                self._note_pacing(wait)
                break  # the rest of this channel waits its turn, in order
            went = await self._deliver(group, messenger, paced=new_message)
            if went is None:
                break  # another replica is delivering this channel: the rest waits, in order, for a later round
            delivered += went
        return delivered

    async def _deliver(self, group: list[Item], messenger: Messenger, *, paced: bool) -> int | None:
        """Deliver one group; how many went, or None when another replica holds (some of) its notices."""
        stored, notice = group[0]
        request = await self._requests.get(notice.request_id)
        announcement = request.announcement if request else None
        if len(group) == 1 and notice.placement in ("edit", "thread") and announcement is None:
            if await self._notices.announcement_pending(notice.request_id):
                await self._postpone(stored)  # it will have somewhere to go once the announcement is out
                return 0
            if notice.placement == "edit":
                await self._notices.delivered([stored.id])  # there is no announcement to edit
                return 0
        claimed = await self._notices.claim_for_sending([s.id for s, _ in group])
        if not claimed:
            return None
        # The channel's turn is counted only once the notices are this replica's to send, so that a replica that
        # lost them to another does not spend a turn on nothing; another replica may have had the turn since.
        if paced and not await self._take_turn(stored.channel, messenger):
            await self._notices.retry(claimed, at=self._clock(), error="waiting its turn", give_up=False, count=False)
            self._note_pacing(self._known_wait(stored.channel))
            return None
        mine = [item for item in group if item[0].id in claimed]
        ids = [s.id for s, _ in mine]
        self._handed_over.update(ids)
        try:
            went = await self._hand_over(mine, messenger, announcement)
        finally:
            self._handed_over.difference_update(ids)  # settled, one way or the other
        return went if len(mine) == len(group) else None

    async def _hand_over(self, group: list[Item], messenger: Messenger, announcement: MessageRef | None) -> int:
        stored, notice = group[0]
        ids = [s.id for s, _ in group]
        announced: tuple[int, MessageRef] | None = None
        try:
            if len(group) > 1:
                await messenger.send(stored.channel, [n for _, n in group], thread=None, ids=ids)
            elif notice.placement == "edit":
                assert announcement is not None
                await messenger.edit(announcement, notice, channel=stored.channel)
            else:
                thread = announcement if notice.placement == "thread" else None
                ref = await messenger.send(stored.channel, [notice], thread=thread, ids=ids)
                if notice.kind in ANNOUNCING:
                    announced = (notice.request_id, ref)
        except DeliveryError as exc:
            gave_up = await self._retry(
                group, exc.user_message, retryable=exc.retryable, after=exc.retry_after, tries=exc.tries
            )
            if gave_up and notice.kind in ANNOUNCING:
                await self._warn(messenger, stored, notice, exc.user_message)
            return 0
        except Exception as exc:
            logger.exception("delivering notice(s) %s failed", ids)
            await self._retry(group, type(exc).__name__, retryable=True, after=None)
            return 0
        await self._notices.delivered(ids, announcement=announced)
        return len(group)

    async def _postpone(self, stored: StoredNotice) -> None:
        await self._notices.retry(
            [stored.id],
            at=self._clock() + WAIT_FOR_ANNOUNCEMENT,
            error="waiting for the announcement",
            give_up=False,
            count=False,
        )

    async def _warn(self, messenger: Messenger, stored: StoredNotice, notice: Notice, problem: str) -> None:
        try:
            await messenger.warn_author(stored.channel, notice, problem)
        except Exception:
            logger.warning("could not tell the author of request %s either", notice.request_id, exc_info=True)

    async def _retry(
        self, group: Sequence[Item], error: str, *, retryable: bool, after: float | None, tries: int | None = None
    ) -> bool:
        """Schedule another attempt, or give up; returns True when given up."""
        ids = [s.id for s, _ in group]
        attempts = max(s.attempts for s, _ in group) + 1
        give_up = not retryable or attempts >= (tries or MAX_ATTEMPTS)
        wait = timedelta(seconds=after) if after else min(MAX_BACKOFF, timedelta(seconds=2**attempts))
        if give_up:  # an error: whoever runs the bot must look at the channel or the app
            channel = group[0][0].channel
            logger.error(
                "gave up delivering notice(s) %s to %s channel %s after %d attempt(s): %s",
                ids,
                channel.platform,
                channel.channel_id,
                attempts,
                error,
            )
        else:
            logger.info("notice(s) %s will be retried in %s: %s", ids, wait, error)
        await self._notices.retry(ids, at=self._clock() + wait, error=error, give_up=give_up)
        return give_up


def _groups(items: list[Item]) -> list[list[Item]]:
    """In order, except that a burst of one coalesced kind goes out as one message where its first one was."""
    by_kind: dict[NoticeKind, list[Item]] = defaultdict(list)
    for item in items:
        if item[1].kind in COALESCED:
            by_kind[item[1].kind].append(item)
    groups: list[list[Item]] = []
    for item in items:
        kind = item[1].kind
        if kind in COALESCED and len(by_kind[kind]) > 1:
            if by_kind[kind] and by_kind[kind][0] is item:
                groups.append(by_kind[kind])
        else:
            groups.append([item])
    return groups


def _is_edit(stored: StoredNotice) -> bool:
    return PLACEMENT.get(NoticeKind(stored.kind)) == "edit"
