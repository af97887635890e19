"""What the core relies on from its database, through the ports of bot/ports.py only, once per backend (a SQLite
file, and a PostgreSQL database when BOT_TEST_POSTGRES_URL names a server). Two stores opened on one database,
with different replica ids, stand in for two replicas of the bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.errors import StorageError
from bot.model import Account, Caller, ChannelRef, MessageRef, PostRequest, PostStatus
from bot.ports import Store
from bot.records import (
    Approval,
    ApprovalStep,
    Approver,
    ChannelSettings,
    Installation,
    NewNotice,
    RequestState,
    StoredMedia,
    StoredPost,
    StoredRequest,
)
from tests.conftest import FakeClock
from tests.fakes.waiting import wait_until
from tests.postgres import open_storage

API = "sandbox"
LEASE = timedelta(minutes=10)  # how long a claim lasts: passed to every store, so that tests can outlive it
SETTINGS_SEEN_WITHIN = 5.0  # seconds: how stale another replica's view of a changed setting may be, at most
SLACK = ["slack"]
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)

OpenStore = Callable[..., Awaitable[Store]]


@pytest.fixture
async def stores(database: Path | str, clock: FakeClock) -> AsyncIterator[OpenStore]:
    """Open stores on the test's database: `await stores("b")` is another replica, `api=` another Infinipost."""
    opened: list[Store] = []

    async def open_store(replica: str = "a", *, api: str = API) -> Store:
        store = await open_storage(database, clock=clock, api=api, replica=replica, lease=LEASE)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.close()


@pytest.fixture
async def store(stores: OpenStore) -> Store:
    return await stores("a")


@pytest.fixture
async def other(stores: OpenStore) -> Store:
    """A second replica on the same database."""
    return await stores("b")


def caller(channel: str = "C1", *, user: str = "U1", workspace: str = "T1") -> Caller:
    return Caller(platform="slack", workspace_id=workspace, channel_id=channel, user_id=user, display_name="Alice")


def asking(*accounts: str, caption: str | None = None, at: datetime | None = None) -> PostRequest:
    return PostRequest(
        accounts=tuple(Account(id=a, platform="tiktok", name=f"Name {a}") for a in accounts or ("acc_1",)),
        content_type="video",
        media_urls=("https://e.com/v.mp4",),
        caption=caption,
        scheduled_time=at,
    )


def post(
    post_id: str,
    request_id: int,
    *,
    check_at: datetime | None = None,
    status: PostStatus = PostStatus.SCHEDULED,
    at: datetime | None = None,
    posted_at: datetime | None = None,
    account: str = "acc_1",
) -> StoredPost:
    return StoredPost(
        id=post_id,
        request_id=request_id,
        account_id=account,
        account_label=f"Name {account}",
        status=status,
        scheduled_time=at or check_at,
        posted_at=posted_at,
        next_check_at=check_at,
    )


def notice(channel: str = "C1", *, kind: str = "not_sent", request_id: int | None = None) -> NewNotice:
    return NewNotice(
        channel=ChannelRef(platform="slack", workspace_id="T1", channel_id=channel),
        kind=kind,
        request_id=request_id,
        payload=f'{{"channel": "{channel}"}}',
    )


async def sent(store: Store, *posts: Callable[[int], StoredPost], who: Caller | None = None) -> StoredRequest:
    """A request whose create succeeded, with the posts made from its id."""
    stored = await store.requests.save(
        who or caller(), command_text="/post", request=asking(), state=RequestState.SENDING
    )
    await store.requests.finish(stored.id, state=RequestState.SENT, posts=[make(stored.id) for make in posts])
    return stored


async def tell(store: Store, *channels: str) -> list[int]:
    """One notice per channel named, in that order, each written with the refusal of a request; their ids."""
    ids = []
    for channel in channels:
        stored = await store.requests.save(
            caller(channel), command_text="/post", request=asking(), state=RequestState.RECEIVED
        )
        await store.requests.finish(
            stored.id, state=RequestState.NOT_SENT, notices=[notice(channel, request_id=stored.id)]
        )
        ids.append(stored.id)
    found = await store.notices.due(FAR_FUTURE, platforms=SLACK)
    return [n.id for n in found if n.request_id in ids]


# Requests: stored before the create call, finished after it.


async def test_a_request_is_stored_before_its_create_call_and_finished_with_its_posts(
    store: Store, clock: FakeClock
) -> None:
    when = clock() + timedelta(days=1, microseconds=123_456)
    request = PostRequest(
        accounts=(Account(id="acc_1", platform="tiktok", name="Café ☕"), Account(id="acc_2", platform="instagram")),
        content_type="slideshow",
        media_urls=("https://e.com/1.jpg", "https://e.com/2.jpg"),
        caption="Crème brûlée, 100% 'quoted' \"text\" 🎉",
        sound_url="https://e.com/s.mp3",
        slide_duration=3,
        scheduled_time=when,
        media_keys=("k1", ""),
    )
    saved = await store.requests.save(caller(), command_text="/post café", request=request, state=RequestState.SENDING)
    assert await store.requests.get(saved.id) == saved
    assert saved.state == RequestState.SENDING
    assert saved.request == request
    assert saved.created_at == clock()
    assert saved.sent_at is None

    clock.advance(seconds=3)
    posts = [post("p_1", saved.id, check_at=when), post("p_2", saved.id, check_at=when, account="acc_2")]
    await store.requests.finish(
        saved.id, state=RequestState.SENT, posts=posts, audit=(caller(), "post", {"posts": ["p_1", "p_2"]})
    )
    finished = await store.requests.get(saved.id)
    assert finished is not None
    assert (finished.state, finished.sent_at, finished.error) == (RequestState.SENT, clock(), None)
    assert finished.request == request
    assert await store.posts.of_requests([saved.id]) == {saved.id: posts}
    assert await store.posts.get("p_2") == posts[1]
    assert await store.requests.get(saved.id + 1000) is None


