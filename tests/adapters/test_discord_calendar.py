"""The calendar on Discord through real discord.py, against the fake Discord and the sandbox: `/calendar`'s private
week with its Previous / Next buttons and account menu, who sees a private channel's posts (View Channel, from the
channel's permission overwrites), `/digest`, and the weekly digest as a channel embed.

The clock stands at Saturday 28 November 2026, 10:00 in New York: the week shown is Sat 28 Nov to Fri 4 Dec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.access import DiscordChannelAccess
from adapters.discord.calendar import calendar_view
from adapters.discord.embeds import DESCRIPTION_LIMIT, MAX_EMBEDS, TOTAL_LIMIT, notice_message
from bot.calendar.digest import send_due_digests
from bot.model import CalendarControls, Caller
from bot.notices import Digest, DigestAccount, DigestFailure, DigestPost, Notice
from sandbox import SandboxServer
from tests.adapters.test_discord import (
    DiscordBot,
    discord_settings,
    fake_discord,
    restore_discord_endpoints,
    start_bot,
    text_of,
)
from tests.conftest import FakeClock
from tests.fakes.discord import ADMIN, ALICE, BOB, CHANNEL_ID, EPHEMERAL, GUILD_ID, POSTER_ROLE_ID, FakeDiscord
from tests.fakes.discord.payloads import VIEW_CHANNEL, overwrite

# Fixtures of the Discord tests: the fake, and discord.py's endpoints put back after each test (autouse).
__all__ = ["fake_discord", "restore_discord_endpoints"]

PRIVATE = 1300000000000000002  # only the poster role may view it
PRIVATE_THREAD = 1300000000000000003  # a thread in it
HIDDEN_FROM_BOB = 1300000000000000004  # open to everyone but Bob, by a member overwrite
INVITE_ONLY_THREAD = 1300000000000000005  # a private thread in a channel everyone sees: only its members read it


def with_private_channels(fake: FakeDiscord) -> None:
    fake.add_channel(
        PRIVATE,
        "team-only",
        overwrites=[
            overwrite(GUILD_ID, deny=VIEW_CHANNEL),  # @everyone
            overwrite(POSTER_ROLE_ID, allow=VIEW_CHANNEL),
        ],
    )
    fake.add_channel(PRIVATE_THREAD, "launch", parent=PRIVATE)
    fake.add_channel(HIDDEN_FROM_BOB, "general", overwrites=[overwrite(BOB, role=False, deny=VIEW_CHANNEL)])
    fake.add_channel(INVITE_ONLY_THREAD, "plans", parent=CHANNEL_ID, private=True)


@pytest.fixture
async def bot(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[DiscordBot]:
    with_private_channels(fake_discord)
    async with start_bot(discord_settings(tmp_path, fake_discord, sandbox), fake_discord, sandbox, clock) as running:
        yield running


async def schedule(bot: DiscordBot, *, when: str, caption: str, accounts: str = "acc_1", **where: Any) -> None:
    said = await bot.run("post", url="https://e.com/v.mp4", accounts=accounts, when=when, caption=caption, **where)
    assert "Scheduled for" in said, said


async def week_of(bot: DiscordBot, *, user: int = ALICE, **options: Any) -> dict[str, Any]:
    """`/calendar` with `options`: its private answer, as Discord shows it, after checking it was deferred privately."""
    payload = bot.interact(bot.fake.slash("calendar", user=user, **options))
    assert await bot.callback(payload) == {"type": 5, "data": {"flags": EPHEMERAL}}
    await bot.private_answer(payload)
    return bot.fake.original(payload)


def controls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [component for row in message["components"] for component in row["components"]]


async def pressed(bot: DiscordBot, payload: dict[str, Any]) -> dict[str, Any]:
    """A control under the week was used: acknowledged as an update of that message, which is then edited."""
    assert await bot.callback(payload) == {"type": 6}
    answer = await bot.answer(payload)
    assert (answer.method, answer.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")
    assert bot.fake.original(payload)["id"] == payload["message"]["id"]  # the same private message, edited
    return bot.fake.original(payload)


# /calendar


async def test_calendar_answers_privately_with_the_week_its_buttons_and_the_account_menu(bot: DiscordBot) -> None:
    await schedule(bot, when="tomorrow noon", caption="Launch day")
    await schedule(bot, when="dec 8 9am", caption="Next week")
    week = await week_of(bot)
    assert week["flags"] & EPHEMERAL
    [embed] = week["embeds"]
    assert embed["title"] == "Posts from Sat 28 Nov to Fri 4 Dec (times in America/New_York):"
    day = "Sun 29 Nov\n• 12:00 Demo TikTok (@demo) on TikTok — scheduled — “Launch day” · #1 by Alice"
    assert day in embed["description"]
    assert "Next week" not in embed["description"]
    previous, following, menu = controls(week)
    assert (previous["type"], previous["label"], previous["custom_id"]) == (2, "◀ Previous week", "calendar:week -1")
    assert (following["type"], following["label"], following["custom_id"]) == (2, "Next week ▶", "calendar:week 1")
    assert (menu["type"], menu["custom_id"], menu["placeholder"]) == (3, "calendar:pick:0", "All accounts")
    options = [(o["label"], o["value"], o.get("default", False)) for o in menu["options"]]
    assert options[0] == ("All accounts", "all", True)
    assert ("Demo TikTok (@demo) on TikTok", "@acc_1", False) in options
    assert len(options) <= 25
    assert all(len(c["custom_id"]) <= 100 for c in controls(week))


async def test_next_week_edits_the_private_message_with_the_next_weeks_posts(bot: DiscordBot) -> None:
    await schedule(bot, when="tomorrow noon", caption="Launch day")
    await schedule(bot, when="dec 8 9am", caption="Next week")
    week = await week_of(bot)

    later = await pressed(bot, bot.interact(bot.fake.press(week, "Next week ▶")))
    assert later["flags"] & EPHEMERAL
    shown = text_of(later)
    assert "Posts from Sat 5 Dec to Fri 11 Dec" in shown
    assert "“Next week”" in shown
    assert "Launch day" not in shown
    assert [c["custom_id"] for c in controls(later)] == ["calendar:week 0", "calendar:week 2", "calendar:pick:1"]

    back = await pressed(bot, bot.interact(bot.fake.press(later, "◀ Previous week")))
    assert "Launch day" in text_of(back)


async def test_the_account_menu_narrows_the_week_and_the_buttons_keep_it(bot: DiscordBot) -> None:
    await schedule(bot, when="tomorrow noon", caption="Demo's")
    await schedule(bot, when="tomorrow 3pm", caption="Brand's", accounts="acc_123")
    await schedule(bot, when="dec 8 9am", caption="Brand next week", accounts="acc_123")
    week = await week_of(bot)
    assert "Demo's" in text_of(week)

    narrowed = await pressed(bot, bot.interact(bot.fake.choose(week, ["@acc_123"])))
    assert "Brand's" in text_of(narrowed)
    assert "Demo's" not in text_of(narrowed)
    _, following, menu = controls(narrowed)
    assert following["custom_id"] == "calendar:week 1 @acc_123"
    assert [o["value"] for o in menu["options"] if o.get("default")] == ["@acc_123"]

    later = await pressed(bot, bot.interact(bot.fake.press(narrowed, "Next week ▶")))
    assert "Brand next week" in text_of(later)

    everything = await pressed(bot, bot.interact(bot.fake.choose(later, ["all"])))
    assert "for acc_123" not in text_of(everything)
    assert controls(everything)[1]["custom_id"] == "calendar:week 2"


async def test_calendar_options_become_the_core_words(bot: DiscordBot) -> None:
    await schedule(bot, when="tomorrow noon", caption="Demo's")
    await schedule(bot, when="dec 8 9am", caption="Brand next week", accounts="acc_123")
    narrowed = text_of(await week_of(bot, show="next", account="acc_123"))
    assert "Posts from Sat 5 Dec to Fri 11 Dec for acc_123" in narrowed
    assert "Brand next week" in narrowed
    link = await bot.run("calendar", show="link")
    assert "Your calendar, as you may see it: http://127.0.0.1:" in link
    assert "ical revoke" in {c["value"] for c in _registered(bot, "calendar")["show"]["choices"]}
    assert _registered(bot, "calendar")["account"]["autocomplete"] is True


def _registered(bot: DiscordBot, name: str) -> dict[str, Any]:
    [sync] = bot.fake.calls("PUT", "/applications/{}/guilds/{}/commands")
    [command] = [c for c in sync.body if c["name"] == name]
    return {option["name"]: option for option in command.get("options", [])}


def test_the_controls_stay_within_discords_limits() -> None:
    accounts = tuple((f"acc_{n}", f"Account {n} " + "x" * 120) for n in range(40))
    narrowed = CalendarControls(
        week=3, previous="week 2 @acc_39", next="week 4 @acc_39", accounts=accounts, account="acc_39"
    )
    items = [item.to_component_dict() for item in calendar_view(narrowed).children]
    previous, following, menu = items
    assert (previous["custom_id"], following["custom_id"]) == ("calendar:week 2 @acc_39", "calendar:week 4 @acc_39")
    assert menu["custom_id"] == "calendar:pick:3"
    assert len(menu["options"]) == 25  # All accounts and 24 of the 40, the one shown among them
    assert [o["value"] for o in menu["options"] if o.get("default")] == ["@acc_39"]
    assert all(len(o["label"]) <= 100 for o in menu["options"])
    long_id = "acc_" + "9" * 96  # 100 characters
    too_long = CalendarControls(
        week=0,
        previous=f"week -1 @{long_id}",
        next=f"week 1 @{long_id}",
        accounts=((long_id, "Long"),),
        account=long_id,
    )
    [menu_only] = [item.to_component_dict() for item in calendar_view(too_long).children]
    assert menu_only["type"] == 3  # the buttons would pass 100 characters: `/calendar next` still serves
    assert [o["value"] for o in menu_only["options"]] == ["all"]  # so would the account's value


async def test_the_calendar_buttons_still_work_after_a_restart(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        await schedule(bot, when="dec 8 9am", caption="Next week", accounts="acc_123")
        week = await week_of(bot)
    async with start_bot(settings, fake_discord, sandbox, clock) as restarted:
        later = await pressed(restarted, restarted.interact(fake_discord.press(week, "Next week ▶")))
        assert "“Next week”" in text_of(later)
        narrowed = await pressed(restarted, restarted.interact(fake_discord.choose(week, ["@acc_123"])))
        assert "for acc_123" in text_of(narrowed)


# Who sees what


async def test_a_member_who_cannot_view_a_private_channel_does_not_see_its_posts(bot: DiscordBot) -> None:
    await schedule(bot, when="tomorrow noon", caption="Open to all")
    await schedule(bot, when="tomorrow 1pm", caption="Team secret", channel=PRIVATE)
    await schedule(bot, when="tomorrow 2pm", caption="Thread secret", channel=PRIVATE_THREAD)
    await schedule(bot, when="tomorrow 3pm", caption="Not for Bob", channel=HIDDEN_FROM_BOB)

    alice = text_of(await week_of(bot, user=ALICE))  # the poster role may view the private channel
    assert all(caption in alice for caption in ("Open to all", "Team secret", "Thread secret", "Not for Bob"))
    bob = text_of(await week_of(bot, user=BOB))
    assert "Open to all" in bob
    assert not any(caption in bob for caption in ("Team secret", "Thread secret", "Not for Bob"))
    owner = text_of(await week_of(bot, user=ADMIN))  # the server's owner sees every channel, as in Discord
    assert all(caption in owner for caption in ("Team secret", "Thread secret", "Not for Bob"))


async def test_channels_the_bot_cannot_resolve_count_as_not_visible(bot: DiscordBot) -> None:
    access = DiscordChannelAccess(bot.adapter.client, people=bot.adapter.dispatcher.people)
    caller = Caller(
        platform="discord",
        workspace_id=str(GUILD_ID),
        channel_id=str(CHANNEL_ID),
        user_id=str(ALICE),
        display_name="Alice",
    )
    asked = [str(CHANNEL_ID), str(PRIVATE), str(PRIVATE_THREAD), "1300000000000000999", "C1"]
    # Alice has not used the bot in this process yet: she is read over REST.
    assert await access.visible(caller, asked) == {str(CHANNEL_ID), str(PRIVATE), str(PRIVATE_THREAD)}
    assert bot.fake.calls("GET", f"/guilds/{GUILD_ID}/members/{ALICE}")
    elsewhere = Caller(
        platform="discord", workspace_id="1200000000000000999", channel_id="1", user_id=str(ALICE), display_name="A"
    )
    assert await access.visible(elsewhere, asked) == set()  # a server not in the cache


# /digest and the digest notice


async def test_digest_fri_4pm_by_an_admin_and_not_by_others(bot: DiscordBot) -> None:
    said = await bot.run("digest", user=ADMIN, setting="fri 4pm")
    assert said.startswith("This channel's weekly digest now goes out on Fridays at 16:00 (America/New_York)"), said
    refused = await bot.run("digest", user=ALICE, setting="off")
    assert refused == "Only an admin can change this channel's digest."
    assert (await bot.run("digest")).startswith("This channel's weekly digest goes out on Fridays at 16:00")
    [option] = _registered(bot, "digest").values()
    assert (option["name"], option["type"], option.get("required", False)) == ("setting", 3, False)


async def test_the_weekly_digest_arrives_as_an_embed_that_notifies_nobody(bot: DiscordBot, clock: FakeClock) -> None:
    await schedule(bot, when="tomorrow noon", caption="@everyone look")
    await schedule(bot, when="dec 1 9am", caption="Tuesday's")
    before = len(bot.fake.channel_messages())
    clock.advance(days=2)  # Monday 30 November, 10:00 in New York: the default digest was due at 09:00
    assert await send_due_digests(bot.runtime.ctx) == 1  # what the digest worker does each round
    sent = await bot.fake.wait_for(
        lambda: [m for m in bot.fake.channel_messages()[before:] if "Weekly digest" in text_of(m)]
    )
    [digest] = sent
    request = [r for r in bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages") if "embeds" in r.body][-1]
    assert request.body["allowed_mentions"] == {"parse": [], "users": []}
    assert not request.body.get("content")  # nobody is named, so nobody is notified
    [embed] = digest["embeds"]
    assert embed["description"].startswith("🗓️ Weekly digest for the week of Mon 30 Nov")
    assert "Tuesday" in embed["description"]
    assert embed["footer"]["text"].startswith("ref n")


def test_a_long_digest_is_cut_at_line_ends_within_discords_limits() -> None:
    posts = tuple(
        DigestPost(
            time=f"09:{n % 60:02d}", account="Demo TikTok", status="scheduled", caption=f"post {n}", request_id=n
        )
        for n in range(400)
    )
    failure = DigestFailure(
        request_id=7, post_id="post_7", channel_id=str(CHANNEL_ID), message_id="1600000000000000009"
    )
    digest = Digest(
        week="Mon 2 Nov",
        zone="UTC",
        workspace_id=str(GUILD_ID),
        past=(DigestAccount(account="Demo TikTok", counts=(("failed", 1),), failures=(failure,)),),
        days=(("Mon 2 Nov", posts),),
        empty=(),
    )
    notice = Notice.of_digest(digest)
    rendered = notice_message([notice], ids=[41])
    embeds = [embed.to_dict() for embed in rendered.embeds]
    assert 1 < len(embeds) <= MAX_EMBEDS
    descriptions = [embed["description"] for embed in embeds]
    assert all(len(d) <= DESCRIPTION_LIMIT for d in descriptions)
    footer = embeds[-1]["footer"]["text"]
    assert footer == "ref n41"
    assert sum(map(len, descriptions)) + len(footer) <= TOTAL_LIMIT
    shown = "\n".join(descriptions).splitlines()
    assert shown[-1].startswith("… and ")
    assert shown[-1].endswith(" more lines")
    link = f"[#7](https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/1600000000000000009)"
    assert shown[3] == f"• Demo TikTok: 1 failed (failed: {link})"  # the failure links to its announcement
    kept = [line for line in shown if line.startswith("• 09:")]
    assert all(line.endswith(")") for line in kept)  # whole lines only
    assert int(shown[-1].split()[2]) == 400 - len(kept)
    assert rendered.content is None
    assert rendered.mentions.to_dict() == {"parse": [], "users": []}


async def test_a_private_thread_is_seen_by_those_who_manage_threads_not_by_all_of_its_channel(bot: DiscordBot) -> None:
    access = DiscordChannelAccess(bot.adapter.client, people=bot.adapter.dispatcher.people)

    def caller(user: int) -> Caller:
        return Caller(
            platform="discord",
            workspace_id=str(GUILD_ID),
            channel_id=str(CHANNEL_ID),
            user_id=str(user),
            display_name="",
        )

    asked = [str(CHANNEL_ID), str(INVITE_ONLY_THREAD)]
    assert await access.visible(caller(BOB), asked) == {str(CHANNEL_ID)}  # in the channel, not in the thread
    assert await access.visible(caller(ADMIN), asked) == set(asked)  # its owner, who manages threads too
