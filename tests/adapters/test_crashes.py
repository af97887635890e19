"""Real bot processes killed with SIGKILL and restarted on the same database: while an upload downloads, during a
create call, between Infinipost's answer and storing it, and during notice delivery. After the restart no post is
duplicated or lost, no notice is lost or repeated, whoever asked is told what became of their request, and the
database passes SQLite's integrity check."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import Fault, SandboxServer
from tests.fakes.discord import ALICE, CHANNEL_ID, POSTER_ROLE_ID, FakeDiscord, running_fake_discord
from tests.fakes.slack import FakeSlack, running_fake_slack, sign, slash_command
from tests.media.files import MP4
from tests.processes import BotProcess, free_port


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "profile": {}}
        yield fake


@pytest.fixture
async def live_sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:  # the real clock, like the bot process's
        yield server


def bot(tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, port: int) -> BotProcess:
    return BotProcess.on_slack(
        tmp_path,
        slack_api_url=fake.base_url,
        api_url=sandbox.url,
        port=port,
        BOT_CONFIRM_POSTS="false",
        BOT_POLL_SECONDS="0.3",
    )


async def post_now(fake: FakeSlack, port: int) -> None:
    await slack_command(fake, port, "/post", "https://e.com/v.mp4 to acc_1 now -- live", user="U1")


async def slack_command(fake: FakeSlack, port: int, command: str, text: str, *, user: str) -> None:
    body = slash_command(fake, command, text, user=user)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://127.0.0.1:{port}/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        )
    assert response.status_code == 200


def live_messages(fake: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake.of("chat.postMessage") if "Live now" in m["text"]]


def notice_states(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return list(db.execute("SELECT kind, state FROM notices ORDER BY id"))


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


async def test_a_notice_delivered_before_a_crash_is_not_delivered_again(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await post_now(fake_slack, port)
    await fake_slack.wait_for(lambda: live_messages(fake_slack))
    database = tmp_path / "data" / "bot.db"
    await fake_slack.wait_for(lambda: ("posted", "delivered") in notice_states(database))
    await first.kill()
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    # The announcement's edit may still be waiting (paced after the live notice) when the first bot died.
    await fake_slack.wait_for(lambda: all(state == "delivered" for _, state in notice_states(database)), timeout=15)
    await asyncio.sleep(2)  # many tracker (0.3 s) and outbox rounds of the restarted bot
    assert len(live_messages(fake_slack)) == 1
    assert await second.stop() == 0
    assert integrity(database) == "ok"


async def test_a_notice_pending_at_a_crash_is_delivered_once_after_the_restart(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await post_now(fake_slack, port)
    await fake_slack.wait_for(lambda: fake_slack.of("chat.postMessage"))  # the announcement
    fake_slack.fail("chat.postMessage", "ratelimited", times=10_000)  # Slack refuses everything for a while
    database = tmp_path / "data" / "bot.db"
    await fake_slack.wait_for(lambda: ("posted", "pending") in notice_states(database))
    await first.kill()
    fake_slack.failures.clear()
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await fake_slack.wait_for(lambda: live_messages(fake_slack), timeout=15)
    await asyncio.sleep(1)
    assert len(live_messages(fake_slack)) == 1
    assert await second.stop() == 0
    assert integrity(database) == "ok"


async def test_a_crash_while_slack_was_answering_does_not_repeat_the_notice(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await post_now(fake_slack, port)
    await fake_slack.wait_for(lambda: fake_slack.of("chat.postMessage"))  # the announcement
    fake_slack.delays["chat.postMessage"] = 30  # Slack posts the next message but answers late
    await fake_slack.wait_for(lambda: live_messages(fake_slack))
    await first.kill()  # ... and the bot dies before it hears back
    fake_slack.delays.clear()
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    database = tmp_path / "data" / "bot.db"
    await fake_slack.wait_for(lambda: all(state == "delivered" for _, state in notice_states(database)))
    await asyncio.sleep(1)
    assert len(live_messages(fake_slack)) == 1
    assert fake_slack.of("conversations.replies")  # it looked before sending again
    assert await second.stop() == 0
    assert integrity(database) == "ok"


def sandbox_creates(sandbox: SandboxServer) -> int:
    return len([r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")])


def request_state(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return str(db.execute("SELECT state FROM requests WHERE id = 1").fetchone()[0])


def stored_post_ids(path: Path) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT id FROM posts")}


async def assert_recovered(fake: FakeSlack, sandbox: SandboxServer, database: Path) -> None:
    """After a restart: the post Infinipost made is adopted once, announced once, and nothing was sent twice."""
    await fake.wait_for(lambda: request_state(database) == "sent", timeout=15)
    await fake.wait_for(lambda: [m for m in fake.of("chat.postMessage") if "after all" in m["text"]])
    assert sandbox_creates(sandbox) == 1
    assert stored_post_ids(database) == set(sandbox.state.posts)
    assert len([m for m in fake.of("chat.postMessage") if "scheduled a video" in m["text"]]) == 1
    assert integrity(database) == "ok"


async def test_killed_during_the_create_call(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    live_sandbox.state.faults = [Fault(kind="latency", route="create", seconds=1.0)]
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await post_now(fake_slack, port)
    await fake_slack.wait_for(lambda: sandbox_creates(live_sandbox) == 1)  # the call is on its way
    await first.kill()
    await fake_slack.wait_for(lambda: live_sandbox.state.posts)  # Infinipost finishes it anyway
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await assert_recovered(fake_slack, live_sandbox, tmp_path / "data" / "bot.db")
    assert await second.stop() == 0


async def test_killed_between_the_answer_and_storing_it(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    database = tmp_path / "data" / "bot.db"
    live_sandbox.state.faults = [Fault(kind="latency", route="create", seconds=1.0)]
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await post_now(fake_slack, port)
    await fake_slack.wait_for(lambda: sandbox_creates(live_sandbox) == 1)
    blocker = sqlite3.connect(database, timeout=10)
    blocker.execute("BEGIN EXCLUSIVE")  # the bot cannot store the answer it is about to get
    await fake_slack.wait_for(lambda: live_sandbox.state.posts)
    await asyncio.sleep(0.5)  # it has the answer and waits for the database
    await first.kill()
    blocker.rollback()
    blocker.close()
    assert request_state(database) == "sending"
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await assert_recovered(fake_slack, live_sandbox, database)
    assert await second.stop() == 0


async def test_killed_between_an_approval_and_the_create_the_post_is_neither_lost_nor_sent_twice(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    database = tmp_path / "data" / "bot.db"
    fake_slack.users["U2"] = {"id": "U2", "name": "bob", "tz": "UTC", "profile": {}}
    fake_slack.users["U9"] = {"id": "U9", "name": "ada", "tz": "UTC", "profile": {}, "is_admin": True}
    first = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await slack_command(fake_slack, port, "/approvals", "required by <@U2|bob>", user="U9")
    await slack_command(fake_slack, port, "/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- live", user="U1")
    await fake_slack.wait_for(lambda: request_state(database) == "awaiting_approval")
    live_sandbox.state.faults = [Fault(kind="latency", route="create", seconds=1.0)]
    await slack_command(fake_slack, port, "/approve", "#1", user="U2")
    await fake_slack.wait_for(lambda: sandbox_creates(live_sandbox) == 1)  # approved, and the create on its way
    await first.kill()
    assert request_state(database) == "sending"
    await fake_slack.wait_for(lambda: live_sandbox.state.posts)  # Infinipost finishes it anyway
    second = await bot(tmp_path, fake_slack, live_sandbox, port).start()
    await assert_recovered(fake_slack, live_sandbox, database)
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log WHERE request_id = 1 ORDER BY id")]
    assert actions[:2] == ["ask_approval", "approve"]
    assert await second.stop() == 0


# Discord: the author of a request the crash interrupted is told, in the channel, what became of it.


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as fake:
        yield fake


def discord_bot(tmp_path: Path, fake: FakeDiscord, sandbox: SandboxServer, port: int) -> BotProcess:
    return BotProcess(
        tmp_path,
        port,
        **fake.process_settings(),
        DISCORD_POSTER_ROLES=str(POSTER_ROLE_ID),
        BOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        INFINIPOST_API_KEY="sk_test_x",
        INFINIPOST_API_URL=sandbox.url,
        BOT_CONFIRM_POSTS="false",
        BOT_POLL_SECONDS="0.3",
    )


def said_in_channel(fake: FakeDiscord, words: str) -> list[dict[str, Any]]:
    """The bot's channel messages whose embed says `words`."""
    return [
        r.body
        for r in fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
        if any(words in (embed.get("description") or "") for embed in r.body.get("embeds") or [])
    ]


