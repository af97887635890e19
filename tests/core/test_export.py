"""`/posts export`: the channel's posts as a CSV file a spreadsheet opens safely and an import can read back, and
what tells an import that a row of it would post again what already exists."""

from __future__ import annotations

import csv
import io

import pytest

from app.runtime import Runtime
from bot.csv_cells import guard_cell, looks_like_formula, unguard_cell
from bot.errors import BadCommand
from bot.exporting import COLUMNS, existing_post, export_posts, to_csv
from bot.model import Reply
from bot.queue import LISTING_WORDS, Listing, read_listing
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock
from tests.fakes.chat import ChatHarness

BOM = b"\xef\xbb\xbf"


def rows_of(reply: Reply) -> list[dict[str, str]]:
    assert reply.file is not None, reply.text
    assert reply.file.content.startswith(BOM)
    text = reply.file.content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def said(chat: ChatHarness, line: str) -> Reply:
    reply = await chat.say(line)
    assert not reply.error, reply.text
    return reply


async def test_one_row_a_request_in_the_imports_columns_with_its_id_status_and_author(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    await said(chat, "/post https://e.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Café ☕ déjà vu\nline two")
    await said(
        chat, "/post https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 days slides 6 sound https://e.com/s.mp3"
    )
    sandbox.state.faults = [Fault(kind="status", route="create", status=429)]  # refused: no post at Infinipost
    refused = await chat.say("/post https://e.com/r.mp4 to acc_1 in 3 days -- refused")
    assert refused.error

    reply = await said(chat, "/posts export")

    assert reply.file is not None
    assert reply.file.name == "posts-C1-20261128-1000.csv"
    assert reply.file.content_type == "text/csv"
    assert reply.ephemeral
    assert "3 requests, one row each" in reply.text
    assert "times in America/New_York" in reply.text
    assert b"\r\n" in reply.file.content  # as spreadsheets write CSV
    video, slideshow, failed = rows_of(reply)
    posts = await chat.core.ctx.storage.posts.of_requests([1, 2])
    assert video == {
        "media": "https://e.com/v.mp4",
        "accounts": "acc_123, acc_456",
        "when": "2026-11-29T12:00:00-05:00",
        "caption": "Café ☕ déjà vu\nline two",
        "sound": "",
        "slides": "",
        "id": " ".join(p.id for p in posts[1]),
        "status": "scheduled",
        "author": "user-U1",
    }
    assert len(posts[1]) == 2
    assert slideshow["media"] == "https://e.com/1.jpg https://e.com/2.jpg"
    assert (slideshow["slides"], slideshow["sound"]) == ("6", "https://e.com/s.mp3")
    assert slideshow["when"] == "2026-11-30T10:00:00-05:00"
    assert (failed["id"], failed["status"], failed["caption"]) == ("#3", "refused", "refused")


async def test_no_cell_runs_as_a_formula(chat: ChatHarness) -> None:
    captions = ['=HYPERLINK("https://evil.example","win")', "+1 for launch", "-- dashes", "@everyone look"]
    for day, caption in enumerate(captions, start=1):
        await said(chat, f"/post https://e.com/v.mp4 to acc_1 in {day} days -- {caption}")
    await said(chat, "/post https://e.com/v.mp4 to acc_1 in 5 days -- a plain one")

    rows = rows_of(await said(chat, "/posts export"))

    assert [row["caption"] for row in rows] == [f"'{caption}" for caption in captions] + ["a plain one"]
    assert not any(looks_like_formula(cell) for row in rows for cell in row.values())
    assert [unguard_cell(row["caption"]) for row in rows[:4]] == captions


def test_a_formula_guard_comes_off_exactly_as_it_went_on() -> None:
    for cell in ["=1+1", "+1", "-", "@x", "plain", "'quoted", "'=already", "", "https://e.com/=x"]:
        assert unguard_cell(guard_cell(cell)) == cell
    assert guard_cell("https://e.com/v.mp4") == "https://e.com/v.mp4"
    assert guard_cell("-5") == "'-5"
    assert unguard_cell("'plain") == "'plain"  # a `'` the export did not add stays


def test_a_file_stops_before_the_row_that_would_make_it_too_big() -> None:
    row = dict.fromkeys(COLUMNS, "x" * 100)
    whole, written = to_csv([row] * 10)
    assert written == 10
    cut, written = to_csv([row] * 10, max_bytes=len(whole) - 1)
    assert written == 9
    assert whole.startswith(cut)


async def test_the_listings_filters_apply_and_a_cut_file_says_so(chat: ChatHarness, runtime: Runtime) -> None:
    for day in (1, 2, 3):
        await said(chat, f"/post https://e.com/{day}.mp4 to acc_1 in {day} days -- day {day}")
    await chat.say("/post https://e.com/b.mp4 to acc_456 in 4 days -- bob's", caller=chat.caller("U2"))

    mine = rows_of(await said(chat, "/posts export mine"))
    assert [row["caption"] for row in mine] == ["day 1", "day 2", "day 3"]
    assert [row["caption"] for row in rows_of(await said(chat, "/posts export @brand-ig"))] == ["bob's"]
    nothing = await said(chat, "/posts export failed")
    assert nothing.file is None
    assert nothing.text.startswith("Nothing to export: `/posts export failed` finds no posts")

    caller = chat.caller()
    tz = await runtime.ctx.zone_of(caller)
    cut = await export_posts(
        runtime.ctx, caller, view="all", mine=False, account_id=None, tz=tz, described="posts", asked="", limit=2
    )
    assert [row["caption"] for row in rows_of(cut)] == ["day 1", "day 2"]
    assert "⚠️ It holds 2 requests of 4: a file holds at most 2 requests." in cut.text


async def test_an_export_leaves_the_pages_of_posts_as_they_were(chat: ChatHarness) -> None:
    for day in range(1, 13):
        await said(chat, f"/post https://e.com/{day}.mp4 to acc_1 in {day} days -- day {day}")
    first = await said(chat, "/posts")
    assert first.more == "page 2"
    assert len(rows_of(await said(chat, "/posts export"))) == 12  # all of them, not a page
    rest = await said(chat, "/posts more")
    assert "day 11" in rest.text


def test_export_is_one_of_the_listing_words_and_combines_with_the_filters() -> None:
    assert "export" in LISTING_WORDS
    assert read_listing("export") == Listing(export=True)
    assert read_listing("Export past mine @brand-ig") == Listing(
        view="past", mine=True, account="@brand-ig", export=True
    )
    assert read_listing("export mine").arguments == "export mine"  # type: ignore[union-attr]
    assert read_listing("upcoming") == Listing(view="upcoming")
    assert read_listing("more") is None
    for refused in ("export refresh", "export export", "export more"):
        with pytest.raises(BadCommand):
            read_listing(refused)


async def test_an_exported_row_naming_a_post_that_still_exists_is_recognised(
    chat: ChatHarness, clock: FakeClock
) -> None:
    await said(chat, "/post https://e.com/v.mp4 to acc_123, acc_456 in 1 day -- both")
    await said(chat, "/post https://e.com/c.mp4 to acc_1 in 2 days -- to cancel")
    await said(chat, "/post https://e.com/fail.mp4 to acc_1 in 1 hour -- fails")
    clock.advance(hours=2)
    await said(chat, "/posts refresh")
    await said(chat, "/cancel #2")
    both, cancelled, failed = rows_of(await said(chat, "/posts export"))  # past ones latest first
    assert (both["caption"], failed["status"], cancelled["status"]) == ("both", "failed", "cancelled")
    ctx = chat.core.ctx

    reason = await existing_post(ctx, both)
    first = both["id"].split()[0]
    assert reason is not None
    assert reason.startswith(f"its `id` names post `{first}`, which this bot already has (scheduled, request #1)")
    assert await existing_post(ctx, {"ID": f" {both['id'].split()[1]} "}) is not None  # any case, one of several
    assert await existing_post(ctx, failed) is None  # failed: importing it again is a retry
    assert await existing_post(ctx, cancelled) is None
    assert await existing_post(ctx, {**both, "id": ""}) is None  # cleared: a new post on purpose
    assert await existing_post(ctx, {**both, "id": "#1"}) is None
    assert await existing_post(ctx, {**both, "id": "post_unknown"}) is None
    assert await existing_post(ctx, {"media": "https://e.com/v.mp4"}) is None  # a file with no id column
