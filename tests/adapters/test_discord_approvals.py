"""Approvals on Discord through real discord.py, against the fake Discord and the sandbox: `/approvals` with
mentions, the announcement's Approve / Request changes / Reject buttons, the note and reason forms, and who is
notified.

Carol is an approver by her Design role; Bob is no approver; Alice asks for the posts.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import httpx
import pytest

from adapters.discord.people import DiscordPeople
from bot.model import ChannelRef
from bot.notices import Notice, NoticeApproval, NoticeKind
from bot.records import Approver
from sandbox import SandboxServer
from tests.adapters.test_discord import (
    DiscordBot,
    announced,
    discord_settings,
    fake_discord,
    restore_discord_endpoints,
    start_bot,
    text_of,
)
from tests.conftest import FakeClock
from tests.fakes.discord import ADMIN, ALICE, BOB, CHANNEL_ID, EPHEMERAL, GUILD_ID, FakeDiscord
from tests.media.files import MP4

# Fixtures of the Discord tests: the fake, and discord.py's endpoints put back after each test (autouse).
__all__ = ["fake_discord", "restore_discord_endpoints"]

CAROL = 1400000000000000004
DESIGN_ROLE_ID = 1500000000000000002
BUTTONS = ["Approve", "Request changes", "Reject"]


def with_an_approver(fake: FakeDiscord) -> None:
    fake.add_role(DESIGN_ROLE_ID, "Design")
    fake.add_user(CAROL, "carol", "Carol", roles=[DESIGN_ROLE_ID])


@pytest.fixture
async def bot(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[DiscordBot]:
    with_an_approver(fake_discord)
    async with start_bot(discord_settings(tmp_path, fake_discord, sandbox), fake_discord, sandbox, clock) as running:
        yield running


async def waiting_request(bot: DiscordBot) -> dict[str, Any]:
    """The channel requires Design's approval and Alice asks for a post: its announcement as Discord holds it."""
    said = await bot.run("approvals", user=ADMIN, setting=f"required by <@&{DESIGN_ROLE_ID}>")
    assert said.startswith("Posts from this channel now wait for approval by group @Design before anything is sent")
    asked = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="tomorrow noon", caption="Hi")
    assert "Request #1 waits for approval by group @Design" in asked
    ref = await announced(bot)
    return bot.fake.messages[int(ref.message_id)]


def buttons(message: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(b["label"], b["style"], b["custom_id"]) for row in message["components"] for b in row["components"]]


