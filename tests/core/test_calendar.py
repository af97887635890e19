"""The calendar as people use it: `/calendar` in chat, its signed page link and private iCal feed over the bot's own
HTTP server, who sees which channel's posts, and the weekly digest (an injected clock, a DST change, a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import icalendar
import pytest

from app.runtime import Runtime, start_runtime
from bot.calendar.links import CalendarLinks, PageScope
from bot.model import Caller
from bot.tracking import Tracker
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness


class MembersOnly:
    """The memory platform's answer to who sees which channel: only the channels a person was added to."""

    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members

    async def visible(self, caller: Caller, channel_ids: Sequence[str]) -> set[str]:
        return {c for c in channel_ids if caller.user_id in self.members.get(c, set())}


async def schedule(chat: ChatHarness, *lines: str, channel: str = "C1") -> None:
    for line in lines:
        reply = await chat.say(line, caller=chat.caller("U1", channel=channel))
        assert not reply.error, reply.text


async def test_the_coming_week_is_shown_by_day_in_the_readers_zone(chat: ChatHarness) -> None:
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Launch day",  # Sun 29 Nov, New York
        '/post https://e.com/1.jpg https://e.com/2.jpg to acc_123 at monday 3pm "Slides"',
        "/post https://e.com/b.mp4 to acc_1 at dec 10 9am -- Next week",
    )
    week = await chat.say("/calendar")
    lines = week.text.splitlines()
    assert lines[0] == "Posts from Sat 28 Nov to Fri 4 Dec (times in America/New_York):"
    assert lines[1] == "Sat 28 Nov — nothing scheduled"
    assert lines[2] == "Sun 29 Nov"
    assert lines[3] == "• 09:00 Demo TikTok (@demo) on TikTok — scheduled — “Launch day” · #1 by user-U1 in #C1"
    assert lines[5].startswith("• 15:00 Brand TikTok (@brand-tiktok) on TikTok — scheduled — “Slides”")
    assert "Next week" not in week.text
    assert week.calendar is not None
    assert (week.calendar.week, week.calendar.previous, week.calendar.next) == (0, "week -1", "week 1")
    edge = await chat.say("/calendar week 52")
    assert edge.calendar is not None
    assert (edge.calendar.previous, edge.calendar.next) == ("week 51", None)
    paris = chat.caller("U1", profile_timezone="Europe/Paris")
    assert "• 15:00 Demo TikTok" in (await chat.say("/calendar", caller=paris)).text
    later = await chat.say("/calendar next")
    assert "“Next week”" in later.text
    assert "Launch day" not in later.text
    narrowed = await chat.say("/calendar @brand-tiktok")
    assert "Slides" in narrowed.text
    assert "Launch day" not in narrowed.text
    assert narrowed.calendar is not None
    assert narrowed.calendar.next == "week 1 @acc_123"


async def test_a_bad_calendar_command_says_how_to_write_it(chat: ChatHarness) -> None:
    reply = await chat.say("/calendar tomorrow")
    assert reply.error
    assert "`/calendar` does not take `tomorrow`" in reply.text


async def test_a_request_waiting_for_approval_is_on_the_calendar(chat: ChatHarness) -> None:
    await chat.say("/approvals required by <@U2>", caller=chat.caller("U9", is_admin=True))
    await schedule(chat, "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Waiting")
    assert (
        "• 09:00 Demo TikTok (@demo) on TikTok — waiting for approval — “Waiting”" in (await chat.say("/calendar")).text
    )


async def test_nobody_sees_posts_of_a_channel_they_are_not_in(chat: ChatHarness) -> None:
    chat.core.ctx.channel_access["memory"] = MembersOnly({"C1": {"U1", "U2"}, "SECRET": {"U1"}})
    await schedule(chat, "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Open")
    await schedule(chat, "/post https://e.com/b.mp4 to acc_1 at tomorrow 10am -- Hush", channel="SECRET")
    assert "Hush" in (await chat.say("/calendar")).text
    outsider = await chat.say("/calendar", caller=chat.caller("U2"))
    assert "Open" in outsider.text
    assert "Hush" not in outsider.text