async def test_a_failed_create_keeps_its_error_and_its_notice(store: Store) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await store.requests.finish(
        saved.id, state=RequestState.FAILED, error="account is not ready", notices=[notice(request_id=saved.id)]
    )
    failed = await store.requests.get(saved.id)
    assert failed is not None
    assert (failed.state, failed.error, failed.sent_at) == (RequestState.FAILED, "account is not ready", None)
    assert await store.posts.of_requests([saved.id]) == {saved.id: []}
    [told] = await store.notices.with_payloads(await store.notices.due(FAR_FUTURE, platforms=SLACK))
    assert (told.request_id, told.kind, told.payload) == (saved.id, "not_sent", '{"channel": "C1"}')


async def test_a_confirmation_is_found_by_its_token_and_taken_once(store: Store, other: Store) -> None:
    saved = await store.requests.save(
        caller(), command_text="/post", request=asking(), state=RequestState.AWAITING_CONFIRMATION, confirm_token="tok"
    )
    found = await other.requests.by_token("tok")
    assert found is not None
    assert found.id == saved.id
    assert await store.requests.by_token("other") is None
    clicks = await asyncio.gather(
        *(
            s.requests.move(saved.id, from_state=RequestState.AWAITING_CONFIRMATION, to_state=RequestState.SENDING)
            for s in (store, other, store)
        )
    )
    assert sorted(clicks) == [False, False, True]
    moved = await store.requests.get(saved.id)
    assert moved is not None
    assert moved.state == RequestState.SENDING


async def test_an_approval_step_is_taken_once_by_two_replicas_with_its_audit_and_notice(
    store: Store, other: Store, clock: FakeClock
) -> None:
    saved = await store.requests.save(
        caller(), command_text="/post", request=asking(at=FAR_FUTURE), state=RequestState.AWAITING_CONFIRMATION
    )
    approvers = (Approver(kind="user", id="U2", name="bob"), Approver(kind="group", id="S7", name="design"))
    asked = Approval(approvers=approvers).with_step(
        ApprovalStep(action="asked", by_id="U1", by_name="Alice", at=clock(), note="")
    )
    due = clock() + timedelta(hours=1)
    waiting = await store.requests.transition(
        saved.id,
        from_states=(RequestState.AWAITING_CONFIRMATION,),
        to_state=RequestState.AWAITING_APPROVAL,
        approval=asked,
        approval_due=due,
        audit=(caller(), "ask_approval", {}),
        notices=[NewNotice(channel=caller().channel, kind="awaiting_approval", request_id=saved.id, payload="{}")],
    )
    assert waiting is not None
    assert (waiting.state, waiting.approval, waiting.approval_due) == (RequestState.AWAITING_APPROVAL, asked, due)
    assert await store.notices.announcement_pending(saved.id)
    assert await store.requests.approvals_due(due - timedelta(seconds=1), limit=10) == []
    assert [r.id for r in await other.requests.approvals_due(due, limit=10)] == [saved.id]
    approved = asked.with_step(ApprovalStep(action="approved", by_id="U2", by_name="bob", at=clock()))
    presses = await asyncio.gather(
        *(
            s.requests.transition(
                saved.id,
                from_states=(RequestState.AWAITING_APPROVAL,),
                to_state=RequestState.SENDING,
                approval=approved,
                approval_due=None,
            )
            for s in (store, other, store)
        )
    )
    assert len([p for p in presses if p is not None]) == 1
    stored = await other.requests.get(saved.id)
    assert stored is not None
    assert (stored.state, stored.approval, stored.approval_due) == (RequestState.SENDING, approved, None)
    assert await store.requests.approvals_due(FAR_FUTURE, limit=10) == []


async def test_a_reminder_guarded_by_when_it_was_due_is_taken_once(
    store: Store, other: Store, clock: FakeClock
) -> None:
    saved = await store.requests.save(
        caller(), command_text="/post", request=asking(at=FAR_FUTURE), state=RequestState.AWAITING_CONFIRMATION
    )
    approval = Approval(approvers=(Approver(kind="user", id="U2"),))
    due = clock()
    await store.requests.transition(
        saved.id,
        from_states=(RequestState.AWAITING_CONFIRMATION,),
        to_state=RequestState.AWAITING_APPROVAL,
        approval=approval,
        approval_due=due,
    )
    rounds = await asyncio.gather(
        *(
            s.requests.transition(
                saved.id,
                from_states=(RequestState.AWAITING_APPROVAL,),
                to_state=RequestState.AWAITING_APPROVAL,
                approval=approval,
                approval_due=FAR_FUTURE,
                due_was=due,
            )
            for s in (store, other)
        )
    )
    assert len([r for r in rounds if r is not None]) == 1


