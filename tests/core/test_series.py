"""Recurring posts: the rule as people write it, its instants across daylight-saving changes, the series created a
horizon ahead (an injected clock), stopped, and never created twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.runtime import Runtime, start_runtime
from bot.recurrence import read_recurrence
from bot.tracking import Tracker
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # Saturday 10:00 in New York


def local(instants: list[datetime], zone: str) -> list[str]:
    return [f"{i.astimezone(ZoneInfo(zone)):%a %d %b %H:%M %Z}" for i in instants]


def created(sandbox: SandboxServer) -> list[str]:
    return sorted(post["scheduledTime"] for post in sandbox.state.posts.values())


@pytest.mark.parametrize(
    ("written", "first"),
    [
        ("monday 9am", ["Mon 30 Nov 09:00 EST", "Mon 07 Dec 09:00 EST", "Mon 14 Dec 09:00 EST"]),
        ("day at 18:00", ["Sat 28 Nov 18:00 EST", "Sun 29 Nov 18:00 EST", "Mon 30 Nov 18:00 EST"]),
        ("2 weeks on fri 10am", ["Fri 04 Dec 10:00 EST", "Fri 18 Dec 10:00 EST", "Fri 01 Jan 10:00 EST"]),
        ("weekday 8am", ["Mon 30 Nov 08:00 EST", "Tue 01 Dec 08:00 EST", "Wed 02 Dec 08:00 EST"]),
    ],
)
def test_the_issues_examples_read_as_meant(written: str, first: list[str]) -> None:
    rule = read_recurrence(written, tz=ZoneInfo("America/New_York"), now=NOW)
    instants = list(rule.instants(after=NOW))
    assert local(instants[:3], "America/New_York") == first
    assert len(instants) == 12  # without `until` or `for`, twelve times


def test_until_and_for_say_when_it_stops() -> None:
    new_york = ZoneInfo("America/New_York")
    until = read_recurrence("day 9am until dec 3", tz=new_york, now=NOW)
    assert local(list(until.instants(after=NOW)), "America/New_York")[-1] == "Thu 03 Dec 09:00 EST"
    times = read_recurrence("monday 9am for 3 times", tz=new_york, now=NOW)
    assert len(list(times.instants(after=NOW))) == 3


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # New York: summer time starts Sun 8 March and ends Sun 1 November 2026.
        ("America/New_York", datetime(2026, 2, 20, tzinfo=UTC), ["EST", "EDT"]),
        ("America/New_York", datetime(2026, 10, 20, tzinfo=UTC), ["EDT", "EST"]),
        # Sydney: summer time ends Sun 5 April and starts Sun 4 October 2026.
        ("Australia/Sydney", datetime(2026, 3, 20, tzinfo=UTC), ["AEDT", "AEST"]),
        ("Australia/Sydney", datetime(2026, 9, 20, tzinfo=UTC), ["AEST", "AEDT"]),
    ],
)
def test_a_weekly_series_keeps_its_wall_clock_time_across_both_dst_changes(
    zone: str, start: datetime, expected: list[str]
) -> None:
    rule = read_recurrence("monday 9am for 6 times", tz=ZoneInfo(zone), now=start)
    shown = local(list(rule.instants(after=start)), zone)
    assert all(" 09:00 " in line for line in shown), shown
    zones = [line.rsplit(" ", 1)[1] for line in shown]
    assert zones[0] == expected[0]
    assert zones[-1] == expected[1]
    utc_hours = {i.hour for i in rule.instants(after=start)}
    assert len(utc_hours) == 2  # the same local hour is two UTC hours either side of the change


def test_an_occurrence_in_a_dst_gap_or_overlap_follows_the_stated_rule() -> None:
    new_york = ZoneInfo("America/New_York")
    gap = read_recurrence("sunday 2:30am for 1 times", tz=new_york, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert local(list(gap.instants(after=datetime(2026, 3, 2, tzinfo=UTC))), "America/New_York") == [
        "Sun 08 Mar 03:30 EDT"  # 02:30 does not exist that night: as far after the gap
    ]
    overlap = read_recurrence("sunday 1:30am for 1 times", tz=new_york, now=datetime(2026, 10, 26, tzinfo=UTC))
    assert list(overlap.instants(after=datetime(2026, 10, 26, tzinfo=UTC))) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 happens twice: the first, in summer time
    ]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("/post https://e.com/a.mp4 to acc_1 every funday 9am", "Say which day or how often"),
        ("/post https://e.com/a.mp4 to acc_1 every monday", "Say at what time"),
        ("/post https://e.com/a.mp4 to acc_1 at friday 10am every monday 9am", "not both"),
        ("/post https://e.com/a.mp4 to acc_1 every monday 9am for 900 times", "1 to 366"),
    ],
)
async def test_a_bad_rule_says_how_to_write_it_and_nothing_is_sent(
    chat: ChatHarness, sandbox: SandboxServer, typed: str, says: str
) -> None:
    reply = await chat.say(typed)
    assert reply.error
    assert says in reply.text
    assert not sandbox.state.posts


async def test_the_preview_lists_the_first_five_instants(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        preview = await chat.say("/post https://e.com/a.mp4 to acc_1 every weekday 8am -- Good morning")
        (repeats,) = [value for name, value in preview.fields if name == "Repeats"]
        assert repeats.splitlines() == [
            "Every weekday 8am (12 times in all); the first 5:",
            "• Mon 30 November 2026, 08:00 EST (America/New_York)",
            "• Tue 1 December 2026, 08:00 EST (America/New_York)",
            "• Wed 2 December 2026, 08:00 EST (America/New_York)",
            "• Thu 3 December 2026, 08:00 EST (America/New_York)",
            "• Fri 4 December 2026, 08:00 EST (America/New_York)",
        ]
        assert not sandbox.state.posts
        started = await chat.say(f"/confirm {preview.confirm_token}")
        assert started.text.startswith("Recurring post #1: every weekday 8am, from Mon 30 November 2026, 08:00 EST")
        assert len(sandbox.state.posts) == 5  # those within the next 7 days


async def test_occurrences_are_created_a_horizon_ahead_and_each_once(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock, runtime: Runtime
) -> None:
    reply = await chat.say("/post https://e.com/a.mp4 to acc_1 every day at 18:00 for 10 times -- Daily")
    assert not reply.error, reply.text
    assert created(sandbox)[0] == "2026-11-28T23:00:00Z"
    assert len(created(sandbox)) == 7  # Sat 28 Nov to Fri 4 Dec: within seven days
    clock.advance(days=2)
    rounds = await asyncio.gather(*(Tracker(runtime.ctx).cycle() for _ in range(3)))  # three replicas' rounds
    assert rounds
    assert len(created(sandbox)) == 9
    assert len(set(created(sandbox))) == 9
    clock.advance(days=5)
    await Tracker(runtime.ctx).cycle()
    assert len(created(sandbox)) == 10  # and no more: ten times
    await chat.core.deliver_notices()
    announced = [m for m in chat.channel if m.text.startswith("📅 <@U1> scheduled a video") and m.edits is None]
    assert len(announced) == 10  # each occurrence announced and tracked like any post


async def test_a_series_is_stopped_and_one_occurrence_cancelled_alone(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock, runtime: Runtime
) -> None:
    await chat.say("/post https://e.com/a.mp4 to acc_1 every monday 9am -- Weekly")
    assert created(sandbox) == ["2026-11-30T14:00:00Z"]
    skipped = await chat.say("/cancel #2")  # the first occurrence only
    assert skipped.text.startswith("Cancelled `post_")
    clock.advance(days=7)
    await Tracker(runtime.ctx).cycle()
    scheduled = {p["scheduledTime"]: p["status"] for p in sandbox.state.posts.values()}
    assert scheduled.get("2026-11-30T14:00:00Z") in (None, "cancelled")  # that one is gone...
    assert scheduled["2026-12-07T14:00:00Z"] == "generated"  # ...and the next one still comes
    refused = await chat.say("/cancel series #1", caller=chat.caller("U2"))
    assert refused.error
    stopped = await chat.say("/cancel series #1")
    assert stopped.text.startswith("Stopped series #1: no more of its posts will be created. The 2 already")
    before = set(sandbox.state.posts)
    clock.advance(days=14)
    await Tracker(runtime.ctx).cycle()
    assert set(sandbox.state.posts) == before
    assert "#1 · every monday 9am · Demo TikTok · recurring, ended · “Weekly”" in (await chat.say("/posts")).text
    again = await chat.say("/cancel series #1")
    assert "is not running" in again.text


async def test_an_occurrence_due_while_the_bot_was_away_is_skipped_not_sent_late(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock, runtime: Runtime
) -> None:
    await chat.say("/post https://e.com/a.mp4 to acc_1 every day at 18:00 for 3 times")
    assert len(created(sandbox)) == 3
    series_reply = await chat.say("/post https://e.com/b.mp4 to acc_1 every monday 9am for 3 times")
    assert not series_reply.error
    clock.advance(days=9, hours=1)  # Mon 7 Dec 10:00: the second Monday passed while nothing ran
    await Tracker(runtime.ctx).cycle()
    weekly = sorted(p["scheduledTime"] for p in sandbox.state.posts.values() if p["contentUrl"].endswith("b.mp4"))
    assert weekly == ["2026-11-30T14:00:00Z", "2026-12-14T14:00:00Z"]  # 7 Dec skipped, 14 Dec created


async def test_a_channel_that_requires_approval_refuses_a_series(chat: ChatHarness, sandbox: SandboxServer) -> None:
    await chat.say("/approvals required by <@U2>", caller=chat.caller("U9", is_admin=True))
    reply = await chat.say("/post https://e.com/a.mp4 to acc_1 every monday 9am")
    assert reply.error
    assert "Recurring posts cannot wait for approval yet" in reply.text
    assert not sandbox.state.posts


async def test_a_forms_time_field_takes_next_slot_and_a_rule(chat: ChatHarness) -> None:
    caller = chat.caller("U1")
    assert await chat.core.time_problem(caller, "next slot") is None
    assert await chat.core.time_problem(caller, "every monday 9am for 3 times") is None
    problem = await chat.core.time_problem(caller, "every funday 9am")
    assert problem is not None
    assert "Say which day or how often" in problem


async def test_every_second_week_and_every_third_day_keep_their_step_from_one_occurrence_to_the_next(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, recurring_horizon_days=60)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await chat.say("/post https://e.com/a.mp4 to acc_1 every 2 weeks on fri 10am for 3 times")
        await chat.say("/post https://e.com/b.mp4 to acc_123 every 3 days at 7pm for 3 times")
        fortnightly = sorted(p["scheduledTime"] for p in sandbox.state.posts.values() if p["accountId"] == "acc_1")
        assert fortnightly == ["2026-12-04T15:00:00Z", "2026-12-18T15:00:00Z", "2027-01-01T15:00:00Z"]
        third = sorted(p["scheduledTime"] for p in sandbox.state.posts.values() if p["accountId"] == "acc_123")
        assert third == ["2026-11-29T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-05T00:00:00Z"]


async def test_a_series_whose_uploads_are_gone_is_skipped_without_stopping_the_round(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock, runtime: Runtime
) -> None:
    await chat.say("/post https://e.com/a.mp4 to acc_1 every monday 9am for 3 times")
    storage = runtime.ctx.storage
    broken = await storage.requests.save(
        chat.caller("U1"),
        command_text="/post",
        request=replace(
            (await storage.requests.get(1)).request,  # type: ignore[union-attr]
            media_urls=("http://127.0.0.1:9/media/gone.mp4",),
            media_keys=("gone",),  # an upload no longer stored
        ),
        state="awaiting_confirmation",
        recurrence=(await storage.requests.get(1)).recurrence,  # type: ignore[union-attr]
    )
    assert await storage.series.start(
        broken.id,
        from_state="awaiting_confirmation",
        next_at=clock() + timedelta(days=2),
        audit=(chat.caller(), "t", {}),
    )
    clock.advance(days=7)
    cycle = await Tracker(runtime.ctx).cycle()  # the round goes on past the broken series
    assert cycle.checked >= 1  # the first post, due on Monday, was asked about
    state = await storage.series.get(broken.id)
    assert state is not None
    assert state.created >= 1  # moved past the occurrence it could not make, not tried forever
    assert created(sandbox)[:2] == ["2026-11-30T14:00:00Z", "2026-12-07T14:00:00Z"]
