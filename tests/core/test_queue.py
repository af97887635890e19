"""`/posts` is the channel's queue: what goes out next comes first, and nothing is dropped without a word."""

from __future__ import annotations

from pathlib import Path

from app.runtime import Runtime, start_runtime
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness


async def schedule(chat: ChatHarness, phrase: str, caption: str, *, to: str = "acc_1", **who: str) -> None:
    reply = await chat.say(f"/post https://e.com/{caption}.mp4 to {to} {phrase} -- {caption}", **who)  # type: ignore[arg-type]
    assert not reply.error, reply.text


async def test_the_soonest_posts_come_first_and_none_is_dropped_without_saying_so(chat: ChatHarness) -> None:
    for day in range(17, 0, -1):  # scheduled latest first, so that request numbers run against time
        await schedule(chat, f"in {day} days", f"day-{day}")
    first = await chat.say("/posts")
    lines = first.text.splitlines()
    assert lines[0] == (
        "Posts from this channel, upcoming first (soonest first), then recent ones (times in America/New_York):"
    )
    assert [line.split(" · ")[-1] for line in lines[1:11]] == [f"“day-{day}”" for day in range(1, 11)]
    assert lines[1].startswith("#17 · Sun 29 November 2026, 10:00 EST (America/New_York) · Demo TikTok · scheduled")
    assert lines[-1] == "…and 7 more: `/posts more` shows them."
    assert first.more == "page 2"  # what a More button asks for
    rest = await chat.say("/posts more")
    assert [line.split(" · ")[-1] for line in rest.text.splitlines()[1:8]] == [f"“day-{d}”" for d in range(11, 18)]
    assert "more" not in rest.text.splitlines()[-1]
    assert rest.more is None
    assert "That was all" in (await chat.say("/posts more")).text


async def test_recent_posts_follow_the_upcoming_ones_latest_first(chat: ChatHarness, clock: FakeClock) -> None:
    await schedule(chat, "in 1 hour", "early")
    await schedule(chat, "in 2 hours", "later")
    await schedule(chat, "in 3 days", "upcoming")
    clock.advance(hours=3)
    listing = await chat.say("/posts refresh")
    captions = [line.split(" · ")[-1] for line in listing.text.splitlines()[1:]]
    assert captions == ["“upcoming”", "“later”", "“early”"]
    assert "✅ live" in listing.text.splitlines()[2]


async def test_filters_narrow_the_queue(chat: ChatHarness, clock: FakeClock) -> None:
    await schedule(chat, "in 1 hour", "gone-live")
    await schedule(chat, "in 1 hour", "fail-me", to="acc_123")
    await schedule(chat, "in 2 days", "bobs", to="acc_456", caller=chat.caller("U2"))
    await schedule(chat, "in 3 days", "mine-later")
    clock.advance(hours=2)
    await chat.say("/posts refresh")

    def captions(text: str) -> list[str]:
        return [line.split(" · ")[-1] for line in text.splitlines()[1:]]

    assert captions((await chat.say("/posts upcoming")).text) == ["“bobs”", "“mine-later”"]
    assert captions((await chat.say("/posts past")).text) == ["“fail-me”", "“gone-live”"]
    assert captions((await chat.say("/posts failed")).text) == ["“fail-me”"]
    assert captions((await chat.say("/posts mine upcoming")).text) == ["“mine-later”"]
    assert captions((await chat.say("/posts @brand-ig")).text) == ["“bobs”"]
    assert captions((await chat.say("/posts acc_123")).text) == ["“fail-me”"]
    assert "Nothing matches `/posts failed mine @brand-ig`" in (await chat.say("/posts failed mine @brand-ig")).text
    refused = await chat.say("/posts upcoming past")
    assert refused.error
    assert "`/posts` does not take `past` there" in refused.text


