"""Discord end to end: `infinipost-bot run` as a real process on the fake gateway and REST API, and the CLI."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.errors import NotSetUp
from sandbox import SandboxServer
from tests.adapters.test_discord import text_of
from tests.fakes.discord import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_TOKEN,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    POSTER_ROLE_ID,
    STRANGER_GUILD,
    FakeDiscord,
    running_fake_discord,
)
from tests.processes import BotProcess, clean_env, free_port, run_until_exit

GUILDS_INTENT = 1 << 0
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as fake:
        yield fake
        assert fake.unmatched == []


async def wait_until_up(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(f"the bot exited with {process.returncode}")
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the bot never answered /healthz")


def _nine_tomorrow_in_paris() -> datetime:
    """What "tomorrow 9am" means to the child process, which runs on the real clock."""
    tomorrow = datetime.now(PARIS).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(9), tzinfo=PARIS)


async def test_run_as_a_real_process_over_the_gateway(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    port = free_port()
    async with SandboxServer() as sandbox:
        env = clean_env(
            DISCORD_TOKEN=BOT_TOKEN,
            DISCORD_API_URL=fake.api_url,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DISCORD_GUILD_IDS=str(GUILD_ID),
            DISCORD_POSTER_ROLES=str(POSTER_ROLE_ID),
            BOT_HTTP_HOST="127.0.0.1",
            BOT_HTTP_PORT=str(port),
            BOT_CONFIRM_POSTS="false",
            BOT_DEFAULT_TIMEZONE="Europe/Paris",
            INFINIPOST_API_KEY="sk_test_process",
            INFINIPOST_API_URL=sandbox.url,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "run",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            [identify] = await fake.wait_for(lambda: fake.identifies)
            assert identify["token"] == BOT_TOKEN
            assert identify["intents"] == GUILDS_INTENT  # nothing privileged
            assert fake.heartbeats >= 1
            assert fake.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")

            nine_tomorrow = _nine_tomorrow_in_paris()
            payload = fake.slash(
                "post", accounts="acc_123", when="tomorrow 9am", url="https://e.com/v.mp4", caption="hello"
            )
            await fake.dispatches.put(("INTERACTION_CREATE", payload))
            [callback] = await fake.wait_for(lambda: fake.callbacks(payload))
            assert callback == {"type": 5, "data": {"flags": EPHEMERAL}}
            [answer] = await fake.wait_for(lambda: fake.answers(payload))
            assert (answer.method, answer.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")  # no follow-up
            assert fake.original(payload)["flags"] & EPHEMERAL
            assert (
                f"Scheduled for {nine_tomorrow:%a} {nine_tomorrow.day} {nine_tomorrow:%B %Y, %H:%M %Z} (Europe/Paris)"
                in (answer.body["content"])
            )
            creates = [r.body for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
            assert creates == [
                {
                    "accountIds": ["acc_123"],
                    "contentType": "video",
                    "contentUrl": "https://e.com/v.mp4",
                    "caption": "hello",
                    "scheduledTime": f"{nine_tomorrow.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
                }
            ]
            [announcement] = await fake.wait_for(lambda: fake.calls("POST", f"/channels/{CHANNEL_ID}/messages"))
            assert (
                f"<@{ALICE}> scheduled a video for <t:{int(nine_tomorrow.timestamp())}:F>"
                in announcement.body["embeds"][0]["description"]
            )
            assert announcement.authorization == f"Bot {BOT_TOKEN}"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr
        assert BOT_TOKEN.encode() not in stderr
        assert payload["token"].encode() not in stderr


async def test_a_post_from_a_server_nobody_listed_creates_nothing(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    """Someone adds the bot to their own server and schedules a post with the operator's key: refused."""
    fake = fake_discord
    port = free_port()
    async with SandboxServer() as sandbox:
        process = BotProcess(
            tmp_path, port, **fake.process_settings(), INFINIPOST_API_KEY="sk_test_x", INFINIPOST_API_URL=sandbox.url
        )
        await process.start()
        try:
            await fake.wait_for(lambda: fake.identifies)
            at_start = len(sandbox.state.received)  # the key checked once at start-up
            payload = fake.slash(
                "post", user=ADMIN, guild=STRANGER_GUILD, accounts="acc_123", url="https://e.com/v.mp4", when="now"
            )
            await fake.dispatches.put(("INTERACTION_CREATE", payload))
            [callback] = await fake.wait_for(lambda: fake.callbacks(payload))
            assert callback["type"] == 4
            assert callback["data"]["content"] == NotSetUp.default_message
            listing = fake.slash("accounts", guild=STRANGER_GUILD)
            await fake.dispatches.put(("INTERACTION_CREATE", listing))
            [listed] = await fake.wait_for(lambda: fake.callbacks(listing))
            assert listed["data"]["content"] == NotSetUp.default_message
            await asyncio.sleep(1)
            assert [r.path for r in sandbox.state.received[at_start:] if r.path.startswith("/v1/")] == []
            assert sandbox.state.posts == {}
            assert fake.answers(payload) == []
            assert fake.calls("POST", "/channels/{}/messages") == []
        finally:
            assert await process.stop() == 0
        assert f"refused discord workspace {STRANGER_GUILD}" in process.stderr.decode()
        with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
            assert db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0