async def slash_post(fake: FakeDiscord, **options: Any) -> dict[str, Any]:
    payload = fake.slash("post", accounts="acc_1", **options)
    await fake.wait_for(lambda: fake.identifies)
    await fake.dispatches.put(("INTERACTION_CREATE", payload))
    await fake.wait_for(lambda: fake.callbacks(payload))  # deferred: "thinking…"
    return payload


async def test_killed_while_an_attachment_downloads_the_author_is_told_it_was_not_sent(
    tmp_path: Path, fake_discord: FakeDiscord, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    database = tmp_path / "data" / "bot.db"
    video = fake_discord.attachment("launch.mp4", "video/mp4", MP4)
    fake_discord.trickle_file(video, seconds_per_chunk=1.0)  # half a minute to come in
    first = await discord_bot(tmp_path, fake_discord, live_sandbox, port).start()
    await slash_post(fake_discord, media1=video, when="in 2 hours")
    await fake_discord.wait_for(lambda: fake_discord.downloading)
    await first.kill()
    assert request_state(database) == "received"  # stored as received before the download started
    second = await discord_bot(tmp_path, fake_discord, live_sandbox, port).start()
    [told] = await fake_discord.wait_for(lambda: said_in_channel(fake_discord, "was not sent"), timeout=15)
    assert told["content"] == f"<@{ALICE}>"  # the author is pinged, and only them
    assert told["allowed_mentions"]["users"] == [ALICE]
    description = told["embeds"][0]["description"]
    assert "your video for Demo TikTok (@demo) on TikTok (request #1) was not sent" in description
    assert "you can send the command again" in description
    assert request_state(database) == "not_sent"
    assert sandbox_creates(live_sandbox) == 0
    assert await second.stop() == 0
    assert integrity(database) == "ok"


async def test_killed_during_the_create_call_the_author_is_told_and_then_the_post_adopted(
    tmp_path: Path, fake_discord: FakeDiscord, live_sandbox: SandboxServer
) -> None:
    port = free_port()
    database = tmp_path / "data" / "bot.db"
    live_sandbox.state.faults = [Fault(kind="latency", route="create", seconds=1.0)]
    first = await discord_bot(tmp_path, fake_discord, live_sandbox, port).start()
    await slash_post(fake_discord, url="https://e.com/v.mp4", caption="live")
    await fake_discord.wait_for(lambda: sandbox_creates(live_sandbox) == 1)  # the call is on its way
    await first.kill()
    await fake_discord.wait_for(lambda: live_sandbox.state.posts)  # Infinipost finishes it anyway
    second = await discord_bot(tmp_path, fake_discord, live_sandbox, port).start()
    [told] = await fake_discord.wait_for(lambda: said_in_channel(fake_discord, "stopped while sending"), timeout=15)
    assert told["content"] == f"<@{ALICE}>"
    assert "please do not send it again yet" in told["embeds"][0]["description"]
    await fake_discord.wait_for(lambda: said_in_channel(fake_discord, "after all"), timeout=15)
    await fake_discord.wait_for(lambda: request_state(database) == "sent")
    assert sandbox_creates(live_sandbox) == 1
    assert stored_post_ids(database) == set(live_sandbox.state.posts)
    assert len(said_in_channel(fake_discord, "scheduled a video")) == 1
    assert await second.stop() == 0
    assert integrity(database) == "ok"