async def test_a_channels_approvers_round_trip(store: Store) -> None:
    alice = caller()
    required = ChannelSettings(
        default_accounts=("acc_1",),
        approvers=(Approver(kind="user", id="U2", name="bob"), Approver(kind="group", id="S7", name="design")),
        authors_may_approve=True,
    )
    await store.preferences.save_channel_settings(alice, required, action="channel_approvals")
    assert await store.preferences.channel_settings(alice.channel) == required
    await store.preferences.save_channel_settings(alice, replace(required, approvers=(), authors_may_approve=False))
    assert (await store.preferences.channel_settings(alice.channel)).approval is None


async def test_one_of_two_replicas_claiming_a_slot_gets_it_and_a_lapsed_claim_frees_it(
    store: Store, other: Store, clock: FakeClock
) -> None:
    at = clock() + timedelta(days=1)
    claims = await asyncio.gather(
        store.slots.claim("slack", "T1", ["acc_1", "acc_2"], at=at, until=clock() + timedelta(hours=1)),
        other.slots.claim("slack", "T1", ["acc_2"], at=at, until=clock() + timedelta(hours=1)),
    )
    assert sorted(claims) == [False, True]
    assert await other.slots.taken("slack", "T1", ["acc_2"], start=clock(), end=at + timedelta(minutes=1)) == {at}
    assert await store.slots.taken("slack", "T1", ["acc_9"], start=clock(), end=at + timedelta(minutes=1)) == set()
    clock.advance(hours=2)
    assert await other.slots.claim("slack", "T1", ["acc_2"], at=at, until=clock() + timedelta(hours=1))


async def test_commands_accepted_in_one_burst_each_get_a_number_of_their_own(store: Store) -> None:
    unread = PostRequest(accounts=(), content_type="video", media_urls=())
    # Some from the same person with the same words: those may share nothing but their number.
    asked = [(f"U{n % 7}", f"/post https://e.com/{n % 5}.mp4 now") for n in range(40)]
    numbers = await asyncio.gather(
        *(store.requests.accept(caller(user=user), command_text=text, request=unread) for user, text in asked)
    )
    assert len(set(numbers)) == len(asked)
    for (user, text), number in zip(asked, numbers, strict=True):
        kept = await store.requests.get(number)
        assert kept is not None
        assert (kept.user_id, kept.command_text, kept.state) == (user, text, RequestState.ACCEPTED)


async def test_a_received_request_becomes_ready_once_or_is_dropped(store: Store) -> None:
    first = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.RECEIVED)
    second = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.RECEIVED)
    complete = asking("acc_1", "acc_2", caption="uploaded")
    await store.requests.ready(first.id, request=complete, state=RequestState.AWAITING_CONFIRMATION, confirm_token="t")
    ready = await store.requests.get(first.id)
    assert ready is not None
    assert (ready.state, ready.request, ready.confirm_token) == (RequestState.AWAITING_CONFIRMATION, complete, "t")
    with pytest.raises(StorageError):  # no longer received: a second `ready` is a bug, not a no-op
        await store.requests.ready(first.id, request=complete, state=RequestState.SENDING)

    await store.requests.drop_received(second.id)
    await store.requests.drop_received(first.id)  # not received any more: kept
    assert await store.requests.get(second.id) is None
    assert await store.requests.get(first.id) is not None


async def test_only_this_infiniposts_unsettled_requests_are_listed(stores: OpenStore) -> None:
    ours, theirs = await stores("a", api=API), await stores("a", api="https://api.example/v1")
    sending = await ours.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    unsure = await ours.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await ours.requests.finish(unsure.id, state=RequestState.UNCONFIRMED)
    done = await sent(ours)
    elsewhere = await theirs.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)

    assert [r.id for r in await ours.requests.unsettled()] == [sending.id, unsure.id]
    assert [r.id for r in await theirs.requests.unsettled()] == [elsewhere.id]
    assert ours.requests.is_ours(done)
    assert not ours.requests.is_ours(elsewhere)
    assert elsewhere.api == "https://api.example/v1"


# Claims: work two replicas share is done once, and a dead replica's work is taken over once its claim expired.


async def test_a_request_another_replica_left_sending_is_taken_up_once_its_claim_expired(
    store: Store, other: Store, clock: FakeClock
) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    assert await other.requests.interrupted_to_unconfirmed(before=clock() + timedelta(hours=1)) == []
    assert await other.requests.claim_unfinished(restarted=False) == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    # Not silently: taken up by one replica as unfinished work, whose author the core then tells.
    assert await other.requests.interrupted_to_unconfirmed(before=clock()) == []
    taken = await asyncio.gather(
        store.requests.claim_unfinished(restarted=False), other.requests.claim_unfinished(restarted=False)
    )
    assert sorted([r.id for r in found] for found in taken) == [[], [saved.id]]


async def test_a_replica_settles_its_own_request_left_sending_at_once(store: Store, clock: FakeClock) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    assert await store.requests.interrupted_to_unconfirmed(before=clock()) == []  # not changed before `before`
    clock.advance(seconds=1)
    assert await store.requests.interrupted_to_unconfirmed(before=clock()) == [saved.id]