async def thread_replies(bot: DiscordBot, count: int) -> list[dict[str, Any]]:
    """The bodies of the first `count` notices sent as replies to an announcement."""

    def replies() -> list[dict[str, Any]]:
        sent = [r.body for r in bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")]
        found = [body for body in sent if body.get("message_reference")]
        return found if len(found) >= count else []

    found: list[dict[str, Any]] = await bot.fake.wait_for(replies)
    return found


async def edits_of(bot: DiscordBot, message: dict[str, Any], count: int) -> list[dict[str, Any]]:
    path = f"/channels/{CHANNEL_ID}/messages/{message['id']}"
    found: list[Any] = await bot.fake.wait_for(
        lambda: len(bot.fake.calls("PATCH", path)) >= count and bot.fake.calls("PATCH", path)
    )
    return [r.body for r in found]


async def opened_form(bot: DiscordBot, message: dict[str, Any], label: str, *, user: int) -> dict[str, Any]:
    """Press a button that asks for words: the form Discord was asked to show, as the first answer."""
    callback = await bot.callback(bot.interact(bot.fake.press(message, label, user=user)))
    assert callback["type"] == 9  # a modal: it cannot come after a deferral
    form: dict[str, Any] = callback["data"]
    return form


async def private_text(bot: DiscordBot, payload: dict[str, Any]) -> str:
    assert await bot.callback(payload) == {"type": 5, "data": {"flags": EPHEMERAL}}
    return text_of((await bot.private_answer(payload)).body)


# The announcement and whom it notifies


async def test_the_announcement_carries_the_three_buttons_and_notifies_only_the_approvers(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    assert buttons(announcement) == [
        ("Approve", 3, "approval:approve:1"),  # success
        ("Request changes", 2, "approval:changes:1"),  # secondary
        ("Reject", 4, "approval:reject:1"),  # danger
    ]
    [sent] = bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    assert sent.body["content"] == f"<@&{DESIGN_ROLE_ID}>"  # embeds never notify: the role is named in the content
    assert sent.body["allowed_mentions"] == {"parse": [], "users": [ALICE], "roles": [DESIGN_ROLE_ID]}
    description = sent.body["embeds"][0]["description"]
    assert f"<@{ALICE}> asks to post a video" in description
    assert f"Waiting for approval by <@&{DESIGN_ROLE_ID}>." in description
    assert bot.creates() == []


def _notice(kind: NoticeKind, approvers: tuple[Approver, ...], *, caption: str = "") -> Notice:
    return Notice(
        kind=kind,
        request_id=4,
        author_id=str(ALICE),
        author_name="Alice",
        content_type="video",
        media_count=1,
        caption=caption,
        scheduled_time=None,
        items=(),
        approval=NoticeApproval(state="awaiting_approval", approvers=approvers),
    )


@pytest.mark.parametrize("kind", [NoticeKind.REMINDER, NoticeKind.EDITED, NoticeKind.EXPIRED])
async def test_notices_asking_approvers_to_act_allow_exactly_their_mentions(bot: DiscordBot, kind: NoticeKind) -> None:
    approvers = (
        Approver(kind="user", id=str(CAROL), name="Carol"),
        Approver(kind="group", id=str(DESIGN_ROLE_ID), name="Design"),
        Approver(kind="user", id="alice", name="alice"),  # not a Discord ID: never a mention
    )
    channel = ChannelRef(platform="discord", workspace_id=str(GUILD_ID), channel_id=str(CHANNEL_ID))
    notice = _notice(kind, approvers, caption=f"@everyone <@&{GUILD_ID}> <@{BOB}>")
    await bot.adapter.messenger.send(channel, [notice], thread=None, ids=[9])
    [sent] = bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    allowed = sent.body["allowed_mentions"]
    assert allowed["parse"] == []  # never @everyone, never whoever a caption names
    assert allowed["roles"] == [DESIGN_ROLE_ID]
    assert sorted(allowed["users"]) == [ALICE, CAROL]
    named = sent.body["content"].split()
    assert set(named) >= {f"<@{CAROL}>", f"<@&{DESIGN_ROLE_ID}>"}
    assert (f"<@{ALICE}>" in named) == (kind is NoticeKind.EXPIRED)  # the author too, when told it is too late
    assert sent.body.get("components", []) == []  # only the announcement carries the buttons


# Approve


async def test_an_approver_by_role_approves_once_and_the_buttons_go(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    stale = copy.deepcopy(announcement)

    said = await private_text(bot, bot.interact(bot.fake.press(announcement, "Approve", user=CAROL)))
    assert said.startswith("Approved request #1. Scheduled for Sun 29 November 2026, 12:00 EST"), said
    assert len(bot.creates()) == 1
    [edit] = await edits_of(bot, announcement, 1)
    assert edit["components"] == []  # decided: the announcement no longer offers the buttons
    assert bot.fake.messages[int(announcement["id"])]["components"] == []
    assert "Approved by Carol" in text_of(edit)
    [told] = await thread_replies(bot, 1)
    assert f"<@{ALICE}> Carol approved request #1" in text_of(told)
    assert told["allowed_mentions"]["users"] == [ALICE]

    again = await private_text(bot, bot.interact(bot.fake.press(stale, "Approve", user=CAROL)))
    assert again == "Request #1 was already approved by Carol and scheduled."
    assert len(bot.creates()) == 1


async def test_a_non_approver_is_refused_privately_with_the_approvers_named(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    said = await private_text(bot, bot.interact(bot.fake.press(announcement, "Approve", user=BOB)))
    assert said == "Only group @Design can approve request #1."
    own = await private_text(bot, bot.interact(bot.fake.press(announcement, "Approve", user=ALICE)))
    assert own == "Only group @Design can approve request #1."  # not an approver, and the author besides
    assert bot.creates() == []
    assert bot.fake.calls("PATCH", "/channels/{}/messages/{}") == []
    assert buttons(bot.fake.messages[int(announcement["id"])])[0][0] == "Approve"


async def test_approve_buttons_still_work_after_a_restart(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    with_an_approver(fake_discord)
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        announcement = await waiting_request(bot)
    async with start_bot(settings, fake_discord, sandbox, clock) as restarted:
        said = await private_text(
            restarted, restarted.interact(fake_discord.press(announcement, "Approve", user=CAROL))
        )
        assert said.startswith("Approved request #1.")
        assert len(restarted.creates()) == 1


async def test_approve_of_a_post_whose_time_passed_asks_for_a_new_time(bot: DiscordBot, clock: FakeClock) -> None:
    announcement = await waiting_request(bot)
    clock.advance(hours=25, minutes=58)  # two minutes before its time
    said = await private_text(bot, bot.interact(bot.fake.press(announcement, "Approve", user=CAROL)))
    assert "Approve it with a new time, or now: `/approve #1 <time>`" in said
    assert bot.creates() == []
    later = await bot.run("approve", user=CAROL, request="#1", when="in 1 hour")
    assert later.startswith("Approved request #1.")
    [body] = bot.creates()
    assert body["scheduledTime"] == "2026-11-29T17:58:00Z"


# Request changes and Reject: a form for the note or the reason


async def test_request_changes_opens_a_form_and_the_note_reaches_the_author(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    form = await opened_form(bot, announcement, "Request changes", user=CAROL)
    assert form["custom_id"] == "approval:note:changes:1"
    assert form["title"] == "Request changes to #1"
    [label] = form["components"]
    assert (label["type"], label["label"]) == (18, "What should change")
    field = label["component"]
    assert (field["type"], field["custom_id"], field["style"], field["required"]) == (4, "note", 2, True)

    submitted = bot.interact(bot.fake.submit(form, {"note": "Shorter caption, please"}, user=CAROL))
    said = await private_text(bot, submitted)
    assert said == "Asked Alice for changes to request #1; it comes back to the approvers once edited."
    [told] = await thread_replies(bot, 1)
    assert told["content"] == f"<@{ALICE}>"
    assert "Carol asks for changes to request #1:\n> Shorter caption, please" in text_of(told)
    [edit] = await edits_of(bot, announcement, 1)
    assert edit["components"] == []  # nothing to approve until Alice edits it
    assert bot.creates() == []

    # Alice's edit puts it back before the approvers, buttons and all, and tells them.
    edited = await bot.run("edit", request="#1", changes="-- Short")
    assert "#1" in edited
    edits = await edits_of(bot, announcement, 2)
    assert [b[0] for b in buttons({"components": edits[1]["components"]})] == BUTTONS
    _, back = await thread_replies(bot, 2)
    assert back["content"] == f"<@&{DESIGN_ROLE_ID}>"
    assert back["allowed_mentions"]["roles"] == [DESIGN_ROLE_ID]


async def test_reject_asks_for_a_reason_and_closes_the_request(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    form = await opened_form(bot, announcement, "Reject", user=CAROL)
    assert (form["custom_id"], form["title"]) == ("approval:note:reject:1", "Reject request #1")
    said = await private_text(bot, bot.interact(bot.fake.submit(form, {"note": "Off-brand"}, user=CAROL)))
    assert said == "Rejected request #1; nothing was sent, and Alice is told why."
    [told] = await thread_replies(bot, 1)
    assert f"<@{ALICE}> Carol rejected request #1; nothing was sent.\n> Off-brand" in text_of(told)
    [edit] = await edits_of(bot, announcement, 1)
    assert edit["components"] == []
    assert bot.creates() == []


async def test_a_non_approver_is_refused_before_a_form_asks_for_a_reason(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    callback = await bot.callback(bot.interact(bot.fake.press(announcement, "Reject", user=BOB)))
    assert callback["type"] == 4  # an answer, not a form (9)
    assert callback["data"]["flags"] == EPHEMERAL
    assert text_of(callback["data"]) == "Only group @Design can reject request #1."


async def test_a_non_approvers_reason_is_refused_and_changes_nothing(bot: DiscordBot) -> None:
    announcement = await waiting_request(bot)
    form = await opened_form(bot, announcement, "Reject", user=CAROL)  # a form someone else had open
    said = await private_text(bot, bot.interact(bot.fake.submit(form, {"note": "I do not like it"}, user=BOB)))
    assert said == "Only group @Design can reject request #1."
    stored = await bot.runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "awaiting_approval"


async def test_a_form_opened_before_a_restart_still_works_after_it(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    with_an_approver(fake_discord)
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        announcement = await waiting_request(bot)
        form = await opened_form(bot, announcement, "Request changes", user=CAROL)
    async with start_bot(settings, fake_discord, sandbox, clock) as restarted:
        submitted = restarted.interact(fake_discord.submit(form, {"note": "New sound"}, user=CAROL))
        assert (await private_text(restarted, submitted)).startswith("Asked Alice for changes to request #1")


async def test_approval_commands_take_their_options_as_typed(bot: DiscordBot) -> None:
    await waiting_request(bot)
    refused = await bot.run("changes", user=BOB, request="#1", note="Brighter")
    assert refused == "Only group @Design can ask for changes to request #1."
    said = await bot.run("changes", user=CAROL, request="1", note="Brighter")
    assert said.startswith("Asked Alice for changes to request #1")
    rejected = await bot.run("reject", user=CAROL, request="#1", reason="Too late for this week")
    assert rejected == "Rejected request #1; nothing was sent, and Alice is told why."
    late = await bot.run("approve", user=CAROL, request="#1", when="now")
    assert late == "Request #1 was rejected by Carol (Too late for this week); nothing was sent."
    assert bot.creates() == []


async def test_edit_takes_a_file_option_as_the_new_media(bot: DiscordBot) -> None:
    await waiting_request(bot)
    video = bot.fake.attachment("take2.mp4", "video/mp4", MP4)
    said = await bot.run("edit", request="#1", file=video)
    assert said.startswith("Edited request #1; it waits for approval by group @Design again."), said
    stored = await bot.runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.request.media_urls != ("https://e.com/v.mp4",)
    approved = await bot.run("approve", user=CAROL, request="#1")
    assert approved.startswith("Approved request #1.")
    [body] = bot.creates()
    async with httpx.AsyncClient() as http:
        assert (await http.get(body["contentUrl"])).content == MP4


async def test_posts_shows_the_requests_waiting_for_approval(bot: DiscordBot) -> None:
    await waiting_request(bot)
    listed = await bot.run("posts", show="pending")
    assert listed.startswith("Posts from this channel waiting for approval or changes")
    assert "#1 · Sun 29 November 2026, 12:00 EST (America/New_York) · Demo TikTok · waiting for approval" in listed
    assert "waiting for @Design" in listed


# /approvals


async def test_approvals_names_the_mentioned_people_and_roles(bot: DiscordBot) -> None:
    setting = f"required by <@!{CAROL}>, <@&{DESIGN_ROLE_ID}> and <@{BOB}>"
    said = await bot.run("approvals", user=ADMIN, setting=setting)
    assert said.startswith("Posts from this channel now wait for approval by @Carol, group @Design, @Bob")
    settings = await bot.runtime.ctx.storage.preferences.channel_settings(
        ChannelRef(platform="discord", workspace_id=str(GUILD_ID), channel_id=str(CHANNEL_ID))
    )
    assert settings.approvers == (
        Approver(kind="user", id=str(CAROL), name="Carol"),
        Approver(kind="group", id=str(DESIGN_ROLE_ID), name="Design"),
        Approver(kind="user", id=str(BOB), name="Bob"),
    )
    assert "authors may not approve their own" in await bot.run("approvals")
    assert await bot.run("approvals", setting="off") == "Only an admin can change this channel's approvals."
    assert await bot.run("approvals", user=ADMIN, setting="off") == "Posts from this channel need no approval now."


async def test_mentions_of_unknown_members_stay_as_ids(bot: DiscordBot) -> None:
    said = await bot.run("approvals", user=ADMIN, setting="required by <@1400000000000000999>")
    assert said.startswith("Posts from this channel now wait for approval by @1400000000000000999")


async def test_a_members_roles_are_their_groups_even_before_the_server_is_cached(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    with_an_approver(fake_discord)
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=False) as bot:
        payload = fake_discord.slash("help", user=CAROL)
        interaction = discord.Interaction(data=payload, state=bot.adapter.client._connection)  # type: ignore[arg-type]
        caller = await DiscordPeople().caller(interaction)
        assert caller.groups == (str(DESIGN_ROLE_ID),)
