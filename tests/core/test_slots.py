"""Posting slots: set by an admin, read in the channel's zone across DST, and `at next slot` taking the first free
one, never the same one twice when /posts race for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.runtime import start_runtime
from bot.slots import instants, read_slots
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

NEW_YORK = ZoneInfo("America/New_York")


async def with_slots(chat: ChatHarness, spec: str = "mon-fri 9am, 6pm; sat 11am") -> None:
    reply = await chat.say(f"/slots set {spec}", caller=chat.caller("U9", is_admin=True))
    assert not reply.error, reply.text


def scheduled_times(sandbox: SandboxServer) -> list[str]:
    return sorted(post["scheduledTime"] for post in sandbox.state.posts.values())


async def test_slots_are_set_by_admins_shown_with_the_next_free_ones_and_cleared(chat: ChatHarness) -> None:
    assert "This channel has no posting slots" in (await chat.say("/slots")).text
    refused = await chat.say("/slots set mon 9am")
    assert refused.error
    assert "Only an admin" in refused.text
    await with_slots(chat)
    await chat.say("/accounts default acc_1", caller=chat.caller("U9", is_admin=True))
    shown = (await chat.say("/slots")).text.splitlines()
    assert shown[0] == "Posting slots (America/New_York): mon-fri 09:00; sat 11:00; mon-fri 18:00."
    assert shown[1] == "The next 10 free for this channel's default accounts:"
    assert shown[2] == "• Sat 28 November 2026, 11:00 EST (America/New_York)"  # Saturday 10:00 now
    assert len(shown) == 12
    cleared = await chat.say("/slots clear", caller=chat.caller("U9", is_admin=True))
    assert "no posting slots" in cleared.text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("/slots set funday 9am", "`funday` is not a day"),
        ("/slots set mon", "has no time"),
        ("/slots set mon 25:00", "00:00 to 23:59"),
        ("/slots set mon 13pm", "the hour is 1 to 12"),
        ("/slots set", "`/slots` shows this channel's posting slots"),
    ],
)
async def test_bad_slots_say_how_to_write_them(chat: ChatHarness, typed: str, says: str) -> None:
    reply = await chat.say(typed, caller=chat.caller("U9", is_admin=True))
    assert reply.error
    assert says in reply.text


async def test_next_slot_takes_the_first_slot_free_for_all_the_accounts(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    await with_slots(chat)
    await chat.say("/post https://e.com/a.mp4 to acc_1 at sat 11am")  # acc_1 has the first slot already
    first = await chat.say("/post https://e.com/b.mp4 to acc_123 at next slot")
    assert first.text.startswith("Scheduled for Sat 28 November 2026, 11:00 EST"), first.text
    both = await chat.say("/post https://e.com/c.mp4 to acc_1, acc_123 when:next slot")
    assert both.text.startswith("Scheduled for Mon 30 November 2026, 09:00 EST"), both.text
    cancelled = await chat.say("/cancel #1", caller=chat.caller("U1"))
    assert not cancelled.error, cancelled.text
    again = await chat.say("/post https://e.com/d.mp4 to acc_1 at next slot")  # a cancelled post frees its slot
    assert again.text.startswith("Scheduled for Sat 28 November 2026, 11:00 EST"), again.text


async def test_without_slots_next_slot_says_how_to_get_some(chat: ChatHarness, sandbox: SandboxServer) -> None:
    reply = await chat.say("/post https://e.com/a.mp4 to acc_1 at next slot")
    assert reply.error
    assert "This channel has no posting slots" in reply.text
    assert not sandbox.state.posts


async def test_the_preview_says_a_slot_was_chosen(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await with_slots(chat)
        preview = await chat.say("/post https://e.com/a.mp4 to acc_1 at next slot -- hi")
        assert ("When", "Sat 28 November 2026, 11:00 EST (America/New_York)") in preview.fields
        assert ("Slot", "The channel's next posting slot free for these accounts") in preview.fields
        second = await chat.say("/post https://e.com/b.mp4 to acc_1 at next slot -- hi")  # the first is previewed
        assert ("When", "Mon 30 November 2026, 09:00 EST (America/New_York)") in second.fields


async def test_posts_racing_for_one_slot_never_get_the_same_one(chat: ChatHarness, sandbox: SandboxServer) -> None:
    await with_slots(chat)
    replies = await asyncio.gather(
        *(chat.say(f"/post https://e.com/{n}.mp4 to acc_1 at next slot", caller=chat.caller(f"U{n}")) for n in range(6))
    )
    assert all(not reply.error for reply in replies), [r.text for r in replies]
    assert scheduled_times(sandbox) == [
        "2026-11-28T16:00:00Z",  # Sat 11:00
        "2026-11-30T14:00:00Z",  # Mon 09:00
        "2026-11-30T23:00:00Z",  # Mon 18:00
        "2026-12-01T14:00:00Z",
        "2026-12-01T23:00:00Z",
        "2026-12-02T14:00:00Z",
    ]


def test_slots_keep_their_wall_clock_time_across_dst_and_follow_the_rule_in_its_gap() -> None:
    slots = read_slots("daily 2:30, 9am")
    found = instants(slots, NEW_YORK, after=datetime(2026, 3, 7, 20, 0, tzinfo=UTC))  # Saturday 15:00, EST
    local = [next(found).astimezone(NEW_YORK) for _ in range(5)]
    assert [f"{t:%a %d %H:%M %Z}" for t in local] == [
        "Sun 08 03:30 EDT",  # 02:30 does not exist on the night clocks spring forward: as far after the gap
        "Sun 08 09:00 EDT",
        "Mon 09 02:30 EDT",
        "Mon 09 09:00 EDT",
        "Tue 10 02:30 EDT",
    ]
    autumn = instants(read_slots("sun 1:30"), NEW_YORK, after=datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
    overlap = next(autumn)
    assert overlap == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 happens twice: the first, in summer time