async def test_unfinished_requests_are_claimed_by_one_replica_and_taken_over_when_it_dies(
    store: Store, other: Store, clock: FakeClock
) -> None:
    receiving = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.RECEIVED)
    assert await other.requests.claim_unfinished() == []  # `store` is fetching its uploads
    assert [r.id for r in await store.requests.claim_unfinished()] == [receiving.id]  # its own, after a restart
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert [r.id for r in await other.requests.claim_unfinished()] == [receiving.id]
    assert await store.requests.claim_unfinished() == []  # now the other's, and live


async def test_a_request_whose_uploads_take_long_stays_claimed_while_its_replica_renews_the_claim(
    store: Store, other: Store, clock: FakeClock
) -> None:
    receiving = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.RECEIVED)
    for _ in range(3):  # three leases' worth of fetching, renewed within each
        clock.advance(seconds=LEASE.total_seconds() - 60)
        assert await store.requests.keep_claim(receiving.id)
        assert await other.requests.claim_unfinished() == []
    assert not await other.requests.keep_claim(receiving.id)  # not its claim to renew
    clock.advance(seconds=LEASE.total_seconds() + 1)  # its replica died: no more renewals
    assert [r.id for r in await other.requests.claim_unfinished()] == [receiving.id]
    assert not await store.requests.keep_claim(receiving.id)


async def test_two_replicas_starting_together_settle_each_unfinished_request_once(
    stores: OpenStore, clock: FakeClock
) -> None:
    dead = await stores("dead")
    ids = [
        (await dead.requests.save(caller(), command_text="/post", request=asking(), state=state)).id
        for state in (RequestState.RECEIVED, RequestState.SENDING, RequestState.RECEIVED, RequestState.SENDING)
    ]
    clock.advance(seconds=LEASE.total_seconds() + 1)
    a, b = await stores("a"), await stores("b")
    claimed = await asyncio.gather(a.requests.claim_unfinished(), b.requests.claim_unfinished())
    got = [r.id for replica in claimed for r in replica]
    assert sorted(got) == ids


async def test_a_due_reconciliation_is_claimed_once_and_released_when_recorded(
    store: Store, other: Store, clock: FakeClock
) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await store.requests.finish(saved.id, state=RequestState.UNCONFIRMED, reconcile_at=clock() + timedelta(minutes=5))
    assert await store.requests.claim_reconciliations(clock()) == []  # not due yet
    clock.advance(minutes=5)
    both = await asyncio.gather(
        store.requests.claim_reconciliations(clock()), other.requests.claim_reconciliations(clock())
    )
    assert sorted(len(claimed) for claimed in both) == [0, 1]
    holder, waiting = (store, other) if both[0] else (other, store)
    assert await waiting.requests.claim_reconciliations(clock()) == []

    await holder.requests.reconcile_later(saved.id, at=clock() + timedelta(minutes=1))
    assert await waiting.requests.claim_reconciliations(clock()) == []  # released, but not due again yet
    clock.advance(minutes=1)
    [again] = await waiting.requests.claim_reconciliations(clock())
    assert (again.id, again.reconcile_attempts) == (saved.id, 1)


async def test_two_replicas_each_claim_a_different_share_of_the_due_posts(
    store: Store, other: Store, clock: FakeClock
) -> None:
    due = clock()
    await sent(store, *(partial(post, f"p_{i}", check_at=due) for i in range(6)))
    both = await asyncio.gather(store.posts.claim_due(due, limit=10), other.posts.claim_due(due, limit=10))
    ids = [p.id for claimed in both for p in claimed]
    assert sorted(ids) == [f"p_{i}" for i in range(6)]
    first, second = ({p.id for p in claimed} for claimed in both)
    assert not {p.id for p in await other.posts.claim_due(due, limit=10)} & first
    assert not {p.id for p in await store.posts.claim_due(due, limit=10)} & second


async def test_the_soonest_due_posts_are_claimed_first_up_to_the_limit(store: Store, clock: FakeClock) -> None:
    now = clock()
    await sent(
        store,
        partial(post, "later", check_at=now - timedelta(minutes=1)),
        partial(post, "soonest", check_at=now - timedelta(hours=2)),
        partial(post, "sooner", check_at=now - timedelta(hours=1)),
        partial(post, "future", check_at=now + timedelta(seconds=1)),
        partial(post, "untracked", check_at=None, at=now - timedelta(days=1)),
    )
    assert [p.id for p in await store.posts.claim_due(now, limit=2)] == ["soonest", "sooner"]
    assert await store.posts.next_check_time() == now - timedelta(hours=2)  # claimed, still tracked
    assert [p.id for p in await store.posts.claim_due(now, limit=10)] == ["soonest", "sooner", "later"]


async def test_a_dead_replicas_post_is_taken_over_once_its_claim_expired(
    store: Store, other: Store, clock: FakeClock
) -> None:
    await sent(store, partial(post, "p_1", check_at=clock()))
    [claimed] = await store.posts.claim_due(clock(), limit=10)
    assert await other.posts.claim_due(clock(), limit=10) == []
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await other.posts.claim_due(clock(), limit=10) == []
    clock.advance(seconds=2)
    assert await other.posts.claim_due(clock(), limit=10) == [claimed]


