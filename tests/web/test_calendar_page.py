"""The calendar page as people see it: headless Chromium opens a `/calendar link`, in the reader's time zone, and
the tests read what is drawn (cards in day cells), press the buttons and pick the filters."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from app.runtime import Runtime
from bot.model import Caller
from bot.tracking import Tracker
from tests.conftest import FakeClock
from tests.fakes.chat import ChatHarness
from tests.web.conftest import OpenPage

# Where the README's screenshot is written, when asked for (`make screenshot`); read before tests change directory.
SCREENSHOT = Path(os.environ["CALENDAR_SCREENSHOT"]).resolve() if os.environ.get("CALENDAR_SCREENSHOT") else None


async def schedule(chat: ChatHarness, *lines: str, caller: Caller | None = None) -> None:
    for line in lines:
        reply = await chat.say(line, caller=caller)
        assert not reply.error, reply.text


async def link(chat: ChatHarness) -> str:
    reply = await chat.say("/calendar link")
    assert not reply.error, reply.text
    return reply.text.split(": ", 1)[1].split()[0]


def day(page: Page, key: str) -> Locator:
    return page.locator(f'.day[data-day="{key}"]')


async def cards(page: Page) -> list[str]:
    return [text.strip() for text in await page.locator(".card .caption").all_text_contents()]


async def test_posts_are_on_the_readers_day_and_hour_in_two_time_zones(
    served: Runtime, clock: FakeClock, open_page: OpenPage
) -> None:
    clock.now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday: 10:00 in New York, Thursday 00:00 in Tokyo
    chat = ChatHarness(served.core)
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at dec 3 6:30pm -- Near midnight UTC",  # 23:30 UTC
        "/post https://e.com/b.mp4 to acc_1 at dec 2 11am -- Late morning",  # 16:00 UTC
    )
    url = await link(chat)
    new_york = await open_page(url, zone="America/New_York")
    await expect(new_york.locator("#zone")).to_have_text("America/New_York")
    await expect(new_york.locator("#range")).to_have_text("Mon 30 Nov – Sun 6 Dec")
    await expect(day(new_york, "2026-12-03").locator(".card")).to_contain_text("18:30")
    await expect(day(new_york, "2026-12-03").locator(".card")).to_contain_text("Near midnight UTC")
    await expect(day(new_york, "2026-12-02").locator(".card")).to_contain_text("11:00")
    tokyo = await open_page(url, zone="Asia/Tokyo")
    await expect(tokyo.locator("#zone")).to_have_text("Asia/Tokyo")
    await expect(day(tokyo, "2026-12-03").locator(".card")).to_have_count(1)
    await expect(day(tokyo, "2026-12-03").locator(".card")).to_contain_text("01:00")
    await expect(day(tokyo, "2026-12-03").locator(".card")).to_contain_text("Late morning")
    await expect(day(tokyo, "2026-12-04").locator(".card")).to_contain_text("08:30")
    await expect(day(tokyo, "2026-12-04").locator(".card")).to_contain_text("Near midnight UTC")


async def test_a_week_across_the_end_of_summer_time_keeps_each_post_on_its_day(
    served: Runtime, clock: FakeClock, open_page: OpenPage
) -> None:
    clock.now = datetime(2026, 10, 28, 16, 0, tzinfo=UTC)  # Wednesday 28 Oct; New York leaves EDT on Sunday 1 Nov
    chat = ChatHarness(served.core)
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at sun 1 nov 2026 00:30 -- Sunday early",  # EDT
        "/post https://e.com/b.mp4 to acc_1 at nov 1 11:30pm -- Sunday late",  # EST: Monday 04:30 UTC
        "/post https://e.com/c.mp4 to acc_1 at nov 2 9am -- Monday",
    )
    page = await open_page(await link(chat), zone="America/New_York")
    await expect(page.locator("#range")).to_have_text("Mon 26 Oct – Sun 1 Nov")
    sunday = day(page, "2026-11-01").locator(".card")
    await expect(sunday).to_have_count(2)
    await expect(sunday.nth(0)).to_contain_text("00:30")
    await expect(sunday.nth(1)).to_contain_text("23:30")
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("#range")).to_have_text("Mon 2 Nov – Sun 8 Nov")
    await expect(page.locator(".day").first).to_have_attribute("data-day", "2026-11-02")
    await expect(day(page, "2026-11-02").locator(".card")).to_contain_text("09:00")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Previous").click()
    await page.get_by_role("button", name="Previous").click()
    await expect(page.locator(".day").first).to_have_attribute("data-day", "2026-10-26")


async def test_the_filters_narrow_the_cards_by_account_status_and_channel(served: Runtime, open_page: OpenPage) -> None:
    chat = ChatHarness(served.core)
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Demo in C1",
        "/post https://e.com/b.mp4 to acc_123 at tomorrow 10am -- Brand in C1",
        "/post https://e.com/c.mp4 to acc_1 at tomorrow 11am -- Dropped",
        "/cancel #3",
    )
    await schedule(
        chat, "/post https://e.com/d.mp4 to acc_123 at tomorrow 1pm -- Brand in C2", caller=chat.caller(channel="C2")
    )
    page = await open_page(await link(chat), zone="America/New_York")
    assert await cards(page) == ["Demo in C1", "Brand in C1", "Dropped", "Brand in C2"]
    await page.get_by_label("Account").select_option(label="Brand TikTok (@brand-tiktok) on TikTok")
    assert await cards(page) == ["Brand in C1", "Brand in C2"]
    await page.get_by_label("Channel").select_option("C2")
    assert await cards(page) == ["Brand in C2"]
    await page.get_by_label("Account").select_option("")
    await page.get_by_label("Channel").select_option("")
    await page.get_by_label("Status").select_option(label="cancelled")
    assert await cards(page) == ["Dropped"]
    await page.get_by_label("Status").select_option(label="scheduled")
    assert await cards(page) == ["Demo in C1", "Brand in C1", "Brand in C2"]


async def test_the_month_view_pages_through_months_and_years(served: Runtime, open_page: OpenPage) -> None:
    chat = ChatHarness(served.core)  # the clock says Saturday 28 November 2026
    await schedule(
        chat,
        "/post https://e.com/a.mp4 to acc_1 at dec 10 9am -- In December",
        "/post https://e.com/b.mp4 to acc_1 at jan 5 9am -- In January",
    )
    page = await open_page(await link(chat), zone="America/New_York")
    await page.get_by_label("View").select_option("month")
    await expect(page.locator("#range")).to_have_text("November 2026")
    await expect(page.locator(".day").first).to_have_attribute("data-day", "2026-10-26")
    await expect(page.locator(".day")).to_have_count(42)
    await expect(page.locator(".day.today")).to_have_attribute("data-day", "2026-11-28")
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("#range")).to_have_text("December 2026")
    await expect(page.locator(".day")).to_have_count(35)  # Mon 30 Nov to Sun 3 Jan: the weeks the month touches
    await expect(page.locator(".day.other")).to_have_count(4)
    await expect(day(page, "2026-12-10").locator(".card")).to_contain_text("In December")
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("#range")).to_have_text("January 2027")
    await expect(day(page, "2027-01-05").locator(".card")).to_contain_text("In January")
    for _ in range(3):
        await page.get_by_role("button", name="Previous").click()
    await expect(page.locator("#range")).to_have_text("October 2026")
    await page.get_by_role("button", name="Today").click()
    await expect(page.locator("#range")).to_have_text("November 2026")


async def test_a_tampered_link_is_refused(served: Runtime, browser: Browser) -> None:
    url = await link(ChatHarness(served.core))
    context = await browser.new_context()
    page = await context.new_page()
    payload, _, signature = url.rpartition("?t=")[2].partition(".")
    widened = payload[:-1] + ("A" if payload[-1] != "A" else "B")  # another view, under the same signature
    for tampered in (url.replace(payload, widened), url.replace(signature, signature[::-1])):
        response = await page.goto(tampered)
        assert response is not None
        assert response.status == 403
        await expect(page.locator("body")).to_contain_text("This calendar link is not valid")
        await expect(page.locator("script")).to_have_count(0)
    unsigned = await page.goto(url.rpartition(".")[0] + ".")  # the signature left off
    assert unsigned is not None
    assert unsigned.status == 403
    await context.close()


INJECTED = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "</script><script>alert(3)</script>",
    "{{script}} {{style}} {{nonce}} {{data}}",
]


async def test_an_injected_caption_stays_text(served: Runtime, open_page: OpenPage) -> None:
    chat = ChatHarness(served.core)
    for hour, caption in enumerate(INJECTED, start=13):
        await schedule(chat, f"/post https://e.com/a.mp4 to acc_1 at tomorrow {hour}:00 -- {caption}")
    page = await open_page(await link(chat), zone="America/New_York")
    assert await cards(page) == INJECTED
    assert await page.locator(".card img, .card script").count() == 0
    assert await page.evaluate("typeof window.injected") == "undefined"


async def test_a_week_of_realistic_posts_as_the_readme_shows_it(
    served: Runtime, clock: FakeClock, open_page: OpenPage, tmp_path: Path
) -> None:
    clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday 23 November, 08:00 in New York
    chat = ChatHarness(served.core)
    maya = chat.caller("U1", channel="marketing", display_name="Maya")
    jon = chat.caller("U2", channel="launches", display_name="Jon")
    await schedule(
        chat,
        "/post https://cdn.example.com/tips.mp4 to acc_1 at monday 9:30am -- 3 tips for shooting vertical video",
        "/post https://cdn.example.com/bts-1.jpg https://cdn.example.com/bts-2.jpg to acc_456 at tuesday 12pm "
        "-- Behind the scenes at the studio",
        "/post https://cdn.example.com/fail-sale.mp4 to acc_123 at wednesday 5:30pm -- Flash sale: 24 hours only",
        "/post https://cdn.example.com/thanks.mp4 to acc_1, acc_123 at thursday 10am -- Happy Thanksgiving",
        "/post https://cdn.example.com/recap.mp4 to acc_1 at sunday 6pm -- Our week in 30 seconds",
        caller=maya,
    )
    await schedule(
        chat,
        "/post https://cdn.example.com/friday-1.jpg https://cdn.example.com/friday-2.jpg to acc_456 at friday 9am "
        "-- Black Friday: 30% off everything, today only",
        "/post https://cdn.example.com/qa.mp4 to acc_1 at saturday 11am -- Weekend Q&A",
        "/cancel #7",
        caller=jon,
    )
    await chat.say("/approvals required by <@U1>", caller=chat.caller("U9", channel="launches", is_admin=True))
    await schedule(
        chat,
        "/post https://cdn.example.com/teaser.mp4 to acc_123 at sunday 3pm -- Winter collection teaser",
        caller=jon,
    )
    clock.now = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # Thursday 15:00: the first half of the week went out
    await Tracker(served.ctx).cycle()
    page = await open_page(await link(chat), zone="America/New_York", width=1400, height=480)
    await expect(page.locator(".card")).to_have_count(9)
    statuses = await page.locator(".card").evaluate_all("cards => cards.map((card) => card.dataset.status)")
    assert set(statuses) == {"posted", "failed", "scheduled", "cancelled", "awaiting_approval"}
    await expect(page.locator(".card img").first).to_have_js_property("naturalWidth", 160)  # the thumbnail loaded
    shot = SCREENSHOT or tmp_path / "calendar-page.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