async def test_a_rescheduled_request_shows_and_sorts_by_its_new_time(chat: ChatHarness, sandbox: SandboxServer) -> None:
    await schedule(chat, "at tomorrow noon", "first")
    await schedule(chat, "at friday 9am", "second")
    await chat.say("/reschedule #1 dec 5 5pm")
    lines = (await chat.say("/posts")).text.splitlines()
    assert lines[1].startswith("#2 · Fri 4 December 2026, 09:00 EST")
    assert lines[2].startswith("#1 · Sat 5 December 2026, 17:00 EST")


async def test_one_post_of_a_request_moved_shows_its_own_time(chat: ChatHarness, runtime: Runtime) -> None:
    await schedule(chat, "at tomorrow 9am", "two-accounts", to="acc_123, acc_456")
    tiktok = next(p for p in (await runtime.ctx.storage.posts.of_requests([1]))[1] if p.account_id == "acc_123")
    moved = await chat.say(f"/reschedule {tiktok.id} tomorrow 6pm")
    assert not moved.error, moved.text
    line = (await chat.say("/posts")).text.splitlines()[1]
    assert line.startswith("#1 · Sun 29 November 2026, 09:00 EST (America/New_York) · ")
    assert "Brand TikTok (at Sun 29 Nov 18:00)" in line
    assert "Brand Instagram ·" in line or "Brand Instagram," in line
    announcement = chat.channel[-1].text  # the edited announcement: the moved post beside its own time
    assert "for 2026-11-29T14:00Z" in announcement.splitlines()[0]
    assert f"`{tiktok.id}` for 2026-11-29T23:00Z — ⏳ scheduled" in announcement
    assert next(line for line in announcement.splitlines() if "Brand Instagram" in line).count(" for ") == 0


async def test_a_post_still_waiting_well_after_its_time_is_marked_late(chat: ChatHarness, clock: FakeClock) -> None:
    await schedule(chat, "in 5 minutes", "stuck")  # the sandbox's switch: this post never goes live
    await schedule(chat, "in 3 days", "later")
    clock.advance(minutes=6)
    on_time = (await chat.say("/posts refresh")).text.splitlines()[1]
    assert on_time.endswith("· Demo TikTok · scheduled · “stuck”")  # just past its time: not yet called late
    clock.advance(minutes=10)  # past BOT_DELAY_ALERT_MINUTES (10) after its time
    late = (await chat.say("/posts refresh")).text.splitlines()[1]
    assert late.endswith("· Demo TikTok · scheduled, ⚠️ past its time and not live yet · “stuck”")


async def test_posts_more_without_a_list_says_what_to_do(chat: ChatHarness) -> None:
    reply = await chat.say("/posts more")
    assert reply.error
    assert "send `/posts` first" in reply.text


async def test_pointing_the_bot_at_another_infinipost_never_rewrites_earlier_posts(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path)  # no key: the built-in sandbox, kept beside the database
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await schedule(chat, "in 3 days", "from-the-sandbox")
    async with SandboxServer(clock=clock) as real:  # then the bot is given a real key and URL
        keyed = make_settings(tmp_path, api_key="sk_live_real", api_url=real.url)
        async with start_runtime(keyed, clock=clock, workers=False) as runtime:
            chat = ChatHarness(runtime.core)
            listing = await chat.say("/posts refresh")
            assert "scheduled · “from-the-sandbox” · made in another Infinipost" in listing.text
            refused = await chat.say("/cancel #1")
            assert refused.error
            assert "was made in the sandbox, not the Infinipost the bot uses now" in refused.text
            [post] = (await runtime.ctx.storage.posts.of_requests([1]))[1]
            assert post.status == "scheduled"
        assert not [r for r in real.state.received if r.path.startswith("/v1/posts/")]  # never asked about it
        again = make_settings(tmp_path, api_key="sk_live_other", api_url=real.url)  # same URL, another key
        async with start_runtime(again, clock=clock, workers=False) as runtime:
            await schedule(ChatHarness(runtime.core), "in 4 days", "first-key")
        async with start_runtime(keyed, clock=clock, workers=False) as runtime:
            listing = (await ChatHarness(runtime.core).say("/posts")).text
            assert "“first-key” · made in another Infinipost" in listing