async def test_recording_a_posts_new_state_releases_its_claim(store: Store, other: Store, clock: FakeClock) -> None:
    await sent(store, partial(post, "p_1", check_at=clock()), partial(post, "p_2", check_at=clock()))
    [first, second] = await store.posts.claim_due(clock(), limit=10)
    assert await store.claims_held(clock()) == 2
    live = replace(first, status=PostStatus.POSTED, posted_at=clock(), next_check_at=None)
    later = replace(second, checks=3, delay_warned=True, next_check_at=clock() + timedelta(minutes=1))
    await store.posts.update([live, later], notices=[notice(kind="posted")])

    assert await store.claims_held(clock()) == 0
    assert await store.posts.by_ids(["p_1", "p_2", "p_none"]) == {"p_1": live, "p_2": later}
    assert await other.posts.claim_due(clock(), limit=10) == []  # released, but not due again yet
    clock.advance(minutes=1)
    assert await other.posts.claim_due(clock(), limit=10) == [later]  # the posted one is no longer tracked
    assert await store.posts.known_ids(["p_2", "p_none"]) == {"p_2"}
    assert [n.kind for n in await store.notices.due(clock(), platforms=SLACK)] == ["posted"]


async def test_another_infiniposts_posts_are_neither_claimed_nor_awaited(stores: OpenStore, clock: FakeClock) -> None:
    theirs = await stores("a", api="https://api.example/v1")
    await sent(theirs, partial(post, "theirs", check_at=clock() - timedelta(days=1)))
    ours = await stores("a")
    assert await ours.posts.claim_due(clock(), limit=10) == []
    assert await ours.posts.next_check_time() is None
    await sent(ours, partial(post, "ours", check_at=clock() + timedelta(minutes=5)))
    assert await ours.posts.next_check_time() == clock() + timedelta(minutes=5)


async def test_claims_held_counts_this_replicas_live_claims_only(store: Store, other: Store, clock: FakeClock) -> None:
    await sent(store, partial(post, "p_1", check_at=clock()), partial(post, "p_2", check_at=clock()))
    [notice_id] = await tell(store, "C1")
    await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await store.posts.claim_due(clock(), limit=10)
    await store.notices.claim_for_sending([notice_id])
    assert await store.claims_held(clock()) == 4  # two posts, a notice, a request being sent
    assert await other.claims_held(clock()) == 0
    assert await store.claims_held(clock() + LEASE) == 0


# The outbox: each notice delivered once, each channel's in order.


async def test_due_notices_come_oldest_first_for_the_platforms_asked(store: Store, clock: FakeClock) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    discord = NewNotice(
        channel=ChannelRef(platform="discord", workspace_id="G1", channel_id="C9"),
        kind="x",
        request_id=None,
        payload="{}",
    )
    await store.requests.finish(saved.id, state=RequestState.SENT, notices=[notice("C2"), discord, notice("C1")])
    due = await store.notices.due(clock(), platforms=SLACK)
    assert [n.channel.channel_id for n in due] == ["C2", "C1"]
    assert [n.id for n in await store.notices.due(clock(), platforms=SLACK, limit=1)] == [due[0].id]
    assert len(await store.notices.due(clock(), platforms=["slack", "discord"])) == 3
    assert await store.notices.due(clock(), platforms=[]) == []
    assert await store.notices.due(clock() - timedelta(seconds=1), platforms=SLACK) == []
    assert await store.notices.next_time(platforms=SLACK) == clock()
    assert await store.notices.next_time(platforms=["telegram"]) is None


async def test_two_replicas_claim_each_notice_once(store: Store, other: Store) -> None:
    ids = await tell(store, "C1", "C2", "C3", "C4")
    both = await asyncio.gather(store.notices.claim_for_sending(ids), other.notices.claim_for_sending(ids))
    assert sorted(both[0] + both[1]) == ids
    assert await store.notices.claim_for_sending(ids) == []  # all handed over already


async def test_a_channels_notices_wait_while_another_replica_delivers_an_earlier_one(
    store: Store, other: Store, clock: FakeClock
) -> None:
    first, in_other_channel, second = await tell(store, "C1", "C2", "C1")
    assert await store.notices.claim_for_sending([first]) == [first]
    assert await other.notices.claim_for_sending([second, in_other_channel]) == [in_other_channel]
    await store.notices.delivered([first])
    assert await other.notices.claim_for_sending([second]) == [second]


async def test_a_channel_moves_on_once_the_claim_on_its_earlier_notice_expired(
    store: Store, other: Store, clock: FakeClock
) -> None:
    first, second = await tell(store, "C1", "C1")
    assert await store.notices.claim_for_sending([first]) == [first]  # and then `store` dies
    assert await other.notices.claim_for_sending([second]) == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await other.notices.claim_for_sending([second]) == [second]


async def test_a_notice_caught_mid_delivery_is_taken_over_with_its_payload_once_its_claim_expired(
    store: Store, other: Store, clock: FakeClock
) -> None:
    [notice_id] = await tell(store, "C1")
    await store.notices.claim_for_sending([notice_id])
    assert await other.notices.claim_in_flight(platforms=SLACK) == []
    await other.notices.delivered([notice_id])  # not its claim: no effect
    assert (await store.notices.backlog(clock(), platforms=SLACK)).due == 1
    [own] = await store.notices.claim_in_flight(platforms=SLACK)  # a restarted replica takes back its own
    assert (own.id, own.payload) == (notice_id, '{"channel": "C1"}')

    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await other.notices.claim_in_flight(platforms=["discord"]) == []
    [taken] = await other.notices.claim_in_flight(platforms=SLACK)
    assert taken == own
    assert await store.notices.claim_in_flight(platforms=SLACK) == []
    await other.notices.delivered([notice_id])
    assert (await store.notices.backlog(clock(), platforms=SLACK)).due == 0
    assert await other.claims_held(clock()) == 0


