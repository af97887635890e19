"""Tracking posts until they are live, with an injected clock and the sandbox: what the channel is told."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.runtime import Runtime, start_runtime
from bot.outbox import Outbox
from bot.tracking import Tracker
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.database import notice_states
from tests.fakes.chat import ChatHarness


def reads(sandbox: SandboxServer) -> list[str]:
    return [r.path for r in sandbox.state.received if r.method == "GET" and r.path.startswith("/v1/posts/")]


async def cycle(chat: ChatHarness) -> None:
    await Tracker(chat.core.ctx).cycle()
    await chat.core.ctx.outbox.flush()


async def test_a_post_is_checked_only_when_due_then_announced_live_in_the_thread(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_123, acc_456 in 1 hour -- go")
    await cycle(chat)
    assert reads(sandbox) == []  # not due yet: Infinipost is not asked
    clock.advance(hours=1)
    await cycle(chat)
    assert len(reads(sandbox)) == 2
    announcement, live, edit = chat.channel
    assert "scheduled a video" in announcement.text
    assert live.thread == "m1"
    assert live.text == (
        "✅ Live now on Brand TikTok (@brand-tiktok) on TikTok, Brand Instagram (@brand-ig) on Instagram (request #1)."
    )
    assert edit.edits == "m1"
    assert edit.text.count("✅ live") == 2
    await cycle(chat)
    assert len(reads(sandbox)) == 2  # final posts are no longer tracked
    assert len(chat.channel) == 3


async def test_a_failed_post_mentions_its_author_in_the_channel_and_the_alerts_channel(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, alerts_channel="CALERTS")
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await chat.say("/post https://e.com/fail.mp4 to acc_1 in 10 minutes")
        clock.advance(minutes=10)
        await cycle(chat)
        failures = [m for m in chat.channel if "failed at Infinipost" in m.text]
        assert [m.channel for m in failures] == ["C1", "CALERTS"]
        assert all(m.text.startswith("❌ <@U1> the video for Demo TikTok") for m in failures)
        assert failures[0].thread is None  # in the channel, not buried in a thread


async def test_a_late_post_is_warned_about_once(chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock) -> None:
    await chat.say("/post https://e.com/stuck.mp4 to acc_1 in 5 minutes")
    clock.advance(minutes=5)
    await cycle(chat)
    assert not [m for m in chat.channel if "not live yet" in m.text]
    for _ in range(6):
        clock.advance(minutes=4)
        await cycle(chat)
    warnings = [m for m in chat.channel if "not live yet" in m.text]
    assert len(warnings) == 1
    assert warnings[0].thread == "m1"


async def test_the_late_warning_comes_when_the_post_becomes_late(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/stuck.mp4 to acc_1 in 5 minutes")
    warned_at = None
    for minute in range(1, 31):  # a tracker round every minute, as BOT_POLL_SECONDS=60 runs it
        clock.advance(minutes=1)
        await cycle(chat)
        if warned_at is None and any("not live yet" in m.text for m in chat.channel):
            warned_at = minute
    assert warned_at == 5 + 10  # its time plus BOT_DELAY_ALERT_MINUTES, not at the next backoff step
    assert len([m for m in chat.channel if "not live yet" in m.text]) == 1


async def test_a_rendering_post_is_checked_until_rendered_not_only_from_its_time(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/render-1.jpg https://e.com/render-2.jpg to acc_1 in 2 hours")
    assert "· Demo TikTok · rendering ·" in (await chat.say("/posts")).text
    await chat.core.ctx.outbox.flush()
    assert "Demo TikTok (@demo) on TikTok `post_" in chat.channel[0].text
    assert chat.channel[0].text.endswith("— ⏳ rendering")  # the announcement says it is rendering
    for _ in range(3):  # the sandbox renders for three minutes
        clock.advance(minutes=1)
        await cycle(chat)
    assert "· Demo TikTok · scheduled ·" in (await chat.say("/posts")).text
    assert [m.edits for m in chat.channel] == [None, "m1"]  # the announcement shows it rendered
    assert len(reads(sandbox)) == 3
    for _ in range(30):
        clock.advance(minutes=1)
        await cycle(chat)
    assert len(reads(sandbox)) == 3  # rendered: not asked about again before its time


async def test_backoff_once_due(chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock) -> None:
    await chat.say("/post https://e.com/stuck.mp4 to acc_1 now")
    checks_per_minute = []
    for _ in range(6):
        before = len(reads(sandbox))
        for _ in range(8):
            await Tracker(chat.core.ctx).cycle()
            clock.advance(seconds=60)
        checks_per_minute.append(len(reads(sandbox)) - before)
    assert checks_per_minute[0] >= 3
    assert checks_per_minute[-1] <= 1  # an hour-long backoff by now


async def test_cost_grows_with_due_posts_not_all_posts(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    for day in range(1, 31):
        await chat.say(f"/post https://e.com/v{day}.mp4 to acc_1 in {day} days")
    for _ in range(3):
        await chat.say("/post https://e.com/soon.mp4 to acc_123 in 30 minutes")
    clock.advance(minutes=31)
    before = len(reads(sandbox))
    cycle_result = await Tracker(chat.core.ctx).cycle()
    assert len(reads(sandbox)) - before == 3
    assert cycle_result.checked == 3


async def test_a_created_but_unconfirmed_post_is_found_and_adopted(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    sandbox.state.faults = [Fault(kind="malformed", route="create")]  # created, but the answer is unreadable
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours -- maybe")
    assert "did not confirm whether it created the post" in reply.text
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "unconfirmed"
    assert chat.channel == []
    clock.advance(seconds=31)
    await cycle(chat)
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "sent"
    posts = (await runtime.ctx.storage.posts.of_requests([1]))[1]
    assert [p.id for p in posts] == list(sandbox.state.posts)
    announcement, adopted = chat.channel
    assert "scheduled a video" in announcement.text
    assert adopted.thread == "m1"
    assert "was created at Infinipost after all" in adopted.text
    assert sandbox.state.create_calls == 1  # never sent twice


async def test_an_unconfirmed_post_that_was_never_created_is_reported_plainly(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    sandbox.state.faults = [Fault(kind="status", route="create", status=502)]
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours -- lost")
    for _ in range(8):
        clock.advance(minutes=16)
        await cycle(chat)
    [notice] = chat.channel
    assert notice.text.startswith("⚠️ <@U1> your video for Demo TikTok")
    assert "was probably not created" in notice.text
    assert "You can send the command again" in notice.text
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "not_created"
    assert [r.path for r in sandbox.state.received if r.method == "POST"] == ["/v1/posts"]  # asked once
    assert sandbox.state.posts == {}


async def settle_unconfirmed(chat: ChatHarness, clock: FakeClock) -> None:
    """Every reconciliation attempt, to the last one (a quarter of an hour and more)."""
    for _ in range(8):
        clock.advance(minutes=16)
        await cycle(chat)


async def test_look_alike_requests_each_keep_their_own_post(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    """Two requests for one account, caption and time: B's create gets a 503 and is never made; A's is made, but
    its answer never arrives. Looking for B must not take A's post."""
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=clock, workers=False, api_timeout=0.5, api_backoff=0.01) as runtime:
        chat = ChatHarness(runtime.core)
        sandbox.state.faults = [
            Fault(kind="status", route="create", status=503),
            Fault(kind="timeout_after_create", route="create", seconds=1),
        ]
        b = await chat.say("/post https://e.com/b.mp4 to acc_1 at tomorrow 9am -- launch day")
        a = await chat.say("/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- launch day")
        assert "did not confirm" in b.text
        assert "did not confirm" in a.text
        [made] = sandbox.state.posts.values()
        assert made["contentUrl"] == "https://e.com/a.mp4"
        again = await chat.say("/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- launch day")
        assert again.text.startswith("Nothing was sent: request #2 has the same media for Demo TikTok (@demo)")
        await settle_unconfirmed(chat, clock)
        storage = runtime.ctx.storage
        posts = await storage.posts.of_requests([1, 2, 3])
        assert posts == {1: [], 2: posts[2], 3: []}
        assert [p.id for p in posts[2]] == [made["postId"]]  # A has its own post
        assert [(r.id, r.state) for r in [await storage.requests.get(1), await storage.requests.get(2)] if r] == [
            (1, "not_created"),
            (2, "sent"),
        ]
        assert await storage.requests.get(3) is None  # the held-back one was not even stored
        told = [m.text for m in chat.channel]
        assert any("(request #1) was probably not created" in t for t in told)
        assert any("Request #2 was created at Infinipost after all" in t for t in told)
        creates = [r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
        assert len(creates) == 2  # B's refused with a 503, A's made once; neither ever again


async def test_a_look_alike_of_a_create_whose_outcome_is_unknown_is_held_back_until_it_is_known(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        first = (await chat.say("/post https://e.com/v.mp4 to acc_1, acc_123 in 2 hours")).confirm_token
        early = (await chat.say("/post https://e.com/v.mp4 to acc_123 in 2 hours -- other words")).confirm_token
        sandbox.state.faults = [Fault(kind="status", route="create", status=502)]
        assert "did not confirm" in (await chat.say(f"confirm {first}")).text
        refused = await chat.say("/post https://e.com/v.mp4 to acc_123 in 2 hours", caller=chat.caller("U2"))
        assert refused.error
        assert refused.text.startswith(
            "Nothing was sent: request #1 has the same media for Brand TikTok (@brand-tiktok) on TikTok at the same "
            "time"
        )
        confirmed_late = await chat.say(f"confirm {early}")  # previewed before #1's outcome became unknown
        assert confirmed_late.text.startswith("Nothing was sent: request #1")
        stored = await runtime.ctx.storage.requests.get(2)
        assert stored is not None
        assert stored.state == "discarded"
        other = await chat.say("/post https://e.com/other.mp4 to acc_123 in 2 hours")  # other media: not held
        assert "Schedule this post?" in other.text
        await settle_unconfirmed(chat, clock)  # #1 was not created, and its author is told
        later = await chat.say("/post https://e.com/v.mp4 to acc_123 in 2 hours")
        assert "Schedule this post?" in later.text
        assert sandbox.state.create_calls == 0  # #1's create was refused with a 502 before it was made


async def test_several_posts_that_could_be_an_unconfirmed_create_are_none_of_them_taken(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    sandbox.state.faults = [Fault(kind="malformed", route="create")]  # created, but the answer is unreadable
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours -- twins")
    [made] = sandbox.state.posts.values()
    twin = {**made, "postId": "post_dashboard"}  # the same post, also made by hand in Infinipost's dashboard
    sandbox.state.posts["post_dashboard"] = twin
    clock.advance(seconds=31)
    await cycle(chat)
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "unclear"
    assert (await runtime.ctx.storage.posts.of_requests([1]))[1] == []
    [notice] = chat.channel
    assert notice.text.startswith("⚠️ <@U1> I cannot tell whether your video (request #1) was created.")
    assert f"• Demo TikTok (@demo) on TikTok `{made['postId']}`" in notice.text
    assert "• Demo TikTok (@demo) on TikTok `post_dashboard`" in notice.text
    assert "Do not send the command again before you have." in notice.text
    assert "unclear: several posts at Infinipost could be it" in (await chat.say("/posts")).text
    await settle_unconfirmed(chat, clock)
    assert len(chat.channel) == 1  # said once
    assert sandbox.state.create_calls == 1


async def test_a_post_listed_without_its_content_is_matched_on_caption_and_time(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, clock: FakeClock
) -> None:
    sandbox.state.faults = [
        Fault(kind="malformed", route="create"),
        Fault(kind="missing_fields", route="read", fields=("contentUrl",), times=None),
    ]
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours -- no content listed")
    clock.advance(seconds=31)
    await cycle(chat)
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "sent"


async def test_changes_made_at_infinipost_update_the_announcement(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    await chat.say("/post https://e.com/w.mp4 to acc_123 in 1 hour")
    first, second = list(sandbox.state.posts)
    sandbox.state.posts[first]["scheduledTime"] = "2026-11-28T19:00:00Z"  # moved in the dashboard
    del sandbox.state.posts[second]  # deleted in the dashboard
    clock.advance(hours=1)
    await cycle(chat)
    edits = {m.edits: m.text for m in chat.channel if m.edits}
    assert "❓ not found at Infinipost" in edits["m2"]  # nobody cancelled it through the bot: it is not said to be
    assert "cancelled" not in edits["m2"]
    assert "2026-11-28T19:00Z" in edits["m1"]
    assert not [m for m in chat.channel if "Live now" in m.text]
    [told] = [m for m in chat.channel if m.text.startswith("❓")]
    assert told.text.startswith("❓ <@U1> Infinipost no longer has the video for Brand TikTok")
    assert "schedule it again if it should still go out" in told.text
    listing = (await chat.say("/posts")).text
    assert "· Brand TikTok · not found at Infinipost ·" in listing


async def test_rate_limited_checks_back_off_and_never_stop_the_tracker(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    clock.advance(hours=1)
    sandbox.state.faults = [Fault(kind="status", route="read", status=429, retry_after="3600", times=None)]
    result = await Tracker(chat.core.ctx).cycle()
    assert result.backed_off == 3600
    assert result.checked == 0
    sandbox.state.faults = []
    clock.advance(hours=2)
    await cycle(chat)
    assert any("Live now" in m.text for m in chat.channel)


async def test_while_infinipost_asks_to_wait_rounds_call_nothing_but_still_warn_of_late_posts(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    clock.advance(hours=1)
    sandbox.state.faults = [Fault(kind="status", route="read", status=429, retry_after="3600")]
    tracker = Tracker(chat.core.ctx)
    await tracker.cycle()
    calls = len(sandbox.state.received)
    clock.advance(minutes=11)
    await tracker.cycle()
    await chat.core.ctx.outbox.flush()
    assert len(sandbox.state.received) == calls  # Retry-After is honoured across rounds
    assert [m for m in chat.channel if "not live yet" in m.text]
    clock.advance(hours=1)
    await tracker.cycle()
    await chat.core.ctx.outbox.flush()
    assert any("Live now" in m.text for m in chat.channel)


async def test_a_retry_after_of_a_week_delays_checks_by_an_hour_at_most(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    clock.advance(hours=1)
    sandbox.state.faults = [Fault(kind="status", route="read", status=429, retry_after="604800")]
    result = await Tracker(chat.core.ctx).cycle()
    assert result.backed_off == 3600  # Infinipost is left alone for an hour, not a week
    clock.advance(hours=1)
    await cycle(chat)
    assert [m.text for m in chat.channel if "Live now" in m.text] == [
        "✅ Live now on Demo TikTok (@demo) on TikTok (request #1)."
    ]


async def test_many_posts_going_live_together_make_one_message(chat: ChatHarness, clock: FakeClock) -> None:
    for n in range(40):
        await chat.say(f"/post https://e.com/{n}.mp4 to acc_1 at 11:00")
    announcements = len(chat.channel)
    clock.advance(hours=2)
    await cycle(chat)
    new = chat.channel[announcements:]
    live = [m for m in new if "live" in m.text and not m.edits]
    assert len(live) == 1
    assert live[0].text.startswith("✅ 40 posts are live now:")
    assert live[0].text.count("\n• ") == 40
    assert len([m for m in new if m.edits]) == 40  # each announcement still shows its post as live


def paced_outbox(chat: ChatHarness, runtime: Runtime, clock: FakeClock) -> Outbox:
    """An outbox on the test's clock, delivering to a channel about one message a second, as on Slack; the
    runtime's own delivers nothing, so that every notice waits for this one."""
    runtime.ctx.outbox.messengers.clear()
    chat.messenger.min_interval = 1.0
    return Outbox(
        runtime.ctx.storage, clock=clock, messengers={"memory": chat.messenger}, seconds=lambda: clock.now.timestamp()
    )


async def test_new_messages_in_one_channel_are_paced_to_the_platform_rate(
    chat: ChatHarness, runtime: Runtime, clock: FakeClock
) -> None:
    outbox = paced_outbox(chat, runtime, clock)
    for n in range(5):
        await chat.say(f"/post https://e.com/{n}.mp4 to acc_1 in 1 hour")
    await chat.say("/post https://e.com/elsewhere.mp4 to acc_1 in 1 hour", caller=chat.caller(channel="C2"))
    delivered = [await outbox.flush()]
    for _ in range(4):
        clock.advance(seconds=0.5)
        delivered.append(await outbox.flush())
    assert delivered == [4, 0, 1, 0, 1]  # a burst of three in C1 and C2's own at once, then one a second
    requests = {
        channel: [m.text.split("(request #")[1].split(")")[0] for m in chat.channel if m.channel == channel]
        for channel in ("C1", "C2")
    }
    assert requests == {"C1": ["1", "2", "3", "4", "5"], "C2": ["6"]}  # in order, none lost


async def test_notices_waiting_for_a_platform_go_as_soon_as_its_adapter_is_ready(
    chat: ChatHarness, runtime: Runtime, clock: FakeClock
) -> None:
    runtime.ctx.outbox.messengers.clear()  # as after a restart: the worker runs before any adapter is ready
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    worker = asyncio.create_task(runtime.ctx.outbox.run())
    try:
        await asyncio.sleep(0.3)  # the worker has found nothing it can deliver, and waits (up to 30 s)
        assert chat.channel == []
        runtime.ctx.outbox.register("memory", chat.messenger)
        async with asyncio.timeout(2):
            while not chat.channel:
                await asyncio.sleep(0.02)
        assert "scheduled a video" in chat.channel[0].text
    finally:
        worker.cancel()


async def test_a_notice_survives_a_restart_between_the_change_and_its_delivery(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
        clock.advance(hours=1)
        await Tracker(runtime.ctx).cycle()  # the status change is stored; the process stops before delivering
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await runtime.ctx.outbox.flush()
        await runtime.ctx.outbox.flush()
        assert [m.text for m in chat.channel if "Live now" in m.text] == [
            "✅ Live now on Demo TikTok (@demo) on TikTok (request #1)."
        ]


async def test_a_coalesced_notice_cut_off_mid_delivery_is_not_sent_again(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await chat.say("/post https://e.com/a.mp4 to acc_1 at 11:00")
        await chat.say("/post https://e.com/b.mp4 to acc_123 at 11:00")
        clock.advance(hours=2)
        await Tracker(runtime.ctx).cycle()
        channel = chat.messenger
        deliver = channel.send

        async def dies_as_the_platform_answers(*args: Any, **kwargs: Any) -> Any:
            ref = await deliver(*args, **kwargs)
            if len(args[1]) > 1:
                raise asyncio.CancelledError  # the process is killed right after the message went out
            return ref

        channel.send = dies_as_the_platform_answers  # type: ignore[method-assign]
        with pytest.raises(asyncio.CancelledError):
            await runtime.ctx.outbox.flush()
    async with start_runtime(settings, clock=clock, workers=False) as restarted:
        again = ChatHarness(restarted.core)
        again.messenger.messages = channel.messages  # the same channel, seen by the new process
        await restarted.ctx.outbox.flush()
        assert len([m for m in again.messenger.messages if m.text.startswith("✅ 2 posts are live now")]) == 1
        assert {state for _, state in notice_states(settings.database)} == {"delivered"}


async def test_posts_made_in_the_sandbox_are_not_tracked_against_the_real_api(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    async with start_runtime(make_settings(tmp_path), clock=clock, workers=False) as tried:  # no key: sandbox
        await ChatHarness(tried.core).say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    real = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)  # the same database, a real API
    async with start_runtime(real, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        clock.advance(hours=2)
        await Tracker(runtime.ctx).cycle()
        assert reads(sandbox) == []
        reply = await chat.say("/cancel #1")
        assert "was made in the sandbox" in reply.text


@pytest.mark.parametrize(
    ("setting", "platform", "expected"),
    [
        ("C0ALERTS", "slack", "C0ALERTS"),
        ("C0ALERTS", "discord", "C0ALERTS"),
        ("slack:C0ALERTS, discord:1234", "discord", "1234"),
        ("slack:C0ALERTS", "discord", None),
        (None, "slack", None),
    ],
)
def test_the_alerts_channel_may_name_one_per_platform(setting: str | None, platform: str, expected: str | None) -> None:
    from bot.tracking import alerts_channel

    assert alerts_channel(setting, platform) == expected


async def test_while_a_channel_waits_its_turn_an_earlier_edit_of_an_announcement_still_goes(
    chat: ChatHarness, runtime: Runtime, clock: FakeClock
) -> None:
    outbox = paced_outbox(chat, runtime, clock)
    for n in range(3):
        await chat.say(f"/post https://e.com/{n}.mp4 to acc_1 in 1 hour")
    assert await outbox.flush() == 3  # the burst the channel may have at once
    cancelled = await chat.say("/cancel #1")
    assert "Cancelled" in cancelled.text, cancelled.text
    await chat.say("/post https://e.com/late.mp4 to acc_1 in 1 hour")

    assert await outbox.flush() == 1  # the announcement's edit; the new message waits for the channel's turn
    assert [m.edits is not None for m in chat.channel] == [False, False, False, True]
    assert "(request #1)" in chat.channel[-1].text
    clock.advance(seconds=1)
    assert await outbox.flush() == 1
    assert "(request #4)" in chat.channel[-1].text