async def test_the_page_link_opens_the_requesters_view_and_nothing_else(served: Runtime, clock: FakeClock) -> None:
    chat = ChatHarness(served.core)
    served.ctx.channel_access["memory"] = MembersOnly({"C1": {"U1", "U2"}, "SECRET": {"U1"}})
    await schedule(chat, "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Open")
    await schedule(chat, "/post https://e.com/b.mp4 to acc_1 at tomorrow 10am -- <b>Hush</b>", channel="SECRET")
    reply = await chat.say("/calendar link", caller=chat.caller("U2"))
    url = reply.text.split(": ", 1)[1].split()[0]
    assert url.startswith(f"http://127.0.0.1:{served.web.port}/calendar?t=")
    assert "works until Sun 29 November 2026, 10:00 EST" in reply.text
    async with httpx.AsyncClient() as http:
        page = await http.get(url)
        assert page.status_code == 200
        assert "Open" in page.text
        assert "Hush" not in page.text  # a private channel the requester is not in
        assert "script-src 'nonce-" in page.headers["content-security-policy"]
        token = parse_qs(urlsplit(url).query)["t"][0]
        payload = token.split(".")[0]
        tampered = await http.get(
            url.replace(payload, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1])
        )
        assert tampered.status_code == 403
        assert "This calendar link is not valid" in tampered.text
        assert (await http.get(url[:-4] + "0000")).status_code == 403
        mine = (await chat.say("/calendar link")).text.split(": ", 1)[1].split()[0]
        assert "&lt;b&gt;Hush" not in (await http.get(mine)).text  # JSON, not HTML: `<` is \u003c
        assert "\\u003cb>Hush" in (await http.get(mine)).text
        clock.advance(hours=24, seconds=1)
        assert (await http.get(url)).status_code == 403  # expired


def test_a_signed_link_reads_back_only_untouched_and_unexpired() -> None:
    now = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    links = CalendarLinks(b"secret", base_url=lambda: "https://bot.example.com", clock=lambda: now)
    scope = PageScope(
        platform="slack", workspace_id="T1", user_id="U1", channels=("C1",), expires=now + timedelta(hours=1)
    )
    url = links.page_url(scope)
    assert url is not None
    token = url.split("t=", 1)[1]
    assert links.read(token) == scope
    other = CalendarLinks(b"another secret", base_url=lambda: None, clock=lambda: now)
    assert other.read(token) is None
    assert links.read(token + "0") is None
    assert links.read("") is None
    later = CalendarLinks(b"secret", base_url=lambda: None, clock=lambda: now + timedelta(hours=2))
    assert later.read(token) is None


async def test_the_private_feed_lists_the_posts_and_ends_when_revoked(served: Runtime, sandbox: SandboxServer) -> None:
    chat = ChatHarness(served.core)
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1, acc_123 at tomorrow 9am -- Launch day",
        "/post https://e.com/b.mp4 to acc_1 at monday 3pm",
    )
    reply = await chat.say("/calendar ical")
    url = reply.text.split(": ", 1)[1].split()[0]
    assert url.endswith(".ics")
    async with httpx.AsyncClient() as http:
        feed = await http.get(url)
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(feed.content)
        events = sorted(calendar.walk("VEVENT"), key=lambda e: (e.decoded("dtstart"), str(e["summary"])))
        assert [str(e["summary"]) for e in events] == [
            "Brand TikTok (@brand-tiktok) on TikTok: Launch day",
            "Demo TikTok (@demo) on TikTok: Launch day",
            "Demo TikTok (@demo) on TikTok: (no caption)",
        ]
        assert events[0].decoded("dtstart") == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
        assert events[2].decoded("dtstart") == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
        assert {str(e["uid"]).removesuffix("@infinipost-bot") for e in events} == set(sandbox.state.posts)
        assert "Status: scheduled" in str(events[0]["description"])
        revoked = await chat.say("/calendar ical revoke")
        assert revoked.text == "Ended 1 calendar feed: the address no longer works."
        assert (await http.get(url)).status_code == 404
        again = await chat.say("/calendar ical revoke")
        assert again.text == "You have no calendar feed here; nothing changed."


async def test_without_an_address_the_links_say_what_is_missing(chat: ChatHarness) -> None:
    reply = await chat.say("/calendar link")
    assert reply.error
    assert "BOT_PUBLIC_URL" in reply.text


# The weekly digest


@pytest.fixture
def monday(clock: FakeClock) -> FakeClock:
    """Monday 26 October 2026, 12:00 in New York (EDT, UTC-4): a week before summer time ends."""
    clock.now = datetime(2026, 10, 26, 16, 0, tzinfo=UTC)
    return clock


async def digests(chat: ChatHarness) -> list[str]:
    await chat.core.deliver_notices()
    return [m.text for m in chat.channel if m.text.startswith("🗓️")]