async def test_a_notice_retried_later_counts_its_attempts_and_one_given_up_is_gone(
    store: Store, clock: FakeClock
) -> None:
    retried, given_up = await tell(store, "C1", "C2")
    later = clock() + timedelta(minutes=5)
    await store.notices.retry([retried], at=later, error="rate limited" * 100, give_up=False)
    await store.notices.retry([given_up], at=later, error="channel_not_found", give_up=True)
    assert await store.notices.due(clock(), platforms=SLACK) == []
    assert await store.notices.next_time(platforms=SLACK) == later
    [due] = await store.notices.due(later, platforms=SLACK)
    assert (due.id, due.attempts) == (retried, 1)
    await store.notices.retry([retried], at=later, error="platform down", give_up=False, count=False)
    assert [n.attempts for n in await store.notices.due(later, platforms=SLACK)] == [1]
    backlog = await store.notices.backlog(later, platforms=SLACK)
    assert backlog.due == 1


async def test_a_delivered_announcement_is_kept_with_its_request(store: Store, clock: FakeClock) -> None:
    saved = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await store.requests.finish(
        saved.id, state=RequestState.SENT, notices=[notice(kind="scheduled", request_id=saved.id)]
    )
    assert await store.notices.announcement_pending(saved.id)
    [scheduled] = await store.notices.due(clock(), platforms=SLACK)
    ref = MessageRef(channel_id="C1", message_id="1700000000.000100")
    await store.notices.delivered([scheduled.id], announcement=(saved.id, ref))
    assert not await store.notices.announcement_pending(saved.id)
    announced = await store.requests.get(saved.id)
    assert announced is not None
    assert announced.announcement == ref
    assert await store.notices.due(clock(), platforms=SLACK) == []


# One-time keys: a platform's retry of one event is handled once, whichever replica gets it.


async def test_a_key_is_refused_while_remembered_even_by_another_replica(
    store: Store, other: Store, clock: FakeClock
) -> None:
    until = clock() + timedelta(minutes=10)
    assert await store.once_keys.remember("evt_1", until=until, now=clock()) is True
    assert await store.once_keys.remember("evt_1", until=until, now=clock()) is False
    assert await other.once_keys.remember("evt_1", until=until, now=clock()) is False
    assert await other.once_keys.remember("evt_2", until=until, now=clock()) is True
    assert (
        await store.once_keys.remember("evt_1", until=until + timedelta(hours=1), now=until + timedelta(seconds=1))
        is True
    )


async def test_a_burst_of_one_key_through_two_replicas_is_new_once(
    store: Store, other: Store, clock: FakeClock
) -> None:
    until = clock() + timedelta(minutes=10)
    answers = await asyncio.gather(
        *(s.once_keys.remember(key, until=until, now=clock()) for s in (store, other) * 4 for key in ("e1", "e2"))
    )
    assert sorted(answers) == [False] * 14 + [True] * 2


# Preferences: what people and channels chose.


async def test_zones_channel_defaults_and_aliases_round_trip(store: Store) -> None:
    alice, bob = caller(), caller(user="U2")
    await store.preferences.set_user_timezone(alice, "Europe/Paris")
    assert await store.preferences.user_timezone(alice) == "Europe/Paris"
    assert await store.preferences.user_timezone(bob) is None
    await store.preferences.set_user_timezone(alice, None)
    assert await store.preferences.user_timezone(alice) is None

    assert await store.preferences.channel_settings(alice.channel) == ChannelSettings()
    restricted = ChannelSettings(default_accounts=("acc_2", "acc_1"), allowed_accounts=("acc_1", "acc_2"))
    await store.preferences.save_channel_settings(alice, restricted)
    assert await store.preferences.channel_settings(alice.channel) == restricted
    open_again = ChannelSettings(default_accounts=("acc_1",), allowed_accounts=None)
    await store.preferences.save_channel_settings(alice, open_again)
    assert await store.preferences.channel_settings(alice.channel) == open_again
    assert await store.preferences.channel_settings(caller("C2").channel) == ChannelSettings()


async def test_an_alias_is_replaced_and_removed_in_any_case(store: Store) -> None:
    assert await store.preferences.set_alias(caller(), "Main", "acc_1") is False
    assert await store.preferences.set_alias(caller(), "brand", "acc_2") is False
    assert await store.preferences.set_alias(caller(), "main", "acc_3") is True
    assert await store.preferences.aliases("slack", "T1") == {"main": "acc_3", "brand": "acc_2"}
    assert await store.preferences.aliases("slack", "T2") == {}
    assert await store.preferences.set_alias(caller(), "BRAND", None) is True
    assert await store.preferences.set_alias(caller(), "brand", None) is False
    assert await store.preferences.aliases("slack", "T1") == {"main": "acc_3"}