async def test_a_replica_runs_the_shards_its_settings_give_it(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    process = BotProcess(
        tmp_path,
        free_port(),
        **fake.process_settings(),
        DISCORD_SHARD_COUNT="2",
        DISCORD_SHARD_IDS="1",
        BOT_LOG_LEVEL="INFO",
    )
    await process.start()
    try:
        await fake.wait_for(lambda: fake.identifies)
        payload = fake.slash("help")  # from the server, which is on shard 1
        await fake.dispatches.put(("INTERACTION_CREATE", payload))
        [callback] = await fake.wait_for(lambda: fake.callbacks(payload))
        assert callback == {"type": 5, "data": {"flags": EPHEMERAL}}
        [answer] = await fake.wait_for(lambda: fake.answers(payload))
        assert "/reschedule" in text_of(answer.body)  # /help is long: embeds
    finally:
        assert await process.stop() == 0
    assert [identify["shard"] for identify in fake.identifies] == [[1, 2]]
    assert len(fake.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")) == 1
    assert "Discord: connecting shards 1 of 2" in process.stderr.decode()


async def test_a_refused_token_stops_run_with_a_clear_message(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    wrong = BOT_TOKEN[:-6] + "wrong1"
    env = clean_env(DISCORD_TOKEN=wrong, DISCORD_API_URL=fake_discord.api_url, BOT_HTTP_PORT=str(free_port()))
    code, _, stderr = await run_until_exit(tmp_path, "run", env=env)
    assert code == 1
    assert "Discord refused DISCORD_TOKEN" in stderr
    assert "Traceback" not in stderr
    assert wrong not in stderr


def invite(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "discord-invite", *args],
        cwd=tmp_path,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_discord_invite_reads_the_application_from_the_token(tmp_path: Path) -> None:
    result = invite(tmp_path, DISCORD_TOKEN=BOT_TOKEN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"https://discord.com/oauth2/authorize?client_id={APP_ID}&scope=bot+applications.commands"
        "&permissions=274877991936"
    )
    assert BOT_TOKEN not in result.stdout + result.stderr


def test_discord_invite_takes_a_client_id_or_says_what_to_set(tmp_path: Path) -> None:
    given = invite(tmp_path, "--client-id", "42")
    assert given.stdout.startswith("https://discord.com/oauth2/authorize?client_id=42&scope=bot+applications.commands")
    missing = invite(tmp_path)
    assert missing.returncode == 2
    assert "set DISCORD_TOKEN, or pass --client-id" in missing.stderr
    unreadable = invite(tmp_path, DISCORD_TOKEN="not-a-token")
    assert unreadable.returncode == 2
    assert "pass --client-id" in unreadable.stderr
    assert "not-a-token" not in unreadable.stderr


async def test_unsharded_one_replica_has_the_gateway_and_another_takes_over_when_it_dies(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    """Two replicas on one database: one connects to the gateway, the other stands by; SIGKILL the first (no
    release) and the second connects once the first's hold has expired, and answers."""
    fake = fake_discord
    lease = {"DISCORD_GATEWAY_LEASE_SECONDS": "1.5", "BOT_LOG_LEVEL": "INFO"}
    first = BotProcess(tmp_path, free_port(), **fake.process_settings(), BOT_REPLICA_ID="one", **lease)
    second = BotProcess(tmp_path, free_port(), **fake.process_settings(), BOT_REPLICA_ID="two", **lease)
    await first.start()
    try:
        await fake.wait_for(lambda: fake.identifies)
        await second.start()
        await asyncio.sleep(3)  # two renewals of the first's hold: the second must still stand by
        assert len(fake.identifies) == 1
        await first.kill()
        await fake.wait_for(lambda: len(fake.identifies) == 2 or None)
        payload = fake.slash("help")
        await fake.dispatches.put(("INTERACTION_CREATE", payload))
        [answer] = await fake.wait_for(lambda: fake.answers(payload))
        assert "/reschedule" in text_of(answer.body)  # /help is long: embeds
    finally:
        if first.process and first.process.returncode is None:
            await first.kill()
        assert await second.stop() == 0
    assert "another replica has the discord gateway" in second.stderr.decode()
    assert "took over the discord gateway" in second.stderr.decode()
