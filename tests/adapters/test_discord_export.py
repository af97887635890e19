"""`/posts export` on Discord through real discord.py, against the fake Discord and the sandbox: the CSV is an
attachment of the private answer, sent as Discord documents (multipart, `payload_json` and `files[0]`)."""

from __future__ import annotations

import csv
import io

from bot.exporting import COLUMNS
from tests.adapters.test_discord import (
    DiscordBot,
    bot,
    discord_settings,
    fake_discord,
    restore_discord_endpoints,
    text_of,
)
from tests.fakes.discord import CHANNEL_ID, EPHEMERAL

# Fixtures of the Discord tests: the bot, the fake, and discord.py's endpoints put back after each test (autouse).
__all__ = ["bot", "discord_settings", "fake_discord", "restore_discord_endpoints"]


async def test_the_export_is_an_attachment_of_the_private_answer(bot: DiscordBot) -> None:
    posted = await bot.run("post", accounts="acc_1", when="tomorrow noon", url="https://e.com/v.mp4", caption="@here")
    assert "Scheduled" in posted

    payload = bot.interact(bot.fake.slash("posts", show="export"))
    assert await bot.callback(payload) == {"type": 5, "data": {"flags": EPHEMERAL}}  # deferred privately
    answer = await bot.private_answer(payload)

    [upload] = answer.files
    assert upload.filename == f"posts-{CHANNEL_ID}-20261128-1000.csv"  # the clock: 28 Nov 2026 10:00 New York
    assert upload.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert [(row["accounts"], row["caption"], row["status"]) for row in rows] == [("acc_1", "'@here", "scheduled")]
    assert "1 request, one row each" in text_of(answer.body)
    shown = bot.fake.original(payload)  # as the person sees it: only them, with the file
    assert shown["flags"] & EPHEMERAL
    [attachment] = shown["attachments"]
    assert (attachment["filename"], attachment["size"]) == (upload.filename, len(upload.content))
    assert attachment["content_type"] == "text/csv; charset=utf-8"


async def test_an_answer_without_a_file_leaves_the_message_without_attachments(bot: DiscordBot) -> None:
    payload = bot.interact(bot.fake.slash("posts", show="export"))
    answer = await bot.private_answer(payload)
    assert answer.files == []
    assert "attachments" not in answer.body
    assert "Nothing to export" in text_of(answer.body)
