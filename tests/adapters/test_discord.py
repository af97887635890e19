"""The Discord adapter through real discord.py, against a fake Discord REST API and the sandbox.

Interactions are raw gateway `INTERACTION_CREATE` payloads fed to the client's own parser, which dispatches them
as it does for the gateway; everything the bot answers goes over HTTP to the fake, which records it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import httpx
import pytest
from cryptography.fernet import Fernet
from discord.gateway import DiscordWebSocket

from adapters.discord import components
from adapters.discord.app import DiscordAdapter
from adapters.discord.autocomplete import account_choices
from adapters.discord.commands import STALE_COMMAND
from adapters.discord.embeds import DESCRIPTION_LIMIT, TOTAL_LIMIT, reply_message
from adapters.discord.invite import PERMISSIONS, application_id, invite_url
from adapters.discord.message_command import BUSY, NO_FILES
from adapters.discord.people import DiscordPeople
from adapters.discord.translation import to_draft
from app.runtime import Runtime, start_runtime
from app.settings import Settings
from bot import core
from bot.errors import BotError, DeliveryError, NotSetUp
from bot.grammar import parse_post
from bot.model import Account, ChannelRef, MessageRef, PostForm, Reply
from bot.notices import Notice, NoticeItem, NoticeKind
from bot.post_checks import UPLOADS_AT_ONCE
from bot.texts import COMMANDS, FORM_ALREADY_SENT, FORM_EXPIRED
from bot.tracking import Tracker
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.database import audit_entries, channel_request_ids
from tests.fakes.discord import (
    ADMIN,
    ALICE,
    APP_ID,
    BOB,
    BOT_TOKEN,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    POSTER_ROLE,
    POSTER_ROLE_ID,
    STRANGER_GUILD,
    FakeDiscord,
    Request,
    running_fake_discord,
)
from tests.media.files import MP4, image
from tests.processes import ROOT, free_port

TOMORROW_NOON = 1795971600  # 2026-11-29 12:00 in New York, the bot's default zone in these tests
# Error bodies that are not JSON, as a proxy or Cloudflare in front of Discord answers
UPSTREAM = "upstream connect error or disconnect/reset before headers. reset reason: overflow"
BLOCKED = "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>1020</body></html>"


@pytest.fixture(autouse=True)
def restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter points discord.py's class-level REST base and gateway at the fake; undo it after each test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as fake:
        yield fake
        assert fake.unmatched == [], "the bot called Discord routes the fake does not know"


def discord_settings(tmp_path: Path, fake: FakeDiscord, sandbox: SandboxServer, **extra: Any) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "api_key": "sk_test_key",
        "api_url": sandbox.url,
        "discord_token": BOT_TOKEN,
        "discord_api_url": fake.api_url,
        "discord_guild_ids": (GUILD_ID,),
        "discord_poster_roles": (POSTER_ROLE,),
        "http_host": "127.0.0.1",
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }
    values.update(extra)
    return make_settings(tmp_path, **values)


@dataclass
class DiscordBot:
    fake: FakeDiscord
    sandbox: SandboxServer
    runtime: Runtime
    adapter: DiscordAdapter

    def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Hand a gateway INTERACTION_CREATE to discord.py, as its gateway reader does."""
        self.adapter.client._connection.parse_interaction_create(payload)
        return payload

    async def answer(self, payload: dict[str, Any], count: int = 1) -> Request:
        """The `count`-th follow-up or edit the bot made for an interaction."""
        answers = await self.fake.wait_for(
            lambda: len(self.fake.answers(payload)) >= count and self.fake.answers(payload)
        )
        return answers[count - 1]

    async def callback(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The bot's first answer to an interaction, after checking Discord took it (in time, and only one)."""
        [callback] = await self.fake.wait_for(lambda: self.fake.callbacks(payload))
        assert self.fake.interactions[int(payload["id"])].response == callback["type"], "Discord refused it"
        return callback

    async def private_answer(self, payload: dict[str, Any]) -> Request:
        """The answer to a deferred interaction: an edit of its private "thinking" message, never a follow-up."""
        answer = await self.answer(payload)
        assert (answer.method, answer.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")
        shown = self.fake.original(payload)
        assert shown["flags"] & EPHEMERAL
        assert not shown["flags"] & LOADING  # no longer "thinking"
        return answer

    async def run(self, name: str, *, user: int = ALICE, **options: Any) -> str:
        """A slash command; returns the text of its private answer after checking it was deferred privately."""
        payload = self.interact(self.fake.slash(name, user=user, **options))
        assert await self.callback(payload) == {"type": 5, "data": {"flags": EPHEMERAL}}
        return text_of((await self.private_answer(payload)).body)

    def creates(self) -> list[Any]:
        return [r.body for r in self.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its content, then each embed's title, description and fields."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


@asynccontextmanager
async def start_bot(
    settings: Settings, fake: FakeDiscord, sandbox: SandboxServer, clock: FakeClock, *, guild_cached: bool = True
) -> AsyncIterator[DiscordBot]:
    """The runtime with its workers and HTTP server, and the adapter logged in to the fake over REST."""
    async with start_runtime(settings, clock=clock) as runtime, runtime.web:
        adapter = DiscordAdapter(runtime.core, settings)
        try:
            await adapter.login()
            if guild_cached:  # what the gateway's GUILD_CREATE does at start-up
                adapter.client._connection.parse_guild_create(fake.guild())
            yield DiscordBot(fake, sandbox, runtime, adapter)
        finally:
            await adapter.stop()


@pytest.fixture
async def bot(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[DiscordBot]:
    async with start_bot(discord_settings(tmp_path, fake_discord, sandbox), fake_discord, sandbox, clock) as running:
        yield running


async def announced(bot: DiscordBot, request_id: int = 1) -> MessageRef:
    async def stored() -> MessageRef | None:
        request = await bot.runtime.ctx.storage.requests.get(request_id)
        return request.announcement if request else None

    ref: MessageRef = await bot.fake.wait_for(stored)
    return ref


# Start-up


async def test_login_registers_the_commands_in_the_configured_server(bot: DiscordBot) -> None:
    fake = bot.fake
    assert [(r.method, r.path) for r in fake.requests[:2]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    [sync] = fake.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    assert sync.authorization == f"Bot {BOT_TOKEN}"
    assert fake.calls("PUT", f"/applications/{APP_ID}/commands") == []
    commands = {c["name"]: c for c in sync.body}
    assert set(commands) == {*COMMANDS, "Schedule as post"}  # every command of the core, each once
    assert commands["Schedule as post"]["type"] == 3
    assert all(c["contexts"] == [0] for c in commands.values())  # server channels only, never DMs
    post = {o["name"]: o for o in commands["post"]["options"]}
    assert [post[f"media{n}"]["type"] for n in range(1, 11)] == [11] * 10
    assert post["accounts"]["autocomplete"] is True
    assert [c["value"] for c in post["slide_duration"]["choices"]] == [4, 6, 8]
    assert [c["value"] for c in post["type"]["choices"]] == ["video", "slideshow"]
    assert not any(o.get("required") for o in post.values())
    assert len(post) <= 25
    zone = commands["timezone"]["options"][0]
    assert (zone["name"], zone["autocomplete"]) == ("zone", True)
    assert [o["name"] for o in commands["reschedule"]["options"]] == ["target", "when"]
    assert all(o["required"] for o in commands["reschedule"]["options"])
    options = {name: [(o["name"], o["type"], o.get("required", False)) for o in c.get("options", [])]
               for name, c in commands.items()}  # fmt: skip
    assert options["approvals"] == [("setting", 3, False)]
    assert options["approve"] == [("request", 3, True), ("when", 3, False)]
    assert options["changes"] == [("request", 3, True), ("note", 3, True)]
    assert options["reject"] == [("request", 3, True), ("reason", 3, True)]
    assert options["edit"] == [("request", 3, True), ("changes", 3, False), ("file", 11, False)]
    assert options["import"] == [("file", 11, True)]


async def test_without_server_ids_the_commands_are_registered_globally(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_guild_ids=())
    async with start_bot(settings, fake_discord, sandbox, clock):
        [sync] = fake_discord.calls("PUT", f"/applications/{APP_ID}/commands")
        assert len(sync.body) == len(COMMANDS) + 1  # and the message command
        assert fake_discord.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands") == []


async def test_a_server_the_bot_cannot_register_in_is_logged_and_skipped(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = GUILD_ID + 1
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_guild_ids=(other, GUILD_ID))
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        assert f"could not register the commands in server {other}" in caplog.text
        assert "/reschedule" in await bot.run("help")


@pytest.mark.parametrize("answer", ["none", "not JSON"])
async def test_an_unreachable_discord_is_a_clear_start_up_error(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock, answer: str
) -> None:
    if answer == "none":
        url = f"http://127.0.0.1:{free_port()}/api/v10"
        says = f"Could not reach Discord at {url}"
    else:  # a proxy in front of Discord answers in plain text
        url = fake_discord.api_url
        fake_discord.fail("GET", "/users/@me", status=503, text=UPSTREAM)
        says = r"Discord refused to start the bot \(HTTP 503, code 0\)"
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_api_url=url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        adapter = DiscordAdapter(runtime.core, settings)
        try:
            with pytest.raises(BotError, match=says):
                await adapter.login()
        finally:
            await adapter.stop()
        assert "discord" not in runtime.ctx.outbox.messengers


async def test_discord_py_takes_the_rest_and_gateway_urls_from_the_settings(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    """DISCORD_API_URL and DISCORD_GATEWAY_URL set class attributes discord.py does not document, so pyproject.toml
    pins its minor version; this checks the pinned version still reads them."""
    pin = re.search(r'"discord\.py>=([\d.]+),<([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None
    assert discord.__version__.startswith(pin[1].rsplit(".", 1)[0] + "."), "upgrade discord.py together with the pin"
    assert [int(part) for part in pin[2].split(".")] == [discord.version_info.major, discord.version_info.minor + 1]
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_gateway_url=fake_discord.gateway_url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        adapter = DiscordAdapter(runtime.core, settings)
        try:
            await adapter.start()
            await fake_discord.wait_for(lambda: fake_discord.identifies)  # the gateway, at DISCORD_GATEWAY_URL
        finally:
            await adapter.stop()
    assert fake_discord.calls("GET", "/users/@me")  # REST, at DISCORD_API_URL
    assert fake_discord.identifies[0]["token"] == BOT_TOKEN
    assert "shard" not in fake_discord.identifies[0]  # unsharded unless DISCORD_SHARD_COUNT is set


async def test_a_gateway_that_refuses_the_bot_for_good_stops_it(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_discord.identify_close = 4014
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_gateway_url=fake_discord.gateway_url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        adapter = DiscordAdapter(runtime.core, settings)
        ended = asyncio.Event()
        try:
            await adapter.start(on_failure=ended.set)
            await asyncio.wait_for(ended.wait(), 10)
        finally:
            await adapter.stop()
        assert len(fake_discord.identifies) == 1  # no reconnect loop against a refusal no retry can fix
        assert "the gateway connection ended for good (PrivilegedIntentsRequired" in caplog.text


async def help_over_the_gateway(fake: FakeDiscord, adapter: DiscordAdapter) -> str:
    """Once every shard is ready, `/help` in the server sent over the gateway: the text of the bot's answer."""
    await asyncio.wait_for(adapter.client.wait_until_ready(), 15)
    payload = fake.slash("help")
    await fake.dispatches.put(("INTERACTION_CREATE", payload))
    [callback] = await fake.wait_for(lambda: fake.callbacks(payload))
    assert callback == {"type": 5, "data": {"flags": EPHEMERAL}}
    [answer] = await fake.wait_for(lambda: fake.answers(payload))
    return text_of(answer.body)


async def test_a_replica_given_one_shard_identifies_once_with_it_and_answers_its_servers(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(
        tmp_path,
        fake_discord,
        sandbox,
        discord_gateway_url=fake_discord.gateway_url,
        discord_shard_count=2,
        discord_shard_ids=(1,),  # the server's: (GUILD_ID >> 22) % 2
    )
    async with start_runtime(settings, clock=clock) as runtime:
        adapter = DiscordAdapter(runtime.core, settings)
        try:
            await adapter.start()
            assert "/reschedule" in await help_over_the_gateway(fake_discord, adapter)
            guild = adapter.client.get_guild(GUILD_ID)
            assert guild is not None
            assert guild.shard_id == 1
        finally:
            await adapter.stop()
    assert [identify["shard"] for identify in fake_discord.identifies] == [[1, 2]]
    assert len(fake_discord.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")) == 1


async def test_a_shard_count_alone_runs_every_shard_and_registers_the_commands_once(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    """discord.py waits 5 seconds before each IDENTIFY after the first, as Discord allows one per 5 seconds."""
    settings = discord_settings(
        tmp_path, fake_discord, sandbox, discord_gateway_url=fake_discord.gateway_url, discord_shard_count=2
    )
    async with start_runtime(settings, clock=clock) as runtime:
        adapter = DiscordAdapter(runtime.core, settings)
        try:
            await adapter.start()
            assert "/reschedule" in await help_over_the_gateway(fake_discord, adapter)
        finally:
            await adapter.stop()
    assert [identify["shard"] for identify in fake_discord.identifies] == [[0, 2], [1, 2]]
    assert len(fake_discord.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")) == 1


# Commands


async def test_post_is_deferred_then_scheduled_and_announced_in_the_channel(bot: DiscordBot) -> None:
    text = await bot.run(
        "post",
        accounts="acc_123, acc_456",
        when="tomorrow noon",
        url="https://e.com/v.mp4",
        caption=f"Launch @everyone <@&{POSTER_ROLE_ID}> *now*",
    )
    assert "Scheduled for Sun 29 November 2026, 12:00 EST (America/New_York)" in text
    assert bot.creates() == [
        {
            "accountIds": ["acc_123", "acc_456"],
            "contentType": "video",
            "contentUrl": "https://e.com/v.mp4",
            "caption": f"Launch @everyone <@&{POSTER_ROLE_ID}> *now*",  # exactly as typed
            "scheduledTime": "2026-11-29T17:00:00Z",
        }
    ]
    ref = await announced(bot)
    [post] = bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    assert post.authorization == f"Bot {BOT_TOKEN}"
    assert post.body.get("content") is None
    description = post.body["embeds"][0]["description"]
    assert f"<@{ALICE}> scheduled a video for <t:{TOMORROW_NOON}:F> (<t:{TOMORROW_NOON}:R>)" in description
    assert "Brand TikTok (@brand-tiktok) on TikTok" in description
    assert "Brand Instagram (@brand-ig) on Instagram" in description
    assert "@\u200beveryone" in description  # the caption can never ping anyone
    assert f"<@\u200b&{POSTER_ROLE_ID}>" in description
    assert "\\*now\\*" in description
    assert post.body["allowed_mentions"] == {"parse": [], "users": [ALICE]}  # only the author, ever
    assert ref == MessageRef(channel_id=str(CHANNEL_ID), message_id=bot.fake.channel_messages()[0]["id"])
    stored = await bot.runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert (stored.channel.platform, stored.channel.workspace_id, stored.user_id, stored.user_name) == (
        "discord",
        str(GUILD_ID),
        str(ALICE),
        "Alice",
    )


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("help", {}, "/reschedule"),
        ("help", {"command": "post"}, "Times are read in your time zone"),
        ("accounts", {}, "`acc_123` Brand TikTok"),
        ("timezone", {}, "America/New_York (the bot's default)"),
        ("timezone", {"zone": "asia/tokyo"}, "Your time zone is now Asia/Tokyo"),
        ("posts", {}, "No posts from this channel yet"),
        ("posts", {"refresh": True}, "No posts from this channel yet"),
        ("cancel", {"target": "#9"}, "I have no post `#9`"),
        ("reschedule", {"target": "#9", "when": "friday 9am"}, "I have no post `#9`"),
        ("post", {"url": "https://e.com/v.mp4"}, "Say which accounts to post to"),
        (
            "post",
            {"url": "https://e.com/1.jpg https://e.com/2.jpg", "accounts": "acc_1", "slide_duration": 6},
            "Scheduled",
        ),
    ],
)
async def test_each_command_with_its_options_answers_privately(
    bot: DiscordBot, name: str, options: dict[str, Any], expected: str
) -> None:
    assert expected in await bot.run(name, **options)


async def test_numeric_dates_are_read_in_the_order_of_the_members_discord_locale(bot: DiscordBot) -> None:
    bot.fake.users[ALICE]["locale"] = "en-GB"  # every interaction carries its member's client locale
    bot.fake.users[ADMIN]["locale"] = "en-US"
    text = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="3/12 9am")
    assert "Scheduled for Thu 3 December 2026, 09:00 EST" in text
    text = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="3/12 9am", user=ADMIN)
    assert "Thu 12 March 2026 has already passed this year" in text


async def test_post_sends_the_sound_option_with_the_post(bot: DiscordBot) -> None:
    text = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", sound="https://e.com/a.mp3", when="9am")
    assert "Scheduled for" in text
    [body] = bot.creates()
    assert body["soundUrl"] == "https://e.com/a.mp3"


async def test_accounts_alias_names_an_account_for_posts(bot: DiscordBot) -> None:
    refused = await bot.run("accounts", user=ALICE, arguments="alias launch acc_456")
    assert refused == "Only an admin can change this channel's accounts and aliases."
    said = await bot.run("accounts", user=ADMIN, arguments="alias launch acc_456")
    assert said == "`launch` now means Brand Instagram (@brand-ig) on Instagram (`acc_456`)."
    assert "also `launch`" in await bot.run("accounts")
    assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="launch", when="9am")
    assert bot.creates()[0]["accountIds"] == ["acc_456"]


async def test_accounts_allow_limits_the_channel_to_those_accounts(bot: DiscordBot) -> None:
    said = await bot.run("accounts", user=ADMIN, arguments="allow acc_1")
    assert said == "This channel may now post only to `acc_1`."
    refused = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_123", when="9am")
    assert "may not post to Brand TikTok" in refused
    assert bot.creates() == []
    assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
    assert await bot.run("accounts", user=ADMIN, arguments="allow all") == "This channel may post to every account."
    assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_123", when="9am")
    assert [b["accountIds"] for b in bot.creates()] == [["acc_1"], ["acc_123"]]


async def test_slideshow_options_become_one_slideshow_request(bot: DiscordBot) -> None:
    await bot.run(
        "post", url="https://e.com/1.jpg  https://e.com/2.jpg", accounts="demo", slide_duration=8, type="slideshow"
    )
    assert bot.creates() == [
        {
            "accountIds": ["acc_1"],
            "contentType": "slideshow",
            "contentUrl": ["https://e.com/1.jpg", "https://e.com/2.jpg"],
            "slideDuration": 8,
        }
    ]


async def test_cancel_and_reschedule_edit_the_announcement_and_news_replies_to_it(
    bot: DiscordBot, clock: FakeClock
) -> None:
    await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="in 2 hours")
    first = await announced(bot, 1)
    await bot.run("post", url="https://e.com/w.mp4", accounts="acc_123", when="in 5 hours")
    second = await announced(bot, 2)
    assert "Moved" in await bot.run("reschedule", target="#1", when="in 3 hours")
    assert "Cancelled" in await bot.run("cancel", target="#2")
    await bot.fake.wait_for(lambda: len(bot.fake.calls("PATCH", "/channels/{}/messages/{}")) >= 2)
    edited = {r.path: text_of(r.body) for r in bot.fake.calls("PATCH", "/channels/{}/messages/{}")}
    assert "🚫 cancelled" in edited[f"/channels/{CHANNEL_ID}/messages/{second.message_id}"]
    moved = int(datetime(2026, 11, 28, 18, 0, tzinfo=UTC).timestamp())  # three hours after the test clock's now
    assert f"<t:{moved}:F>" in edited[f"/channels/{CHANNEL_ID}/messages/{first.message_id}"]
    clock.advance(hours=4)
    assert "✅ live" in await bot.run("posts", refresh=True)
    replies = await bot.fake.wait_for(
        lambda: [r for r in bot.fake.calls("POST", "/channels/{}/messages") if r.body.get("message_reference")]
    )
    assert replies[0].body["message_reference"] == {
        "type": 0,  # a reply
        "message_id": int(first.message_id),
        "channel_id": CHANNEL_ID,
        "fail_if_not_exists": False,
    }
    assert "Live now on Demo TikTok (@demo) on TikTok (request #1)" in text_of(replies[0].body)


async def test_failed_late_and_unconfirmed_posts_are_told_in_the_channel(bot: DiscordBot, clock: FakeClock) -> None:
    await bot.run("post", url="https://e.com/fail.mp4", accounts="acc_1", when="in 10 minutes")
    await announced(bot, 1)
    bot.sandbox.state.faults = [Fault(kind="malformed", route="create")]  # created, but the answer is unreadable
    text = await bot.run("post", url="https://e.com/stuck.mp4", accounts="acc_123", when="in 10 minutes")
    assert "did not confirm whether it created the post" in text
    clock.advance(minutes=1)
    await Tracker(bot.runtime.ctx).cycle()  # found at Infinipost: announced, and tracked
    adopted = await announced(bot, 2)
    clock.advance(minutes=25)
    await Tracker(bot.runtime.ctx).cycle()

    def said(words: str) -> list[dict[str, Any]]:
        return [r.body for r in bot.fake.calls("POST", "/channels/{}/messages") if words in text_of(r.body)]

    failure = (await bot.fake.wait_for(lambda: said("failed at Infinipost")))[0]
    assert failure["content"] == f"<@{ALICE}>"  # the author is pinged, and only them
    assert "message_reference" not in failure  # in the channel, not buried in a reply
    late = (await bot.fake.wait_for(lambda: said("not live yet")))[0]
    assert late["message_reference"]["message_id"] == int(adopted.message_id)
    assert said("was created at Infinipost after all")
    assert len([r for r in bot.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]) == 2


async def test_infinipost_error_reaches_the_user_privately(bot: DiscordBot) -> None:
    await bot.runtime.ctx.accounts.all()  # the bot knows acc_1; Infinipost then loses it
    del bot.sandbox.state.accounts["acc_1"]
    text = await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
    assert text == "Nothing was scheduled. Infinipost refused it: Account acc_1 not found."
    assert bot.fake.channel_messages() == []


@pytest.mark.parametrize(
    ("name", "options", "says"),
    [
        ("post", {"caption": 5, "url": "https://e.com/v.mp4", "accounts": "acc_1"}, "`caption` takes text"),
        ("post", {"accounts": 7, "url": "https://e.com/v.mp4"}, "`accounts` takes text"),
        ("post", {"url": "https://e.com/1.jpg https://e.com/2.jpg", "slide_duration": "6"}, "takes a whole number"),
        (
            "post",
            {"url": "https://e.com/1.jpg https://e.com/2.jpg", "accounts": "acc_1", "slide_duration": 5},
            "`slide_duration` takes one of: 4 seconds, 6 seconds, 8 seconds.",
        ),
        ("post", {"url": "https://e.com/v.mp4", "accounts": "acc_1", "type": "gif"}, "`type` takes one of: video"),
        ("post", {"url": "https://e.com/v.mp4", "accounts": "acc_1", "slide_duration": True}, "a whole number"),
        ("posts", {"refresh": "yes"}, "`refresh` takes true or false"),
        ("cancel", {"target": 12}, "`target` takes text"),
        ("help", {"command": "everything"}, "`command` takes one of: post, posts"),
    ],
)
async def test_options_of_the_wrong_shape_get_a_clear_refusal_and_reach_nothing(
    bot: DiscordBot, caplog: pytest.LogCaptureFixture, name: str, options: dict[str, Any], says: str
) -> None:
    payload = bot.interact(bot.fake.slash(name, **options))
    callback = await bot.callback(payload)
    assert (callback["type"], callback["data"]["flags"]) == (4, EPHEMERAL)
    assert says in callback["data"]["content"]
    assert [r for r in bot.sandbox.state.received if r.path.startswith("/v1/")] == []
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]  # nothing raised


async def test_an_attachment_option_without_its_file_gets_a_clear_refusal(
    bot: DiscordBot, caplog: pytest.LogCaptureFixture
) -> None:
    video = bot.fake.attachment("clip.mp4", "video/mp4", MP4)
    payload = bot.fake.slash("post", media1=video, accounts="acc_1")
    del payload["data"]["resolved"]  # the option names an attachment ID that nothing describes
    callback = await bot.callback(bot.interact(payload))
    assert (
        callback["data"]["content"]
        == "`media1` came without its file. Attach the file again and send the command once more."
    )
    assert bot.fake.downloads == []
    assert [r for r in bot.sandbox.state.received if r.path.startswith("/v1/")] == []
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.parametrize(("command", "option"), [("post", "accounts"), ("timezone", "zone")])
async def test_autocomplete_of_a_value_that_is_not_text_offers_nothing_and_raises_nothing(
    bot: DiscordBot, caplog: pytest.LogCaptureFixture, command: str, option: str
) -> None:
    payload = bot.interact(bot.fake.autocomplete(command, option, **{option: 7}))
    assert await bot.callback(payload) == {"type": 8, "data": {"choices": []}}
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_a_deferral_discord_took_before_its_answer_was_lost_counts_as_acknowledged(bot: DiscordBot) -> None:
    # Discord takes the "thinking" callback but the answer is lost (a 502 on the way back); discord.py sends the
    # callback again, and Discord says 40060: already acknowledged. The command goes on.
    bot.fake.fail("POST", "/interactions/{}/{}/callback", status=502, text="Bad Gateway", after_handling=True)
    payload = bot.interact(bot.fake.slash("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am"))
    answer = await bot.private_answer(payload)
    assert "Scheduled for" in text_of(answer.body)
    assert bot.fake.callbacks(payload) == [{"type": 5, "data": {"flags": EPHEMERAL}}] * 2
    assert len(bot.creates()) == 1


async def test_a_command_discord_knows_but_the_bot_does_not_gets_a_private_answer(bot: DiscordBot) -> None:
    payload = bot.interact(bot.fake.slash("schedule", accounts="acc_1"))
    callback = await bot.callback(payload)
    assert (callback["type"], callback["data"]["flags"], callback["data"]["content"]) == (4, EPHEMERAL, STALE_COMMAND)


# Uploads


async def test_attachment_options_are_downloaded_and_rehosted(bot: DiscordBot) -> None:
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4)
    text = await bot.run("post", media1=video, accounts="acc_1", when="in 3 hours", caption="From Discord")
    assert "Scheduled for" in text, text
    assert bot.fake.downloads == [video["url"].split("?")[0].removeprefix(f"http://127.0.0.1:{bot.fake.port}")]
    [body] = bot.creates()
    assert body["contentType"] == "video"
    assert body["contentUrl"].startswith(f"http://127.0.0.1:{bot.runtime.web.port}/media/")
    async with httpx.AsyncClient() as http:
        assert (await http.get(body["contentUrl"])).content == MP4


async def test_a_request_keeps_its_claim_while_its_upload_is_still_coming(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    """An upload that outlasts a claim's lease keeps its request claimed by this replica, renewed all along, so
    that no other replica takes it for the work of one that died."""
    settings = discord_settings(tmp_path, fake_discord, sandbox).model_copy(update={"claim_lease_seconds": 3})
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        video = bot.fake.attachment("slow.mp4", "video/mp4", MP4)
        bot.fake.trickles[int(video["id"])] = 0.15  # about five seconds for the whole file: lasting leases
        command = asyncio.create_task(bot.run("post", media1=video, accounts="acc_1", when="in 3 hours"))

        def claimed_until() -> str | None:
            with closing(sqlite3.connect(settings.database)) as db:
                row = db.execute("SELECT claimed_until FROM requests WHERE state = 'received'").fetchone()
                return row[0] if row else None

        first = await bot.fake.wait_for(claimed_until)
        clock.advance(minutes=15)  # far beyond the lease, the file still coming
        renewed = await bot.fake.wait_for(lambda: (claimed_until() or "") > first and claimed_until())
        assert renewed > clock().strftime("%Y-%m-%dT%H:%M:%S")  # nobody may take it: claimed beyond the present
        assert "Scheduled for" in await command
        assert len(bot.creates()) == 1


async def test_several_attachment_options_make_a_slideshow_in_their_order(bot: DiscordBot) -> None:
    first = bot.fake.attachment("1.jpg", "image/jpeg", image("JPEG", (8, 6)))
    second = bot.fake.attachment("2.jpg", "image/jpeg", image("JPEG", (6, 8)))
    await bot.run("post", media1=first, media2=second, accounts="acc_1", when="in 3 hours")
    [body] = bot.creates()
    assert body["contentType"] == "slideshow"
    async with httpx.AsyncClient() as http:
        served = [(await http.get(url)).content for url in body["contentUrl"]]
    assert served == [bot.fake.files[int(first["id"])][0], bot.fake.files[int(second["id"])][0]]


async def test_an_expired_attachment_link_is_a_clear_private_message(bot: DiscordBot) -> None:
    video = bot.fake.attachment("old.mp4", "video/mp4", MP4, expired=True)
    text = await bot.run("post", media1=video, accounts="acc_1")
    assert "`old.mp4` could not be downloaded (404): the link may have expired" in text
    assert bot.creates() == []


@pytest.mark.parametrize(
    ("status", "location", "says"),
    [
        (503, None, "`clip.mp4` could not be downloaded right now (503). Try again."),
        (
            302,
            "https://files.example.net/clip.mp4",
            "`clip.mp4` points somewhere I may not fetch from, so I did not download it.",
        ),
    ],
)
async def test_a_failing_attachment_download_is_one_clear_private_message(
    bot: DiscordBot, status: int, location: str | None, says: str
) -> None:
    video = bot.fake.attachment("clip.mp4", "video/mp4", MP4)
    bot.fake.fail_file(video, status=status, location=location)
    payload = bot.interact(bot.fake.slash("post", media1=video, accounts="acc_1", when="9am"))
    answer = await bot.private_answer(payload)
    assert text_of(answer.body) == says
    assert len(bot.fake.downloads) == 1  # the redirect is not followed off Discord's hosts
    assert bot.creates() == []
    assert bot.fake.answers(payload) == [answer]
    assert bot.fake.channel_messages() == []


async def test_attachments_are_fetched_a_few_at_a_time_and_kept_in_their_order(bot: DiscordBot) -> None:
    files = [bot.fake.attachment(f"{n}.jpg", "image/jpeg", image("JPEG", (8 + n, 6))) for n in range(5)]
    for file in files:
        bot.fake.trickle_file(file, seconds_per_chunk=0.05)
    options = {f"media{n}": file for n, file in enumerate(files, start=1)}
    assert "Scheduled" in await bot.run("post", accounts="acc_1", when="in 3 hours", **options)
    assert bot.fake.most_downloads_at_once == UPLOADS_AT_ONCE  # side by side, but never all at once
    [body] = bot.creates()
    async with httpx.AsyncClient() as http:
        served = [(await http.get(url)).content for url in body["contentUrl"]]
    assert served == [bot.fake.files[int(file["id"])][0] for file in files]


async def test_a_command_that_outlasts_the_time_limit_is_stopped_with_a_message(
    bot: DiscordBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "COMMAND_TIME_LIMIT", 1.5)
    slow = bot.fake.attachment("launch.mp4", "video/mp4", MP4)
    bot.fake.trickle_file(slow, seconds_per_chunk=0.1)  # each read is quick; the whole takes over 3 seconds
    payload = bot.interact(bot.fake.slash("post", media1=slow, accounts="acc_1", when="9am"))
    answer = await bot.private_answer(payload)
    assert text_of(answer.body) == (
        "That took longer than 1.5 seconds, so I stopped it. Nothing was sent; send it again "
        "(links are quicker than uploads)."
    )
    assert bot.creates() == []
    assert await bot.runtime.ctx.storage.requests.get(1) is None  # nothing stored, as for any refused command
    await bot.fake.wait_for(lambda: not list((bot.runtime.ctx.settings.media_dir / ".incoming").iterdir()))


async def test_attachments_are_fetched_only_from_discord_hosts(bot: DiscordBot) -> None:
    data = bot.fake.attachment("clip.mp4", "video/mp4", MP4)
    attachment = bot.adapter.dispatcher.to_attachment(
        discord.Attachment(data=data, state=bot.adapter.client._connection)
    )
    assert (attachment.filename, attachment.url, attachment.content_type, attachment.size) == (
        "clip.mp4",
        data["url"],
        "video/mp4",
        len(MP4),
    )
    assert attachment.source is not None
    assert attachment.source.allowed_hosts == (
        "cdn.discordapp.com",
        "media.discordapp.net",
        f"127.0.0.1:{bot.fake.port}",  # DISCORD_API_URL's host: the test double serves the files too
    )
    assert attachment.source.bearer_token is None


# Autocomplete


async def test_accounts_autocomplete_offers_the_next_account(bot: DiscordBot) -> None:
    payload = bot.interact(bot.fake.autocomplete("post", "accounts", accounts="acc_123, br"))
    assert await bot.callback(payload) == {
        "type": 8,
        "data": {
            "choices": [{"name": "acc_123, Brand Instagram (@brand-ig) on Instagram", "value": "acc_123, acc_456"}]
        },
    }
    assert bot.fake.answers(payload) == []


async def test_accounts_autocomplete_puts_the_channel_defaults_first(bot: DiscordBot) -> None:
    await bot.run("accounts", user=ADMIN, arguments="default acc_1")
    payload = bot.interact(bot.fake.autocomplete("post", "accounts", accounts=""))
    choices = (await bot.callback(payload))["data"]["choices"]
    assert [c["value"] for c in choices] == ["acc_1", "acc_123", "acc_456"]


async def test_accounts_autocomplete_offers_aliases_too(bot: DiscordBot) -> None:
    await bot.run("accounts", user=ADMIN, arguments="alias launch acc_456")
    payload = bot.interact(bot.fake.autocomplete("post", "accounts", accounts="acc_123, lau"))
    assert (await bot.callback(payload))["data"]["choices"] == [
        {"name": "acc_123, launch: Brand Instagram (@brand-ig) on Instagram", "value": "acc_123, launch"}
    ]
    chosen = bot.interact(bot.fake.autocomplete("post", "accounts", accounts="launch, "))
    offered = [c["value"] for c in (await bot.callback(chosen))["data"]["choices"]]
    assert "launch, acc_456" not in offered  # the account the alias names is chosen already
    assert "launch, acc_123" in offered


async def test_timezone_autocomplete_offers_zone_names(bot: DiscordBot) -> None:
    payload = bot.interact(bot.fake.autocomplete("timezone", "zone", zone="paris"))
    assert await bot.callback(payload) == {
        "type": 8,
        "data": {"choices": [{"name": "Europe/Paris", "value": "Europe/Paris"}]},
    }


async def test_accounts_autocomplete_answers_in_time_when_discord_is_slow_to_give_roles(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=False) as bot:
        fake_discord.delay("GET", f"/guilds/{GUILD_ID}", seconds=3.5)
        payload = bot.interact(fake_discord.autocomplete("post", "accounts", accounts=""))
        assert await bot.callback(payload) == {"type": 8, "data": {"choices": []}}
        assert fake_discord.calls("GET", f"/guilds/{GUILD_ID}")


def test_account_choices_skip_what_is_typed_and_stay_within_discord_limits() -> None:
    accounts = tuple(Account(id=f"acc_{n}", platform="tiktok", name=f"Brand {n}") for n in range(40))
    form = PostForm(accounts=accounts, defaults=("acc_7",))
    choices = account_choices(form, "")
    assert len(choices) == 25
    assert choices[0].value == "acc_7"
    assert [c.value for c in account_choices(form, "acc_1 acc_2,acc_3")] == [
        "acc_1, acc_2, acc_3",
        *[f"acc_1, acc_2, acc_{n}" for n in range(30, 40)],
    ]
    long_prefix = ", ".join(f"acc_{n}" for n in range(12))
    assert all(len(c.value) <= 100 and len(c.name) <= 100 for c in account_choices(form, long_prefix + ", "))


# The message command and its form


async def test_message_command_opens_a_form_and_schedules_the_messages_files(bot: DiscordBot) -> None:
    await bot.run("accounts", user=ADMIN, arguments="default acc_456")
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
    target = bot.fake.message(channel_id=CHANNEL_ID, author=BOB, content="our launch video", attachments=[video])
    opened = bot.interact(bot.fake.message_command("Schedule as post", target))
    modal = await bot.callback(opened)
    assert modal["type"] == 9  # the form is the first response: it cannot come after a deferral
    form = modal["data"]
    assert form["title"] == "Schedule as post"
    assert form["custom_id"].startswith("post:form:")
    fields = {c["component"]["custom_id"]: c for c in form["components"]}
    assert [c["type"] for c in form["components"]] == [18, 18, 18]  # labels around text inputs
    assert fields["accounts"]["component"]["value"] == "acc_456"  # the channel's defaults, ready to change
    assert fields["caption"]["component"]["style"] == 2
    submitted = bot.interact(bot.fake.submit(form, {"when": "tomorrow noon", "caption": "From the message"}))
    assert await bot.callback(submitted) == {"type": 5, "data": {"flags": EPHEMERAL}}
    answer = await bot.answer(submitted)
    assert "Scheduled for Sun 29 November 2026, 12:00 EST" in text_of(answer.body), text_of(answer.body)
    [body] = bot.creates()
    assert (body["accountIds"], body["caption"], body["scheduledTime"]) == (
        ["acc_456"],
        "From the message",
        "2026-11-29T17:00:00Z",
    )
    async with httpx.AsyncClient() as http:
        assert (await http.get(body["contentUrl"])).content == MP4


async def open_form(bot: DiscordBot) -> dict[str, Any]:
    """Alice picks "Schedule as post" on a message with a video; returns the form the bot opened."""
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
    target = bot.fake.message(channel_id=CHANNEL_ID, author=BOB, attachments=[video])
    modal = await bot.callback(bot.interact(bot.fake.message_command("Schedule as post", target)))
    assert modal["type"] == 9
    form: dict[str, Any] = modal["data"]
    return form


async def test_a_form_submitted_after_a_restart_is_told_it_expired(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        form = await open_form(bot)
    async with start_bot(settings, fake_discord, sandbox, clock) as restarted:
        submitted = restarted.interact(fake_discord.submit(form, {"accounts": "acc_1", "when": "9am"}))
        callback = await restarted.callback(submitted)
        assert (callback["type"], callback["data"]["flags"], callback["data"]["content"]) == (
            4,
            EPHEMERAL,
            FORM_EXPIRED,
        )
        assert restarted.creates() == []
        assert fake_discord.downloads == []


async def test_a_form_submitted_after_it_timed_out_is_told_it_expired(
    bot: DiscordBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components, "FORM_TIMEOUT", 0.2)
    form = await open_form(bot)
    await asyncio.sleep(0.5)
    submitted = bot.interact(bot.fake.submit(form, {"accounts": "acc_1", "when": "9am"}))
    assert (await bot.callback(submitted))["data"]["content"] == FORM_EXPIRED
    assert bot.creates() == []


async def test_a_form_submitted_again_while_the_first_is_handled_posts_once(bot: DiscordBot) -> None:
    bot.sandbox.state.faults = [Fault(kind="latency", route="create", seconds=0.5)]
    form = await open_form(bot)
    first = bot.interact(bot.fake.submit(form, {"accounts": "acc_1", "when": "9am"}))
    assert (await bot.callback(first))["type"] == 5
    second = bot.interact(bot.fake.submit(form, {"accounts": "acc_1", "when": "9am"}))
    callback = await bot.callback(second)
    assert (callback["type"], callback["data"]["flags"], callback["data"]["content"]) == (
        4,
        EPHEMERAL,
        FORM_ALREADY_SENT,
    )
    assert "Scheduled" in text_of((await bot.answer(first)).body)
    assert len(bot.creates()) == 1


async def test_message_command_on_a_message_without_files_explains_at_once(bot: DiscordBot) -> None:
    target = bot.fake.message(channel_id=CHANNEL_ID, author=BOB, content="just text")
    payload = bot.interact(bot.fake.message_command("Schedule as post", target))
    callback = await bot.callback(payload)
    assert (callback["type"], callback["data"]["flags"], callback["data"]["content"]) == (4, EPHEMERAL, NO_FILES)


async def test_message_command_refuses_someone_who_may_not_post_before_the_form(bot: DiscordBot) -> None:
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
    target = bot.fake.message(channel_id=CHANNEL_ID, author=ALICE, attachments=[video])
    payload = bot.interact(bot.fake.message_command("Schedule as post", target, user=BOB))
    assert await bot.callback(payload) == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert "You are not allowed to schedule posts here" in text_of((await bot.answer(payload)).body)
    assert bot.fake.downloads == []


async def test_message_command_answers_in_time_when_discord_is_slow_to_give_roles(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=False) as bot:
        fake_discord.delay("GET", f"/guilds/{GUILD_ID}", seconds=3.5)
        video = fake_discord.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
        target = fake_discord.message(channel_id=CHANNEL_ID, author=ALICE, attachments=[video])
        payload = bot.interact(fake_discord.message_command("Schedule as post", target))
        callback = await bot.callback(payload)
        assert (callback["type"], callback["data"]["flags"], callback["data"]["content"]) == (4, EPHEMERAL, BUSY)
        assert fake_discord.calls("GET", f"/guilds/{GUILD_ID}")
        assert fake_discord.downloads == []


# Confirmation buttons


async def preview_of(bot: DiscordBot, **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send a /post and return its preview message as Discord stores it, and the preview's answer body."""
    return await message_of(bot, bot.interact(bot.fake.slash("post", **options)))


async def test_confirm_buttons_send_once_and_only_for_the_author(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, confirm_posts=True)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        preview, body = await preview_of(
            bot, url="https://e.com/v.mp4", accounts="acc_1", when="friday 9am", caption="Ready?"
        )
        assert preview["flags"] & EPHEMERAL
        assert body["embeds"][0]["title"] == "Schedule this post? (request #1)"
        assert {f["name"]: f["value"] for f in body["embeds"][0]["fields"]}["Caption"] == "Ready?"
        [row] = body["components"]
        assert [(b["label"], b["custom_id"].rsplit(":", 1)[0]) for b in row["components"]] == [
            ("Schedule", f"post:confirm:{ALICE}"),
            ("Cancel", f"post:discard:{ALICE}"),
        ]
        assert bot.creates() == []
        before = copy.deepcopy(preview)

        other = bot.interact(bot.fake.press(preview, "Schedule", user=BOB))
        assert await bot.callback(other) == {"type": 5, "data": {"flags": EPHEMERAL}}
        assert "Only Alice can confirm or cancel their post" in text_of((await bot.answer(other)).body)
        assert bot.creates() == []

        press = bot.interact(bot.fake.press(preview, "Schedule"))
        assert await bot.callback(press) == {"type": 6}  # the preview itself becomes the answer
        edit = await bot.answer(press)
        assert (edit.method, edit.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")
        assert "Scheduled for" in text_of(edit.body)
        assert edit.body["components"] == []
        assert bot.fake.messages[int(preview["id"])]["components"] == []
        assert len(bot.creates()) == 1

        again = bot.interact(bot.fake.press(before, "Schedule"))  # a client still showing the old buttons
        assert "already scheduled" in text_of((await bot.answer(again)).body)
        assert len(bot.creates()) == 1


async def test_a_preview_of_uploads_is_scheduled_with_the_uploads(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, confirm_posts=True)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        video = fake_discord.attachment("launch.mp4", "video/mp4", MP4)
        preview, _ = await preview_of(bot, media1=video, accounts="acc_1", when="friday 9am")
        stored = await bot.runtime.ctx.storage.requests.get(1)
        assert stored is not None
        assert (stored.state, stored.request.media_keys != ("",)) == ("awaiting_confirmation", True)
        press = bot.interact(fake_discord.press(preview, "Schedule"))
        assert "Scheduled for" in text_of((await bot.answer(press)).body)
        [body] = bot.creates()
        async with httpx.AsyncClient() as http:
            assert (await http.get(body["contentUrl"])).content == MP4


async def test_cancel_button_drops_the_preview(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, confirm_posts=True)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        preview, _ = await preview_of(bot, url="https://e.com/v.mp4", accounts="acc_1", when="friday 9am")
        press = bot.interact(bot.fake.press(preview, "Cancel"))
        assert "Dropped request #1. Nothing was sent." in text_of((await bot.answer(press)).body)
        assert bot.creates() == []


async def test_preview_buttons_still_work_after_a_restart(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, confirm_posts=True)
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        preview, _ = await preview_of(bot, url="https://e.com/v.mp4", accounts="acc_1", when="friday 9am")
    async with start_bot(settings, fake_discord, sandbox, clock) as restarted:
        press = restarted.interact(fake_discord.press(preview, "Schedule"))
        assert "Scheduled for" in text_of((await restarted.answer(press)).body)
        assert len(restarted.creates()) == 1


# Only the operator's servers


@pytest.mark.parametrize(
    ("name", "options", "user"),
    [
        ("post", {"url": "https://e.com/v.mp4", "accounts": "acc_1", "when": "9am"}, ADMIN),  # Manage Server there
        ("accounts", {}, ALICE),  # would list every account behind the key
        ("accounts", {"arguments": "default acc_1"}, ADMIN),
        ("help", {}, ALICE),
        ("timezone", {"zone": "Europe/Paris"}, ALICE),
    ],
)
async def test_a_server_the_operator_did_not_name_gets_one_sentence_and_nothing_else(
    bot: DiscordBot, name: str, options: dict[str, Any], user: int
) -> None:
    payload = bot.interact(bot.fake.slash(name, user=user, guild=STRANGER_GUILD, **options))
    callback = await bot.callback(payload)
    assert callback["type"] == 4  # answered at once, not deferred: there is nothing to work on
    assert (callback["data"]["flags"], callback["data"]["content"]) == (EPHEMERAL, NotSetUp.default_message)
    assert NotSetUp.default_message == "This server or workspace is not set up for this bot; ask whoever runs it."
    await asyncio.sleep(0.2)
    assert bot.fake.answers(payload) == []
    assert bot.creates() == []
    assert [r for r in bot.sandbox.state.received if r.path.startswith("/v1/")] == []  # not even the accounts
    assert (
        channel_request_ids(
            bot.runtime.ctx.settings.database,
            ChannelRef(platform="discord", workspace_id=str(STRANGER_GUILD), channel_id=str(CHANNEL_ID)),
        )
        == []
    )
    assert audit_entries(bot.runtime.ctx.settings.database) == []


async def test_a_server_the_operator_did_not_name_gets_no_account_choices_and_no_form(bot: DiscordBot) -> None:
    completing = bot.interact(bot.fake.autocomplete("post", "accounts", guild=STRANGER_GUILD, accounts=""))
    assert await bot.callback(completing) == {"type": 8, "data": {"choices": []}}
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
    target = bot.fake.message(channel_id=CHANNEL_ID, author=ALICE, attachments=[video])
    opened = bot.interact(bot.fake.message_command("Schedule as post", target, user=ADMIN, guild=STRANGER_GUILD))
    callback = await bot.callback(opened)
    assert (callback["type"], callback["data"]["content"]) == (4, NotSetUp.default_message)
    assert bot.fake.downloads == []
    assert [r for r in bot.sandbox.state.received if r.path.startswith("/v1/")] == []


async def test_with_global_commands_only_the_allowed_servers_are_served(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(
        tmp_path, fake_discord, sandbox, discord_guild_ids="", discord_allowed_guild_ids=f"{GUILD_ID}"
    )
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        assert fake_discord.calls("PUT", f"/applications/{APP_ID}/commands")  # registered globally
        assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
        stranger = bot.interact(fake_discord.slash("help", guild=STRANGER_GUILD))
        assert (await bot.callback(stranger))["data"]["content"] == NotSetUp.default_message


async def test_with_no_server_named_no_server_is_served(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_guild_ids=())
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        assert "no server may use the bot: list the operator's servers in DISCORD_GUILD_IDS" in caplog.text
        payload = bot.interact(fake_discord.slash("post", url="https://e.com/v.mp4", accounts="acc_1"))
        assert (await bot.callback(payload))["data"]["content"] == NotSetUp.default_message
        assert bot.creates() == []


# Who may do what


@pytest.mark.parametrize(
    ("roles", "guild_cached", "user", "allowed"),
    [
        (f"{POSTER_ROLE}, 42", True, ALICE, True),  # a poster role, by name (DISCORD_POSTER_ROLES as written)
        (POSTER_ROLE.upper(), True, ALICE, True),  # names match in any case
        (str(POSTER_ROLE_ID), True, ALICE, True),  # or by ID
        (POSTER_ROLE, False, ALICE, True),  # the server is not cached yet: roles come from the REST API
        (str(POSTER_ROLE_ID), False, ALICE, True),
        ("Social", True, ALICE, False),  # one word of a role's name is not the role
        (POSTER_ROLE, True, BOB, False),  # no poster role
        ("", True, ALICE, False),  # no poster role configured: admins only
        ("", True, ADMIN, True),  # Manage Server
    ],
)
async def test_who_may_post(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    roles: str,
    guild_cached: bool,
    user: int,
    allowed: bool,
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_poster_roles=roles)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=guild_cached) as bot:
        text = await bot.run("post", user=user, url="https://e.com/v.mp4", accounts="acc_1", when="9am")
        if allowed:
            assert "Scheduled for" in text
        else:
            assert text == (
                "You are not allowed to schedule posts here. Ask an admin of this workspace or server for access."
            )
            assert bot.creates() == []
        assert bool(fake_discord.calls("GET", f"/guilds/{GUILD_ID}")) == (not guild_cached)


NOT_A_POSTER = "You are not allowed to schedule posts here. Ask an admin of this workspace or server for access."


@pytest.mark.parametrize("guild_cached", [True, False])
async def test_a_role_named_like_a_poster_role_id_grants_nothing(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock, guild_cached: bool
) -> None:
    impostor = POSTER_ROLE_ID + 8
    fake_discord.add_role(impostor, str(POSTER_ROLE_ID))  # Bob, with Manage Roles, names a role like the ID
    fake_discord.users[BOB]["roles"] = [impostor]
    settings = discord_settings(tmp_path, fake_discord, sandbox, discord_poster_roles=str(POSTER_ROLE_ID))
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=guild_cached) as bot:
        assert await bot.run("post", user=BOB, url="https://e.com/v.mp4", accounts="acc_1", when="9am") == NOT_A_POSTER
        assert "Scheduled" in await bot.run("post", user=ALICE, url="https://e.com/v.mp4", accounts="acc_1")
        assert len(bot.creates()) == 1


async def test_a_role_renamed_over_the_gateway_stops_counting_at_once(bot: DiscordBot) -> None:
    assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
    renamed = {**bot.fake.roles[1], "name": "Former Social Team"}
    bot.adapter.client._connection.parse_guild_role_update({"guild_id": str(GUILD_ID), "role": renamed})
    assert await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am") == NOT_A_POSTER
    assert len(bot.creates()) == 1


async def test_roles_read_over_rest_are_read_again_after_a_minute(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=False) as bot:
        seconds = [0.0]
        bot.adapter.dispatcher.people = DiscordPeople(poster_roles=(POSTER_ROLE,), monotonic=lambda: seconds[0])
        assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
        fake_discord.roles[1]["name"] = "Former Social Team"  # renamed while the gateway had not sent the server
        seconds[0] = 61.0
        assert await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am") == NOT_A_POSTER
        assert len(bot.creates()) == 1


async def test_channel_defaults_need_manage_server(bot: DiscordBot) -> None:
    refused = await bot.run("accounts", user=ALICE, arguments="default acc_1")
    assert refused == "Only an admin can change this channel's accounts and aliases."
    assert "Posts from this channel go to `acc_1`" in await bot.run("accounts", user=ADMIN, arguments="default acc_1")
    assert "Scheduled" in await bot.run("post", user=ALICE, url="https://e.com/v.mp4", when="9am")
    assert bot.creates()[0]["accountIds"] == ["acc_1"]


# Channel notices


async def test_an_announcement_discord_refuses_is_told_to_the_author_by_direct_message(bot: DiscordBot) -> None:
    bot.fake.fail("POST", f"/channels/{CHANNEL_ID}/messages", status=403, code=50013, message="Missing Permissions")
    await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am")
    [opened] = await bot.fake.wait_for(lambda: bot.fake.calls("POST", "/users/@me/channels"))
    assert opened.body == {"recipient_id": ALICE}
    dm = bot.fake.dm_channels[ALICE]
    [sent] = await bot.fake.wait_for(lambda: bot.fake.calls("POST", f"/channels/{dm}/messages"))
    assert sent.body["content"] == (
        f"I scheduled request #1, but could not announce it in <#{CHANNEL_ID}>: Discord refused it (403, code 50013): "
        "the bot lacks a permission there: give it Send Messages, Embed Links and Read Message History. "
        "`/posts` there still shows it."
    )


@pytest.mark.parametrize(
    ("status", "code", "retryable", "retry_after", "says"),
    [
        (429, 0, True, 60.0, "rate limiting"),
        (403, 50001, False, None, "give it View Channel there"),
        (404, 10003, False, None, "the channel does not exist"),
        (400, 50035, False, None, "message layout"),
        (403, 0, False, None, "the bot may not post there"),
    ],
)
async def test_discord_refusals_become_delivery_errors(
    bot: DiscordBot, status: int, code: int, retryable: bool, retry_after: float | None, says: str
) -> None:
    bot.fake.fail("POST", f"/channels/{CHANNEL_ID}/messages", status=status, code=code, retry_after=retry_after)
    notice, channel = _notice_in_channel(NoticeKind.POSTED)
    with pytest.raises(DeliveryError) as raised:
        await bot.adapter.messenger.send(channel, [notice], thread=None, ids=[7])
    assert (raised.value.retryable, raised.value.retry_after) == (retryable, retry_after)
    assert says in raised.value.user_message


async def test_a_failed_post_notice_pings_only_its_author(bot: DiscordBot) -> None:
    notice, channel = _notice_in_channel(NoticeKind.FAILED, caption="@here look")
    ref = await bot.adapter.messenger.send(channel, [notice], thread=None, ids=[12])
    [sent] = bot.fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    assert sent.body["content"] == f"<@{ALICE}>"
    assert sent.body["allowed_mentions"] == {"parse": [], "users": [ALICE]}
    assert ref == MessageRef(channel_id=str(CHANNEL_ID), message_id=bot.fake.channel_messages()[0]["id"])


async def test_a_notice_sent_again_after_a_crash_is_still_one_message(bot: DiscordBot) -> None:
    notice, channel = _notice_in_channel(NoticeKind.POSTED)
    first = await bot.adapter.messenger.send(channel, [notice], thread=None, ids=[31, 30])
    assert await bot.adapter.messenger.find(channel, 30, thread=None) == first
    again = await bot.adapter.messenger.send(channel, [notice], thread=None, ids=[30])
    assert again == first
    assert [r.body["nonce"] for r in bot.fake.calls("POST", "/channels/{}/messages")] == ["notice-30", "notice-30"]
    assert all(r.body["enforce_nonce"] is True for r in bot.fake.calls("POST", "/channels/{}/messages"))
    assert len(bot.fake.channel_messages()) == 1


# Rendering within Discord's limits


def test_long_replies_become_embeds_within_discord_limits() -> None:
    long = "\n".join(f"#{n} video · Sat 28 November 2026, 10:00 EST · by Alice · scheduled" for n in range(200))
    rendered = reply_message(Reply(text=long))
    assert rendered.content is None
    assert all(len(e.description or "") <= DESCRIPTION_LIMIT for e in rendered.embeds)
    assert sum(len(e.description or "") for e in rendered.embeds) <= TOTAL_LIMIT
    assert rendered.embeds[0].description.startswith("#0 video")  # type: ignore[union-attr]
    fields = tuple((f"Field {n}", "x" * 2000) for n in range(30))
    embed = reply_message(Reply(text="Schedule this post?", fields=fields)).embeds[0]
    assert len(embed.fields) <= 25
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed) <= TOTAL_LIMIT


async def test_an_accounts_option_takes_quoted_names_with_spaces(bot: DiscordBot) -> None:
    said = await bot.run("post", url="https://e.com/v.mp4", accounts='"Brand Instagram", acc_123', when="9am")
    assert "Scheduled" in said, said
    assert bot.creates()[0]["accountIds"] == ["acc_456", "acc_123"]


@pytest.mark.parametrize(
    "accounts", ['"Brand TikTok", acc_1', "acc_1,acc_2  brand", "acc_1 and acc_2", "“Brand Instagram” @brand-tiktok"]
)
def test_an_accounts_option_is_read_as_the_post_commands_accounts(accounts: str) -> None:
    assert to_draft(accounts=accounts).accounts == parse_post(f"https://e.com/v.mp4 to {accounts}").accounts


async def test_an_accounts_option_with_a_quote_never_closed_says_how_to_quote_a_name(bot: DiscordBot) -> None:
    payload = bot.interact(bot.fake.slash("post", url="https://e.com/v.mp4", accounts='"Brand Instagram, acc_1'))
    callback = await bot.callback(payload)
    assert callback["type"] == 4  # answered at once: the options cannot be read
    said = callback["data"]["content"]
    assert 'A quote (") is never closed. Put a name with spaces between two quotes' in said, said
    assert "caption" not in said  # the option holds names only
    assert bot.creates() == []


def test_typed_options_become_a_draft() -> None:
    draft = to_draft(
        accounts="acc_1,acc_2  brand",
        when="  tomorrow 9am ",
        url="https://e.com/1.jpg\nhttps://e.com/2.jpg",
        caption="  hi ",
    )
    assert draft.accounts == ("acc_1", "acc_2", "brand")
    assert draft.media == ("https://e.com/1.jpg", "https://e.com/2.jpg")
    assert draft.when == "tomorrow 9am"
    assert draft.caption == "  hi "


# The invite link


def test_invite_url_names_the_application_scopes_and_permissions() -> None:
    assert application_id(BOT_TOKEN) == APP_ID
    url = invite_url(APP_ID)
    assert url == (
        f"https://discord.com/oauth2/authorize?client_id={APP_ID}&scope=bot+applications.commands"
        f"&permissions={PERMISSIONS.value}"
    )
    assert (
        discord.Permissions(
            view_channel=True,
            send_messages=True,
            send_messages_in_threads=True,
            embed_links=True,
            read_message_history=True,
        )
        == PERMISSIONS
    )
    with pytest.raises(ValueError, match="application ID"):
        application_id("not a token")


async def test_a_notice_can_be_found_after_a_crash_long_after_its_nonce_expired(bot: DiscordBot) -> None:
    notice, channel = _notice_in_channel(NoticeKind.POSTED)
    sent = await bot.adapter.messenger.send(channel, [notice, notice], thread=None, ids=[41, 42])
    for message in bot.fake.messages.values():
        message.pop("nonce", None)  # Discord forgets nonces after a few minutes
    assert await bot.adapter.messenger.find(channel, 42, thread=None) == sent
    assert await bot.adapter.messenger.find(channel, 4, thread=None) is None
    assert text_of(bot.fake.channel_messages()[0])  # a normal message people can read
    assert bot.fake.channel_messages()[0]["embeds"][0]["footer"]["text"] == "ref n41 n42"


def _notice_in_channel(kind: NoticeKind, caption: str | None = None) -> tuple[Notice, ChannelRef]:
    """A notice about Alice's one-video post, and the test guild's channel it goes to."""
    notice = Notice(
        kind=kind,
        request_id=1,
        author_id=str(ALICE),
        author_name="Alice",
        content_type="video",
        media_count=1,
        caption=caption,
        scheduled_time=None,
        items=(NoticeItem(account="Demo TikTok", status=kind.value),),
    )
    return notice, ChannelRef(platform="discord", workspace_id=str(GUILD_ID), channel_id=str(CHANNEL_ID))


# Discord errors that are not JSON: what a proxy or Cloudflare in front of Discord answers


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]


@pytest.mark.parametrize(
    ("status", "text", "content_type", "retryable", "says"),
    [
        (503, UPSTREAM, "text/plain", True, "Discord failed (503)"),
        (403, BLOCKED, "text/html", False, "the bot may not post there"),
        (429, BLOCKED, "text/html", True, "rate limiting"),
    ],
)
async def test_a_notice_refused_with_a_body_that_is_not_json_is_a_clear_delivery_error(
    bot: DiscordBot,
    caplog: pytest.LogCaptureFixture,
    status: int,
    text: str,
    content_type: str,
    retryable: bool,
    says: str,
) -> None:
    notice, channel = _notice_in_channel(NoticeKind.POSTED)
    messenger = bot.adapter.messenger
    sent = await messenger.send(channel, [notice], thread=None, ids=[1])
    for method, path in (("POST", "/channels/{}/messages"), ("PATCH", "/channels/{}/messages/{}")):
        bot.fake.fail(method, path, status=status, text=text, content_type=content_type)
    with pytest.raises(DeliveryError) as refused:
        await messenger.send(channel, [notice], thread=None, ids=[2])
    assert (refused.value.retryable, says in refused.value.user_message) == (retryable, True)
    with pytest.raises(DeliveryError) as edit_refused:
        await messenger.edit(sent, notice, channel=channel)
    assert edit_refused.value.retryable == retryable
    bot.fake.fail("POST", "/users/@me/channels", status=status, text=text, content_type=content_type)
    with pytest.raises(DeliveryError):
        await messenger.warn_author(channel, notice, "a problem")
    bot.fake.fail("GET", "/channels/{}/messages", status=status, text=text, content_type=content_type)
    assert await messenger.find(channel, 1, thread=None) is None  # cannot tell: looked for again later
    no_tracebacks(caplog)


async def test_commands_refused_registration_with_a_body_that_is_not_json_are_logged_and_skipped(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_discord.fail("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", status=403, text=BLOCKED)
    async with start_bot(discord_settings(tmp_path, fake_discord, sandbox), fake_discord, sandbox, clock):
        assert f"could not register the commands in server {GUILD_ID}" in caplog.text
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "logged"),
    [
        ("POST", "/interactions/{}/{}/callback", 403, {}, "could not acknowledge an interaction (HTTP 403, code 0)"),
        ("PATCH", "/webhooks/{}/{}/messages/@original", 403, {}, "could not send an answer (HTTP 403, code 0)"),
        # Cloudflare's HTML 429 behind Google's front: discord.py's interaction client reads it as JSON, and fails.
        ("PATCH", "/webhooks/{}/{}/messages/@original", 429, {"Via": "1.1 google"}, "send an answer (TypeError)"),
        ("POST", "/interactions/{}/{}/callback", 429, {"Via": "1.1 google"}, "acknowledge an interaction (TypeError)"),
    ],
)
async def test_an_interaction_refused_with_a_body_that_is_not_json_ends_with_one_log_line(
    bot: DiscordBot,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    status: int,
    headers: dict[str, str],
    logged: str,
) -> None:
    bot.fake.fail(method, path, status=status, text=BLOCKED, content_type="text/html", headers=headers)
    bot.interact(bot.fake.slash("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am"))
    await bot.fake.wait_for(lambda: logged in caplog.text)
    await asyncio.sleep(0.2)
    no_tracebacks(caplog)


async def test_roles_refused_with_a_body_that_is_not_json_count_for_nothing_but_admins_still_may(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox)
    async with start_bot(settings, fake_discord, sandbox, clock, guild_cached=False) as bot:
        fake_discord.fail("GET", f"/guilds/{GUILD_ID}", status=503, text=UPSTREAM)
        assert await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="9am") == NOT_A_POSTER
        assert "Scheduled" in await bot.run("post", user=ADMIN, url="https://e.com/v.mp4", accounts="acc_1")
        assert f"could not read the roles of server {GUILD_ID} (HTTP 503)" in caplog.text
    no_tracebacks(caplog)


async def test_a_form_refused_with_a_body_that_is_not_json_is_logged_and_forgotten(
    bot: DiscordBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail("POST", "/interactions/{}/{}/callback", status=403, text=BLOCKED, content_type="text/html")
    video = bot.fake.attachment("launch.mp4", "video/mp4", MP4, ephemeral=False)
    target = bot.fake.message(channel_id=CHANNEL_ID, author=BOB, attachments=[video])
    bot.interact(bot.fake.message_command("Schedule as post", target))
    await bot.fake.wait_for(lambda: "could not open the post form (HTTP 403, code 0)" in caplog.text)
    assert bot.adapter.client.open_forms == set()
    no_tracebacks(caplog)


async def test_cancelling_several_posts_is_asked_with_buttons(bot: DiscordBot) -> None:
    await bot.run("post", url="https://e.com/v.mp4", accounts="acc_123, acc_456", when="friday 9am")
    question, body = await message_of(bot, bot.interact(bot.fake.slash("cancel", target="#1")))
    assert "Cancel these 2 posts of request #1?" in text_of(body)
    [row] = body["components"]
    assert [b["label"] for b in row["components"]] == ["Cancel them", "Keep them"]
    assert len(bot.sandbox.state.posts) == 2
    press = bot.interact(bot.fake.press(question, "Cancel them"))
    assert await bot.callback(press) == {"type": 6}
    assert text_of((await bot.answer(press)).body).count("Cancelled `post_") == 2
    assert bot.sandbox.state.posts == {}


async def message_of(bot: DiscordBot, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The private message an interaction was answered with, as Discord stores it, and the answer's body."""
    answer = await bot.answer(payload)
    stored = next(
        m for m in bot.fake.messages.values() if (m.get("interaction_metadata") or {}).get("id") == payload["id"]
    )
    return stored, answer.body


async def test_a_long_queue_ends_with_a_more_button_and_posts_takes_its_filters(bot: DiscordBot) -> None:
    for day in range(1, 13):
        await bot.run(
            "post", url=f"https://e.com/v{day}.mp4", accounts="acc_1", when=f"in {day} days", caption=f"d{day}"
        )
    await bot.run("post", url="https://e.com/w.mp4", accounts="acc_123", when="in 1 hour", caption="brand")
    message, body = await message_of(bot, bot.interact(bot.fake.slash("posts", show="upcoming", account="acc_1")))
    assert "…and 2 more" in text_of(body)
    assert "“brand”" not in text_of(body)
    [row] = body["components"]
    assert [b["label"] for b in row["components"]] == ["More"]
    press = bot.interact(bot.fake.press(message, "More"))
    assert await bot.callback(press) == {"type": 6}  # the page turns in place
    turned = text_of((await bot.answer(press)).body)
    assert "“d11”" in turned
    assert "“d12”" in turned
    assert "“d1”" not in turned


# /infinipost: the server's own Infinipost key

SERVER_KEY = "sk_live_discordServerKey4Hk8"


async def test_an_admin_connects_the_servers_key_in_a_form_and_its_posts_use_it(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = discord_settings(tmp_path, fake_discord, sandbox, encryption_key=Fernet.generate_key().decode())
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        opened = bot.interact(bot.fake.slash("infinipost", user=ADMIN, action="connect"))
        modal = await bot.callback(opened)
        assert modal["type"] == 9  # the form is the first response
        form = modal["data"]
        assert [c["component"]["custom_id"] for c in form["components"]] == ["key"]
        submitted = bot.interact(bot.fake.submit(form, {"key": SERVER_KEY}, user=ADMIN))
        assert await bot.callback(submitted) == {"type": 5, "data": {"flags": EPHEMERAL}}
        answer = text_of((await bot.answer(submitted)).body)
        assert "own Infinipost key (…4Hk8)" in answer

        assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="in 1 hour")
        creates = [r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
        assert [r.authorization for r in creates] == [f"Bearer {SERVER_KEY}"]
        clock.advance(hours=1, minutes=1)
        await Tracker(bot.runtime.ctx).cycle()
        reads = [r for r in sandbox.state.received if r.method == "GET" and r.path.startswith("/v1/posts/")]
        assert {r.authorization for r in reads} == {f"Bearer {SERVER_KEY}"}

        assert "…4Hk8" in await bot.run("infinipost")
        assert "default key" in await bot.run("infinipost", user=ADMIN, action="disconnect")
        await bot.run("post", url="https://e.com/w.mp4", accounts="acc_1", when="in 2 hours")
        assert sandbox.state.received[-1].authorization == "Bearer sk_test_key"
        seen = str([r.body for r in fake_discord.requests])
        assert SERVER_KEY not in seen
        assert SERVER_KEY not in caplog.text


async def test_a_member_without_manage_server_gets_no_key_form(
    tmp_path: Path, fake_discord: FakeDiscord, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = discord_settings(tmp_path, fake_discord, sandbox, encryption_key=Fernet.generate_key().decode())
    async with start_bot(settings, fake_discord, sandbox, clock) as bot:
        opened = bot.interact(bot.fake.slash("infinipost", user=ALICE, action="connect"))
        callback = await bot.callback(opened)
        assert callback["type"] == 4  # an answer, not a form
        assert "Only a workspace or server admin" in callback["data"]["content"]
        assert "Only a workspace or server admin" in await bot.run("infinipost", user=ALICE, action="disconnect")


async def test_without_an_encryption_key_connect_says_the_operator_must_set_it(bot: DiscordBot) -> None:
    callback = await bot.callback(bot.interact(bot.fake.slash("infinipost", user=ADMIN, action="connect")))
    assert callback["type"] == 4
    assert "BOT_ENCRYPTION_KEY" in callback["data"]["content"]


async def test_a_command_declared_without_options_takes_its_words_as_typed(bot: DiscordBot) -> None:
    said = await bot.run("slots", user=ADMIN, arguments="set mon-fri 9am")
    assert said.startswith("Posting slots (America/New_York): mon-fri 09:00.")


async def test_import_takes_a_csv_file_option_previews_it_and_schedules_its_rows(bot: DiscordBot) -> None:
    rows = "\r\n".join(
        ["media;accounts;when;caption"]
        + [f"https://e.com/{n}.mp4;acc_1;2026-12-0{n}T09:00;From a sheet {n}" for n in range(1, 4)]
        + ["https://e.com/4.mp4;nobody;2026-12-04T09:00;Nobody's"]
    )
    sheet = bot.fake.attachment("week.csv", "text/csv; charset=utf-8", ("\ufeff" + rows).encode())
    preview, body = await message_of(bot, bot.interact(bot.fake.slash("import", file=sheet)))
    shown = text_of(body)
    assert "Import 3 posts from `week.csv`?" in shown
    assert "Row 5: I don't know an account called `nobody`." in shown
    [row] = body["components"]
    assert [b["label"] for b in row["components"]] == ["Schedule", "Cancel"]
    assert bot.creates() == []

    press = bot.interact(bot.fake.press(preview, "Schedule"))
    done = text_of((await bot.answer(press)).body)
    assert "Imported `week.csv`: 3 of 3 posts scheduled." in done
    assert [c["caption"] for c in bot.creates()] == ["From a sheet 1", "From a sheet 2", "From a sheet 3"]


async def test_import_of_a_file_that_is_not_csv_is_refused_privately(bot: DiscordBot) -> None:
    video = bot.fake.attachment("clip.mp4", "video/mp4", MP4)
    text = await bot.run("import", file=video)
    assert "`clip.mp4` is not a CSV file." in text
    assert bot.creates() == []