async def test_the_digest_goes_out_monday_9am_in_the_channels_zone_across_dst_and_restarts(
    tmp_path: Path, sandbox: SandboxServer, monday: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=monday, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await schedule(
            chat,
            "/post https://e.com/a.mp4 to acc_1 at wednesday 10am -- Midweek",  # Wed 28 Oct
            "/post https://e.com/fail.mp4 to acc_123 at thursday 10am -- Broken",  # Thu 29 Oct: fails
            "/post https://e.com/b.mp4 to acc_1 at nov 3 11am -- Next tuesday",  # after the DST change
        )
        tracker = Tracker(runtime.ctx)
        monday.now = datetime(2026, 11, 2, 13, 59, tzinfo=UTC)  # Monday 2 Nov, 08:59 EST
        assert (await tracker.cycle()).digests == 0
    async with start_runtime(settings, clock=monday, workers=False) as runtime:  # a restart before it is due
        chat = ChatHarness(runtime.core)
        tracker = Tracker(runtime.ctx)
        monday.now = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST: an hour later in UTC than in October
        assert (await tracker.cycle()).digests == 1
        (digest,) = await digests(chat)
    lines = digest.splitlines()
    assert lines[0] == "🗓️ Weekly digest for the week of Mon 2 Nov (times in America/New_York)"
    assert "• Demo TikTok (@demo) on TikTok: 1 live" in lines
    assert any(line == "• Brand TikTok (@brand-tiktok) on TikTok: 1 failed (failed: #2)" for line in lines)
    assert "Tue 3 Nov:" in lines
    assert "• 11:00 Demo TikTok (@demo) on TikTok — scheduled — “Next tuesday” (#3)" in lines
    assert lines[-1] == "Nothing scheduled on: Mon 2 Nov, Wed 4 Nov, Thu 5 Nov, Fri 6 Nov, Sat 7 Nov, Sun 8 Nov."
    async with start_runtime(settings, clock=monday, workers=False) as runtime:  # and one after it went out
        chat = ChatHarness(runtime.core)
        monday.now += timedelta(minutes=5)
        assert (await Tracker(runtime.ctx).cycle()).digests == 0
        assert await digests(chat) == []


async def test_two_rounds_at_once_write_one_digest(chat: ChatHarness, monday: FakeClock, runtime: Runtime) -> None:
    await schedule(chat, "/post https://e.com/a.mp4 to acc_1 at wednesday 10am")
    monday.now = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
    first, second = Tracker(runtime.ctx), Tracker(runtime.ctx)
    assert (await first.cycle()).digests + (await second.cycle()).digests == 1


async def test_a_channel_picks_its_digest_day_and_time_or_turns_it_off(
    chat: ChatHarness, monday: FakeClock, runtime: Runtime
) -> None:
    admin = chat.caller("U9", is_admin=True, profile_timezone="Europe/Paris")
    assert "goes out on Mondays at 09:00 (America/New_York)" in (await chat.say("/digest")).text
    refused = await chat.say("/digest fri 4pm")
    assert refused.error
    moved = await chat.say("/digest fri 4pm", caller=admin)
    assert moved.text.startswith("This channel's weekly digest now goes out on Fridays at 16:00 (Europe/Paris)")
    for typed, says in [("/digest someday 4pm", "is not a day of the week"), ("/digest fri 25:00", "00:00 to 23:59")]:
        bad = await chat.say(typed, caller=admin)
        assert bad.error
        assert says in bad.text
    await schedule(chat, "/post https://e.com/a.mp4 to acc_1 at wednesday 10am")
    tracker = Tracker(runtime.ctx)
    monday.now = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # Monday: not its day any more
    assert (await tracker.cycle()).digests == 0
    monday.now = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)  # Friday 30 Oct, 16:00 in Paris (CET)
    assert (await tracker.cycle()).digests == 1
    await chat.say("/digest off", caller=admin)
    monday.now = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    assert (await tracker.cycle()).digests == 0
    assert "gets no weekly digest" in (await chat.say("/digest")).text


async def test_the_home_overview_has_two_weeks_counts_and_what_each_reader_may_do(served: Runtime) -> None:
    chat = ChatHarness(served.core)
    served.ctx.channel_access["memory"] = MembersOnly({"C1": {"U1", "U2", "U9"}, "SECRET": {"U1"}})
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Launch",
        "/post https://e.com/b.mp4 to acc_1, acc_123 at dec 10 9am -- Later",
        "/post https://e.com/c.mp4 to acc_1 at dec 20 9am -- Too far",
    )
    await schedule(chat, "/post https://e.com/d.mp4 to acc_123 at tomorrow 10am -- Hush", channel="SECRET")
    author = await served.core.calendar_home(chat.caller("U1"))
    assert author.zone == "America/New_York"
    assert len(author.days) == 14
    assert (author.days[0].label, author.days[-1].label) == ("Sat 28 Nov", "Fri 11 Dec")
    assert author.total == 4
    assert author.counts == (("Brand TikTok (@brand-tiktok) on TikTok", 2), ("Demo TikTok (@demo) on TikTok", 2))
    launch = author.days[1].entries[0]
    assert (launch.time, launch.caption, launch.status, launch.manageable) == ("09:00", "Launch", "scheduled", True)
    assert author.calendar_url is not None
    assert author.calendar_url.startswith(f"http://127.0.0.1:{served.web.port}/calendar?t=")
    other = await served.core.calendar_home(chat.caller("U2"))
    assert other.total == 3  # not the post of a channel they are not in
    assert not any(e.manageable for day in other.days for e in day.entries)
    admin = await served.core.calendar_home(chat.caller("U9", is_admin=True))
    assert all(e.manageable for day in admin.days for e in day.entries)
