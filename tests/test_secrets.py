"""Secrets never leak: a whole flow runs with known secret strings, and everything it leaves behind is searched.

Logs (at DEBUG, every logger), replies, messages posted to Slack, what Infinipost received in bodies, errors,
and the database: none may contain the Slack bot token, the signing secret, the Infinipost API key or the media
link secret.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.tracking import Tracker
from sandbox import SandboxServer
from tests.adapters.slack_harness import slack_settings, start_bot
from tests.conftest import FakeClock
from tests.fakes.slack import interaction, running_fake_slack, view_submission
from tests.media.files import MP4

SECRETS = {
    "slack_bot_token": "xoxb-SECRET-bot-token-0123456789",
    "slack_signing_secret": "SECRET-signing-secret-abcdef",
    "api_key": "sk_test_SECRET-api-key-fedcba",
    "media_secret": "SECRET-media-link-key-13579",
}


def leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


async def test_a_whole_slack_flow_leaks_no_secret(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_fake_slack() as fake:
        fake.token = SECRETS["slack_bot_token"]
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "profile": {}}
        fake.add_file("F1", "clip.mp4", MP4, "video/mp4")
        settings = slack_settings(tmp_path, fake, sandbox, alerts_channel="CALERTS", **SECRETS)
        async with start_bot(settings, fake, sandbox, clock) as bot:
            await bot.command("/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- hi")
            await bot.command("/post", "https://e.com/fail.mp4 to acc_1 in 1 hour")
            await bot.command("/post", "nonsense words")
            await bot.command("/timezone", "Mars/Base")
            values = {
                "files": {"files": {"files": [{"id": "F1"}]}},
                "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
            }
            metadata = json.dumps({"channel": "C1", "response_url": fake.response_url("f")})
            await bot.send(interaction(view_submission(values, metadata)))
            await bot.send(
                "token=forged&command=/post", {"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": "1"}
            )
            await bot.reply(5)
            link = bot.creates()[-1]["contentUrl"]
            async with httpx.AsyncClient() as http:
                assert (await http.get(link)).content == MP4
                assert (await http.get(link.replace("sig=", "sig=0"))).status_code == 403
            clock.advance(hours=2)
            await Tracker(bot.runtime.ctx).cycle()
            await fake.wait_for(lambda: [m for m in fake.of("chat.postMessage") if "failed" in m["text"]])
            del sandbox.state.accounts["acc_1"]
            bot.runtime.ctx.accounts.forget()
            await bot.command("/post", "https://e.com/v.mp4 to acc_1 now")
            await bot.reply(6)
        captured = {
            "logs": "\n".join(record.getMessage() + str(record.exc_info or "") for record in caplog.records),
            "replies": json.dumps(fake.responses),
            "slack messages": json.dumps([c.params for c in fake.calls]),
            "infinipost bodies": json.dumps([r.body for r in sandbox.state.received]),
            "database": "\n".join(sqlite3.connect(settings.database).iterdump()),
        }
    assert len(captured["logs"]) > 1000  # DEBUG logging was on
    assert {where: leaks(text) for where, text in captured.items()} == {where: [] for where in captured}


async def test_the_api_key_is_sent_only_as_the_bearer_header(
    sandbox: SandboxServer, tmp_path: Path, clock: FakeClock
) -> None:
    async with running_fake_slack() as fake:
        settings = slack_settings(tmp_path, fake, sandbox, **SECRETS)
        async with start_bot(settings, fake, sandbox, clock) as bot:
            await bot.command("/accounts")
            await bot.reply()
    assert {r.authorization for r in sandbox.state.received} == {f"Bearer {SECRETS['api_key']}"}
    assert all(c.authorization != f"Bearer {SECRETS['api_key']}" for c in fake.calls)


def test_settings_never_show_secrets() -> None:
    from app.settings import Settings

    settings = Settings(_env_file=None, **SECRETS)
    assert leaks(repr(settings)) == []
    assert leaks(str(settings.model_dump())) == []


async def test_a_discord_flow_leaks_no_token(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.adapters.test_discord import discord_settings, start_bot
    from tests.fakes.discord import BOT_TOKEN, running_fake_discord

    caplog.set_level(logging.DEBUG)
    async with running_fake_discord() as fake:
        settings = discord_settings(tmp_path, fake, sandbox, api_key=SECRETS["api_key"])
        async with start_bot(settings, fake, sandbox, clock) as bot:
            assert "Scheduled" in await bot.run("post", url="https://e.com/v.mp4", accounts="acc_1", when="in 1 hour")
            await bot.run("post", url="https://e.com/v.mp4", accounts="nobody")
            await bot.run("posts")
            clock.advance(hours=2)
            await Tracker(bot.runtime.ctx).cycle()
            await bot.runtime.ctx.outbox.flush()
        captured = {
            "logs": "\n".join(record.getMessage() + str(record.exc_info or "") for record in caplog.records),
            "discord bodies": json.dumps([r.body for r in fake.requests]),
            "infinipost bodies": json.dumps([r.body for r in sandbox.state.received]),
            "database": "\n".join(sqlite3.connect(settings.database).iterdump()),
        }
    assert all(r.authorization in ("", f"Bot {BOT_TOKEN}") for r in fake.requests)  # sent only as auth
    found = {where: BOT_TOKEN in text or bool(leaks(text)) for where, text in captured.items()}
    assert found == dict.fromkeys(captured, False)
