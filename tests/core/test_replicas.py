"""Several replicas on one database: work is claimed before it is done, so that none is done twice, and the claims
of a replica that died expire so that none is lost. Each replica here is a runtime (or a store) of its own on one
SQLite file, with its own replica id; the stores alone also on PostgreSQL (BOT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.runtime import Runtime, start_runtime
from bot.model import Account, Caller, PostRequest
from bot.notices import NoticeKind, notice_for
from bot.outbox import Outbox
from bot.ports import Store
from bot.records import RequestState
from bot.tracking import Tracker
from sandbox import SandboxServer
from storage.sql.connection import DEFAULT_LEASE
from tests.conftest import FakeClock, make_settings
from tests.database import notice_states, notice_states_in
from tests.fakes.chat import PLATFORM, ChatHarness, MemoryMessenger
from tests.postgres import open_storage

EXPIRED = DEFAULT_LEASE.total_seconds() / 60 + 1  # minutes after which a claim made now has expired
REQUEST = PostRequest(
    accounts=(Account(id="acc_1", platform="tiktok"),), content_type="video", media_urls=("https://e.com/v.mp4",)
)


def caller(channel: str = "C1") -> Caller:
    return Caller(platform=PLATFORM, workspace_id="T1", channel_id=channel, user_id="U1", display_name="Alice")


def reads(sandbox: SandboxServer) -> list[str]:
    return [r.path for r in sandbox.state.received if r.method == "GET" and r.path.startswith("/v1/posts/")]


@asynccontextmanager
async def replica(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock, name: str) -> AsyncIterator[Runtime]:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, replica_id=name)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        yield runtime


async def test_two_trackers_in_one_round_ask_about_each_due_post_once(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    async with (
        replica(tmp_path, sandbox, clock, "a") as a,
        replica(tmp_path, sandbox, clock, "b") as b,
    ):
        chat_a, chat_b = ChatHarness(a.core), ChatHarness(b.core)
        for _ in range(3):
            await chat_a.say("/post https://e.com/v.mp4 to acc_123, acc_456 in 1 hour -- go")
        clock.advance(hours=1)
        rounds = await asyncio.gather(Tracker(a.ctx).cycle(), Tracker(b.ctx).cycle())
        asked = Counter(reads(sandbox))
        assert len(asked) == 6
        assert set(asked.values()) == {1}
        assert sum(r.checked for r in rounds) == 6

        await asyncio.gather(a.core.deliver_notices(), b.core.deliver_notices())
        told = Counter(n.request_id for m in chat_a.channel + chat_b.channel for n in m.notices if n.kind == "posted")
        assert told == {1: 1, 2: 1, 3: 1}  # each request's news told once, whichever replica delivered it


async def test_posts_a_dead_replica_claimed_are_read_by_another_once_its_claim_expired(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    async with (
        replica(tmp_path, sandbox, clock, "a") as a,
        replica(tmp_path, sandbox, clock, "b") as b,
    ):
        await ChatHarness(a.core).say("/post https://e.com/v.mp4 to acc_123, acc_456 in 1 hour -- go")
        clock.advance(hours=1)
        claimed = await a.ctx.storage.posts.claim_due(clock(), limit=10)  # and then replica a dies
        assert len(claimed) == 2

        await Tracker(b.ctx).cycle()
        assert reads(sandbox) == []  # a's claim is live: b leaves the posts alone
        clock.advance(minutes=EXPIRED)
        await Tracker(b.ctx).cycle()
        assert sorted(reads(sandbox)) == sorted(f"/v1/posts/{p.id}" for p in claimed)


async def test_a_reconciliation_a_dead_replica_claimed_waits_for_its_claim_to_expire(
    database: Path | str, clock: FakeClock
) -> None:
    async with (
        await open_storage(database, clock=clock, replica="a") as a,
        await open_storage(database, clock=clock, replica="b") as b,
    ):
        stored = await a.requests.save(caller(), command_text="/post", request=REQUEST, state=RequestState.SENDING)
        await a.requests.finish(stored.id, state=RequestState.UNCONFIRMED, reconcile_at=clock())
        both = await asyncio.gather(
            a.requests.claim_reconciliations(clock()), b.requests.claim_reconciliations(clock())
        )
        assert sorted(len(claimed) for claimed in both) == [0, 1]
        holder, other = (a, b) if both[0] else (b, a)

        assert await other.requests.claim_reconciliations(clock()) == []
        assert [r.id for r in await holder.requests.claim_reconciliations(clock())] == [stored.id]  # its own
        clock.advance(minutes=EXPIRED)
        assert [r.id for r in await other.requests.claim_reconciliations(clock())] == [stored.id]
        await other.requests.reconcile_later(stored.id, at=clock())  # recorded: the claim is cleared
        assert [r.id for r in await holder.requests.claim_reconciliations(clock())] == [stored.id]


async def write_notices(storage: Store, channels: list[str], *, clock: FakeClock) -> list[int]:
    """One notice (a new message, never coalesced) per entry of `channels`, in that order; their outbox ids."""
    for channel in channels:
        stored = await storage.requests.save(
            caller(channel), command_text="/post", request=REQUEST, state=RequestState.RECEIVED
        )
        notice = notice_for(NoticeKind.NOT_SENT, stored, [], sandbox=True)
        await storage.requests.finish(stored.id, state=RequestState.NOT_SENT, notices=[notice])
    return [n.id for n in await storage.notices.due(clock(), platforms=[PLATFORM], limit=100)]


async def test_two_outboxes_deliver_each_notice_once_and_each_channel_in_order(
    database: Path | str, clock: FakeClock
) -> None:
    messenger = MemoryMessenger()  # one chat platform both replicas write to
    async with (
        await open_storage(database, clock=clock, replica="a") as a,
        await open_storage(database, clock=clock, replica="b") as b,
    ):
        ids = await write_notices(a, ["C1", "C2", "C1", "C2", "C1", "C1"], clock=clock)
        outboxes = [Outbox(store, clock=clock, messengers={PLATFORM: messenger}) for store in (a, b)]
        for _ in range(3):
            await asyncio.gather(*(outbox.flush() for outbox in outboxes))
        delivered = Counter(i for message in messenger.messages for i in message.ids)
        assert sorted(delivered) == sorted(ids)
        assert set(delivered.values()) == {1}
        for channel in ("C1", "C2"):
            in_channel = [i for m in messenger.messages if m.channel == channel for i in m.ids]
            assert in_channel == sorted(in_channel)
    assert await notice_states_in(database) == [("not_sent", "delivered")] * len(ids)


async def test_a_channels_pace_holds_across_replicas(database: Path | str, clock: FakeClock) -> None:
    """A channel gets three messages at once, then one a second, however many replicas deliver to it."""
    messenger = MemoryMessenger(min_interval=1.0)
    seconds = [1_000_000.0]
    async with (
        await open_storage(database, clock=clock, replica="a") as a,
        await open_storage(database, clock=clock, replica="b") as b,
    ):
        await write_notices(a, ["C1"] * 8, clock=clock)
        outboxes = [
            Outbox(s, clock=clock, messengers={PLATFORM: messenger}, seconds=lambda: seconds[0]) for s in (a, b)
        ]
        for _ in range(3):
            await asyncio.gather(*(outbox.flush() for outbox in outboxes))
        assert len(messenger.messages) == 3  # the burst, shared: not three each
        seconds[0] += 1
        for _ in range(3):
            await asyncio.gather(*(outbox.flush() for outbox in outboxes))
        assert len(messenger.messages) == 4
        seconds[0] += 4
        for _ in range(3):
            await asyncio.gather(*(outbox.flush() for outbox in outboxes))
        assert len(messenger.messages) == 7  # the burst refilled (three), not four: one for each second


async def test_a_notice_a_dead_replica_was_sending_goes_once_its_claim_expired(
    database: Path | str, clock: FakeClock
) -> None:
    messenger = MemoryMessenger()
    async with (
        await open_storage(database, clock=clock, replica="a") as a,
        await open_storage(database, clock=clock, replica="b") as b,
    ):
        (notice_id,) = await write_notices(a, ["C1"], clock=clock)
        assert await a.notices.claim_for_sending([notice_id]) == [notice_id]  # and then replica a dies
        outbox = Outbox(b, clock=clock, messengers={PLATFORM: messenger})

        assert await outbox.flush() == 0
        assert messenger.messages == []  # neither sent again nor looked for: a may be sending it right now
        assert await notice_states_in(database) == [("not_sent", "sending")]
        clock.advance(minutes=EXPIRED)
        assert await outbox.flush() == 1  # not found at the platform, so sent
        assert [m.ids for m in messenger.messages] == [[notice_id]]
    assert await notice_states_in(database) == [("not_sent", "delivered")]


async def test_start_up_leaves_a_request_another_replica_is_sending_until_its_claim_expired(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    async with replica(tmp_path, sandbox, clock, "a") as a:
        stored = await a.ctx.storage.requests.save(
            caller(), command_text="/post", request=REQUEST, state=RequestState.SENDING
        )  # a is in the middle of its create call
        async with replica(tmp_path, sandbox, clock, "b") as b:
            request = await b.ctx.storage.requests.get(stored.id)
            assert request is not None
            assert request.state == RequestState.SENDING
            await Tracker(b.ctx).reconcile()
            request = await b.ctx.storage.requests.get(stored.id)
            assert request is not None
            assert request.state == RequestState.SENDING

    clock.advance(minutes=EXPIRED)  # a died without storing the outcome; its claim has expired
    async with replica(tmp_path, sandbox, clock, "b") as b:
        request = await b.ctx.storage.requests.get(stored.id)
        assert request is not None
        assert request.state == RequestState.UNCONFIRMED
    assert notice_states(tmp_path / "bot.db") == [("send_interrupted", "pending")]


async def test_a_post_a_dead_replica_had_accepted_is_answered_not_sent_by_another_once_its_claim_expired(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    """Kept before it was acknowledged, then its replica died before handling it: a live replica's tracker round
    tells its author, once the claim has expired; nothing was sent."""
    messenger = MemoryMessenger()
    async with replica(tmp_path, sandbox, clock, "a") as a:
        accepted = await a.core.accept(caller("C7"), "https://e.com/v.mp4 to acc_1 at noon -- hi")
        assert accepted is not None  # ... and a dies here
    async with replica(tmp_path, sandbox, clock, "b") as b:
        b.core.attach(PLATFORM, messenger)
        await Tracker(b.ctx).reconcile()
        assert await b.ctx.outbox.flush() == 0  # a's claim is live: a may be handling it right now
        clock.advance(minutes=EXPIRED)
        await Tracker(b.ctx).reconcile()
        assert await b.ctx.outbox.flush() == 1
        [message] = messenger.messages
        assert message.channel == "C7"
        assert "`/post https://e.com/v.mp4 to acc_1 at noon -- hi` (request #1) was not sent" in message.text
        await Tracker(b.ctx).reconcile()  # told once
        assert await b.ctx.outbox.flush() == 0
    assert [r.path for r in sandbox.state.received if r.method == "POST"] == []


async def test_a_restarted_replica_settles_its_own_unfinished_request_at_once(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    async with replica(tmp_path, sandbox, clock, "a") as a:
        stored = await a.ctx.storage.requests.save(
            caller(), command_text="/post", request=REQUEST, state=RequestState.RECEIVED
        )
    async with replica(tmp_path, sandbox, clock, "a") as a:  # the same replica, restarted: the claim is its own
        request = await a.ctx.storage.requests.get(stored.id)
        assert request is not None
        assert request.state == RequestState.NOT_SENT