async def test_another_replica_sees_changed_preferences_within_seconds(store: Store, other: Store) -> None:
    admin = caller()
    assert await other.preferences.user_timezone(admin) is None  # read once: now in its memory
    assert await other.preferences.channel_settings(admin.channel) == ChannelSettings()
    assert await other.preferences.aliases("slack", "T1") == {}
    await store.preferences.set_user_timezone(admin, "Asia/Tokyo")
    await store.preferences.save_channel_settings(admin, ChannelSettings(default_accounts=("acc_1",)))
    await store.preferences.set_alias(admin, "brand", "acc_1")

    async def seen() -> bool:
        return (
            await other.preferences.user_timezone(admin) == "Asia/Tokyo"
            and (await other.preferences.channel_settings(admin.channel)).default_accounts == ("acc_1",)
            and await other.preferences.aliases("slack", "T1") == {"brand": "acc_1"}
        )

    await wait_until(seen, timeout=SETTINGS_SEEN_WITHIN, so_far=lambda: "the other replica still reads old settings")


# Media: what the bot stored, kept while a request needs it.


async def test_media_is_indexed_and_kept_while_a_request_needs_it(store: Store, clock: FakeClock) -> None:
    await store.media.save("orphan", sha256="a" * 64, content_type="image/jpeg", size=10)
    await store.media.save("orphan", sha256="a" * 64, content_type="image/jpeg", size=10)  # a retried upload
    await store.media.save("used", sha256="b" * 64, content_type="video/mp4", size=3_000_000_000)
    await store.media.save("done", sha256="c" * 64, content_type="image/png", size=1)
    assert await store.media.get("used") == StoredMedia(
        key="used", sha256="b" * 64, content_type="video/mp4", size=3_000_000_000
    )
    assert await store.media.get("missing") is None
    assert await store.media.keys() == {"orphan", "used", "done"}

    sending = await store.requests.save(caller(), command_text="/post", request=asking(), state=RequestState.SENDING)
    await store.media.link(sending.id, ["used"])
    finished = await sent(store)
    await store.media.link(finished.id, ["done", "done"])
    clock.advance(days=2)
    cut = clock() - timedelta(days=1)
    assert sorted(await store.media.disposable(done_before=cut, orphan_before=cut)) == ["done", "orphan"]
    assert (
        await store.media.disposable(done_before=cut - timedelta(days=2), orphan_before=cut - timedelta(days=2)) == []
    )
    await store.media.forget(["done", "orphan"])
    assert await store.media.keys() == {"used"}


async def test_a_live_series_keeps_its_media_and_each_occurrence_is_stored_once(
    store: Store, other: Store, clock: FakeClock
) -> None:
    await store.media.save("weekly", sha256="d" * 64, content_type="video/mp4", size=5)
    asked = await store.requests.save(
        caller(), command_text="/post", request=asking(), state=RequestState.AWAITING_CONFIRMATION, recurrence="{}"
    )
    await store.media.link(asked.id, ["weekly"])
    first = clock() + timedelta(days=1)
    assert await store.series.start(
        asked.id, from_state=RequestState.AWAITING_CONFIRMATION, next_at=first, audit=(caller(), "series_start", {})
    )
    assert not await other.series.start(
        asked.id, from_state=RequestState.AWAITING_CONFIRMATION, next_at=first, audit=(caller(), "series_start", {})
    )
    clock.advance(days=30)
    cut = clock()
    assert await store.media.disposable(done_before=cut, orphan_before=cut) == []  # the series still needs it
    occurrences = await asyncio.gather(
        store.series.add_occurrence(asked, occurrence=0, request=asking(at=first)),
        other.series.add_occurrence(asked, occurrence=0, request=asking(at=first)),
    )
    assert len([o for o in occurrences if o is not None]) == 1
    advanced = await asyncio.gather(
        store.series.advance(asked.id, created_was=0, next_at=None),
        other.series.advance(asked.id, created_was=0, next_at=None),
    )
    assert sorted(advanced) == [False, True]
    ended = await store.requests.get(asked.id)
    assert ended is not None
    assert ended.state == RequestState.SERIES_ENDED
    assert await store.series.due(FAR_FUTURE, limit=10) == []


# Installations: one record per place.


async def test_one_installation_per_place_replaced_then_forgotten(store: Store, other: Store) -> None:
    await store.installations.save(Installation(platform="slack", workspace_id="T1", record="sealed-1"))
    await store.installations.save(Installation(platform="slack", workspace_id="T1", record="sealed-2"))
    await store.installations.save(Installation(platform="slack", organization_id="E1", record="sealed-org"))
    found = await other.installations.find("slack", workspace_id="T1", organization_id="")
    assert found == Installation(platform="slack", workspace_id="T1", record="sealed-2")
    assert await other.installations.find("slack", workspace_id="T1", organization_id="E1") is None
    assert {i.record for i in await other.installations.all("slack")} == {"sealed-2", "sealed-org"}
    assert await other.installations.all("discord") == []
    assert await other.installations.delete("slack", workspace_id="T1", organization_id="") is True
    assert await store.installations.delete("slack", workspace_id="T1", organization_id="") is False
    assert [i.organization_id for i in await store.installations.all("slack")] == ["E1"]


# The store itself.


async def test_ping_answers_until_the_store_is_closed(database: Path | str) -> None:
    store = await open_storage(database, lease=LEASE)
    await store.ping()
    await store.close()
    with pytest.raises(StorageError):
        await store.ping()


