"""Infinipost misbehaving, injected in the sandbox: no post is ever created twice, the user gets one clear
message, and once the dust settles the bot's storage agrees with Infinipost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.runtime import Runtime, start_runtime
from bot.tracking import Tracker
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

SENT, FAILED, UNCONFIRMED = "Scheduled", "Nothing was scheduled", "did not confirm whether it created the post"

CREATE_FAULTS = {
    "latency of several seconds": (Fault(kind="latency", route="create", seconds=2.5), SENT),
    "500": (Fault(kind="status", route="create", status=500), UNCONFIRMED),
    "503 with Retry-After": (Fault(kind="status", route="create", status=503, retry_after="2"), UNCONFIRMED),
    "503 without Retry-After": (Fault(kind="status", route="create", status=503), UNCONFIRMED),
    "429 with Retry-After": (Fault(kind="status", route="create", status=429, retry_after="20"), FAILED),
    "429 without Retry-After": (Fault(kind="status", route="create", status=429), FAILED),
    "connection reset": (Fault(kind="reset", route="create"), UNCONFIRMED),
    "no answer after creating": (Fault(kind="timeout_after_create", route="create", seconds=10), UNCONFIRMED),
    "malformed JSON": (Fault(kind="malformed", route="create"), UNCONFIRMED),
    "fields missing": (Fault(kind="missing_fields", route="create"), UNCONFIRMED),
    "account IDs missing": (Fault(kind="missing_fields", route="create", fields=("accountId",)), SENT),
    "account IDs and a post missing": (
        Fault(kind="missing_fields", route="create", fields=("accountId",), items=1),
        UNCONFIRMED,
    ),
    "unknown status": (Fault(kind="unknown_status", route="create"), SENT),
}
READ_FAULTS = {
    "latency": Fault(kind="latency", route="read", seconds=0.5, times=None),
    "500": Fault(kind="status", route="read", status=500, times=None),
    "503 with Retry-After": Fault(kind="status", route="read", status=503, retry_after="0.2", times=None),
    "429 without Retry-After": Fault(kind="status", route="read", status=429, times=None),
    "connection reset": Fault(kind="reset", route="read", times=None),
    "no answer": Fault(kind="timeout_after_create", route="read", seconds=10, times=None),
    "malformed JSON": Fault(kind="malformed", route="read", times=None),
    "fields missing": Fault(kind="missing_fields", route="read", times=None),
    "unknown status": Fault(kind="unknown_status", route="read", times=None),
}


@pytest.fixture
async def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[Runtime]:
    # Creates must survive a few seconds of latency; reads give up sooner so that the test is quick.
    timeout = 4.0 if request.node.name.startswith("test_create_path") else 1.0
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=clock, workers=False, api_timeout=timeout, api_backoff=0.01) as running:
        yield running


async def settle(chat: ChatHarness, clock: FakeClock) -> None:
    """Let reconciliation and tracking run their course: an hour of tracker rounds."""
    for _ in range(30):
        clock.advance(minutes=2)
        await Tracker(chat.core.ctx).cycle()
    await chat.core.ctx.outbox.flush()


async def agreement(runtime: Runtime, sandbox: SandboxServer) -> None:
    """Every post Infinipost has is stored, with its status; nothing stored that Infinipost lacks."""
    storage = runtime.ctx.storage
    request = await storage.requests.get(1)
    assert request is not None
    stored = {p.id: p for p in (await storage.posts.of_requests([1]))[1]}
    remote = {post_id: sandbox.state.settle(post) for post_id, post in sandbox.state.posts.items()}
    assert set(stored) == set(remote)
    for post_id, post in stored.items():
        assert post.status.value == (
            "scheduled" if remote[post_id]["status"] == "generated" else remote[post_id]["status"]
        )
    assert request.state == ("sent" if remote else request.state)
    if not remote:
        assert request.state in ("failed", "not_created")


@pytest.mark.parametrize("name", CREATE_FAULTS)
async def test_create_path(
    name: str, chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    fault, expected = CREATE_FAULTS[name]
    sandbox.state.faults = [fault]
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1, acc_456 in 3 hours -- fault test")
    assert expected in reply.text
    assert "Traceback" not in reply.text
    await settle(chat, clock)
    creates = [r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
    assert len(creates) == 1  # never sent twice
    assert len(sandbox.state.posts) in (0, 2)  # one post per account, or none
    await agreement(runtime, sandbox)
    told = [m.text for m in chat.channel]
    if sandbox.state.posts:
        assert any("scheduled a video" in t for t in told)  # announced, at once or once found
    elif expected == UNCONFIRMED:
        assert any("was probably not created" in t for t in told)


@pytest.mark.parametrize("name", READ_FAULTS)
async def test_read_path(
    name: str, chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour -- read faults")
    await runtime.ctx.accounts.all()
    sandbox.state.faults = [READ_FAULTS[name]]
    clock.advance(hours=1, minutes=1)
    listing = await chat.say("/posts refresh")
    assert "#1 · " in listing.text  # still answers from storage
    await Tracker(runtime.ctx).cycle()  # never raises
    sandbox.state.faults = []
    await settle(chat, clock)
    await agreement(runtime, sandbox)
    assert len([m for m in chat.channel if "Live now" in m.text]) == 1  # told once, whatever happened before


async def test_a_create_that_cannot_be_stored_is_never_reported_as_not_sent(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    import sqlite3

    await runtime.ctx.accounts.all()
    blocker = sqlite3.connect(runtime.ctx.settings.database, timeout=10)
    sandbox.state.faults = [Fault(kind="latency", route="create", seconds=0.2)]

    async def lock_during_the_call() -> None:
        while not sandbox.state.received or sandbox.state.received[-1].method != "POST":
            await asyncio.sleep(0.01)
        blocker.execute("BEGIN EXCLUSIVE")  # the answer comes back to a database that will not take it

    locking = asyncio.create_task(lock_during_the_call())
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1 in 3 hours -- locked out")
    await locking
    blocker.rollback()
    blocker.close()
    assert "Do not send it again" in reply.text
    assert "Nothing was" not in reply.text
    for _ in range(8):  # ten minutes later the tracker takes it up, finds it and adopts it
        clock.advance(minutes=2)
        await Tracker(runtime.ctx).cycle()
    await chat.core.ctx.outbox.flush()
    await agreement(runtime, sandbox)
    assert any("after all" in m.text for m in chat.channel)


async def test_posts_answered_without_their_account_ids_are_matched_by_order(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime
) -> None:
    sandbox.state.faults = [Fault(kind="missing_fields", route="create", fields=("accountId",))]
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1, acc_456 in 3 hours -- no account IDs")
    made = {post["accountId"]: post_id for post_id, post in sandbox.state.posts.items()}
    assert reply.text.splitlines()[1:] == [
        f"• Demo TikTok (@demo) on TikTok: `{made['acc_1']}`",
        f"• Brand Instagram (@brand-ig) on Instagram: `{made['acc_456']}`",
    ]  # and never "Infinipost made no post for ...; schedule those again"
    stored = (await runtime.ctx.storage.posts.of_requests([1]))[1]
    assert {p.account_id: p.id for p in stored} == made


async def test_a_late_post_is_warned_about_while_infinipost_cannot_be_read(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 5 minutes -- late and unread")
    sandbox.state.faults = [Fault(kind="status", route="read", status=500, times=None)]
    warned_at = None
    for minute in range(1, 31):
        clock.advance(minutes=1)
        await Tracker(runtime.ctx).cycle()
        await runtime.ctx.outbox.flush()
        if warned_at is None and any("not live yet" in m.text for m in chat.channel):
            warned_at = minute
    assert warned_at == 5 + 10  # its time plus BOT_DELAY_ALERT_MINUTES, though every read failed
    assert len([m for m in chat.channel if "not live yet" in m.text]) == 1
    assert not [m for m in chat.channel if "Live now" in m.text]


async def test_posts_refresh_says_when_infinipost_could_not_be_asked(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 5 minutes -- refresh while down")
    clock.advance(minutes=10)
    sandbox.state.faults = [Fault(kind="status", route="read", status=503, times=None)]
    listing = await chat.say("/posts refresh")
    assert listing.text.startswith("Infinipost did not answer about 1 post(s); their statuses are as last seen.")
    assert "scheduled" in listing.text