async def test_reopening_a_database_keeps_what_was_stored(database: Path | str, clock: FakeClock) -> None:
    first = await open_storage(database, clock=clock, api=API, lease=LEASE)
    saved = await sent(first, partial(post, "p_1"))
    finished = await first.requests.get(saved.id)
    await first.close()
    again = await open_storage(database, clock=clock, api=API, lease=LEASE)  # and its migrations run again
    try:
        assert finished is not None
        assert await again.requests.get(saved.id) == finished
        assert await again.posts.known_ids(["p_1"]) == {"p_1"}
    finally:
        await again.close()


# History: what /posts lists.


@pytest.fixture
async def history(store: Store, clock: FakeClock) -> dict[str, int]:
    """A channel's requests of every kind, and one each elsewhere and awaiting confirmation, by name."""
    now = clock()
    hour = timedelta(hours=1)
    names: dict[str, int] = {}

    async def request(name: str, *, state: str, posts=(), who: Caller | None = None, accounts=("acc_1",)) -> None:
        saved = await store.requests.save(
            who or caller(), command_text=f"/post {name}", request=asking(*accounts), state=RequestState.SENDING
        )
        await store.requests.finish(saved.id, state=state, posts=[make(saved.id) for make in posts])
        names[name] = saved.id

    await request("in 2h", state=RequestState.SENT, posts=[partial(post, "a", at=now + 2 * hour)])
    await request("in 1h", state=RequestState.SENT, posts=[partial(post, "b", at=now + hour)])
    await request(
        "bob's in 3h",
        state=RequestState.SENT,
        posts=[partial(post, "c", at=now + 3 * hour, account="acc_2")],
        who=caller(user="U2"),
        accounts=("acc_2",),
    )
    await request(
        "posted 1h ago",
        state=RequestState.SENT,
        posts=[partial(post, "d", at=now - 2 * hour, status=PostStatus.POSTED, posted_at=now - hour)],
    )
    await request(
        "failed 2h ago",
        state=RequestState.SENT,
        posts=[partial(post, "e", at=now - 2 * hour, status=PostStatus.FAILED)],
    )
    await request("refused", state=RequestState.FAILED)
    await request("elsewhere", state=RequestState.SENT, who=caller("C2"))
    confirm = await store.requests.save(
        caller(), command_text="/post", request=asking(), state=RequestState.AWAITING_CONFIRMATION, confirm_token="t"
    )
    names["awaiting"] = confirm.id
    return names


async def queue(
    store: Store,
    view: str = "all",
    *,
    user_id: str | None = None,
    account_id: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[int], int]:
    """The ids /posts would list in channel C1, and how many there are in all."""
    found, total = await store.requests.channel_queue(
        caller().channel, view=view, user_id=user_id, account_id=account_id, limit=limit, offset=offset
    )
    return [r.id for r in found], total


async def test_the_history_lists_upcoming_soonest_first_then_the_rest_latest_first(
    store: Store, history: dict[str, int]
) -> None:
    upcoming = [history["in 1h"], history["in 2h"], history["bob's in 3h"]]
    past = [history["refused"], history["posted 1h ago"], history["failed 2h ago"]]
    assert await queue(store) == (upcoming + past, 6)
    assert await queue(store, "upcoming") == (upcoming, 3)
    assert await queue(store, "past") == (past, 3)
    assert await queue(store, "failed") == ([history["refused"], history["failed 2h ago"]], 2)


async def test_the_history_is_paged_and_a_page_past_the_end_says_how_many_there_are(
    store: Store, history: dict[str, int]
) -> None:
    assert await queue(store, limit=2, offset=2) == ([history["bob's in 3h"], history["refused"]], 6)
    assert await queue(store, limit=2, offset=50) == ([], 6)


async def test_the_history_is_filtered_by_person_and_by_account(store: Store, history: dict[str, int]) -> None:
    assert await queue(store, user_id="U2") == ([history["bob's in 3h"]], 1)
    assert await queue(store, account_id="acc_2") == ([history["bob's in 3h"]], 1)
    mine, total = await queue(store, account_id="acc_1", view="upcoming")
    assert (mine, total) == ([history["in 1h"], history["in 2h"]], 2)
    assert await queue(store, account_id="acc_9") == ([], 0)
    assert await queue(store, user_id="U2", view="past") == ([], 0)


async def test_one_replica_at_a_time_holds_a_role_until_it_lets_go_or_stops_renewing(
    store: Store, other: Store, clock: FakeClock
) -> None:
    def hold(replica: Store, seconds: float = 30) -> Awaitable[bool]:
        return replica.leases.hold("gateway", now=clock(), until=clock() + timedelta(seconds=seconds))

    assert await hold(store)
    assert not await hold(other)
    clock.advance(seconds=20)
    assert await hold(store)  # renewed: another 30 seconds from now
    clock.advance(seconds=20)
    assert not await hold(other)
    clock.advance(seconds=10)  # the holder stopped renewing 30 seconds ago
    assert await hold(other)
    assert not await hold(store)  # too late: it must stand by now
    await store.leases.release("gateway")  # not its to let go
    assert not await hold(store)
    await other.leases.release("gateway")
    assert await hold(store)
