"""Slack for many workspaces: bolt's OAuth flow at GET /slack/install and GET /slack/oauth_redirect, against the
fake Slack's consent codes and oauth.v2.access. An installed workspace is served with its own bot token, also
after a restart; one that never installed (or uninstalled) gets the one sentence; tokens are sealed at rest."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from adapters.slack.app import SlackAdapter
from app.runtime import start_runtime
from app.settings import Settings
from bot.errors import DeliveryError, NotSetUp
from bot.model import ChannelRef
from sandbox import SandboxServer
from tests.adapters.slack_harness import SlackBot, posted_notice, slack_settings
from tests.conftest import FakeClock
from tests.fakes.slack import CLIENT_ID, CLIENT_SECRET, FakeSlack, running_fake_slack, sign, slash_command

STATE_SECRET = "test-state-secret"
TEAM_TOKEN = "xoxb-team-five-token"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "is_admin": True, "profile": {}}
        yield fake


def oauth_settings(tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "slack_state_secret": STATE_SECRET,
        "encryption_key": Fernet.generate_key().decode(),
        **extra,
    }
    return slack_settings(tmp_path, fake, sandbox, **values)


@asynccontextmanager
async def oauth_bot(
    settings: Settings, fake: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[Any]:
    """The bot as `run` starts it in OAuth mode: the installed workspaces are served from the start."""
    async with start_runtime(settings, clock=clock) as runtime:
        adapter = SlackAdapter(runtime.core, settings)
        adapter.mount(runtime.web.app)
        await adapter.check_token()
        async with runtime.web:
            try:
                base = f"http://127.0.0.1:{runtime.web.port}"
                yield SlackBot(fake, sandbox, runtime, f"{base}/slack/events"), base
            finally:
                await adapter.stop()


async def start_install(base: str) -> tuple[str, str]:
    """GET /slack/install: the consent page's address, and the state bolt put in it (and in a cookie)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base}/slack/install")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert "commands" in query["scope"][0].split(",")
    assert query["redirect_uri"] == [f"{base}/slack/oauth_redirect"]
    state = query["state"][0]
    assert f"slack-app-oauth-state={state}" in response.headers["set-cookie"]
    return location, state


async def redirect(base: str, *, code: str, state: str) -> httpx.Response:
    """Slack sends the admin's browser back, with the code and the state (and the browser its cookie)."""
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{base}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )


def from_team(fake: FakeSlack, team: str, command: str = "/accounts", text: str = "") -> str:
    return slash_command(fake, command, text).replace("team_id=T1", f"team_id={team}")


async def install(base: str, fake: FakeSlack, team: str = "T5", token: str = TEAM_TOKEN) -> None:
    fake.install_code(f"code-{team}", team_id=team, token=token)
    _, state = await start_install(base)
    response = await redirect(base, code=f"code-{team}", state=state)
    assert response.status_code == 200, response.text


async def event(bot: SlackBot, team: str, kind: str, **fields: Any) -> httpx.Response:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": team,
            "api_app_id": "A1",
            "event": {"type": kind, **fields},
            "event_id": f"Ev{kind}",
            "event_time": 1764342000,
        }
    )
    async with httpx.AsyncClient() as http:
        return await http.post(bot.url, content=body, headers={"Content-Type": "application/json", **sign(body)})


async def test_a_workspace_installs_the_app_and_is_answered_with_its_own_token(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        refused = await bot.send(from_team(fake_slack, "T5", "/help"))
        assert refused.json()["text"] == NotSetUp.default_message  # not installed yet

        await install(base, fake_slack)
        assert [c.params["code"] for c in fake_slack.calls if c.method == "oauth.v2.access"] == ["code-T5"]

        response = await bot.send(from_team(fake_slack, "T5"))
        assert response.status_code == 200
        reply = await bot.reply()
        assert reply["text"] != NotSetUp.default_message
        asked = [c for c in fake_slack.calls if c.method == "users.info"]
        assert asked, [c.method for c in fake_slack.calls]
        assert {c.authorization for c in asked} == {f"Bearer {TEAM_TOKEN}"}  # that workspace's token

        def token_checks() -> int:
            return sum(
                1 for c in fake_slack.calls if (c.method, c.authorization) == ("auth.test", f"Bearer {TEAM_TOKEN}")
            )

        checked = token_checks()
        await bot.send(from_team(fake_slack, "T5", "/help", "post"))
        await bot.reply()
        assert token_checks() == checked  # the token was checked once, not again before every acknowledgement


async def test_a_replayed_or_forged_state_is_refused_and_nothing_is_installed(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        fake_slack.install_code("code-1", team_id="T5", token=TEAM_TOKEN)
        _, state = await start_install(base)
        assert (await redirect(base, code="code-1", state=state)).status_code == 200
        fake_slack.install_code("code-2", team_id="T6", token="xoxb-team-six")
        assert (await redirect(base, code="code-2", state=state)).status_code == 401  # the same state again
        nonce, expiry, _ = state.split(".")
        forged = f"{nonce}x.{expiry}.{'0' * 64}"
        assert (await redirect(base, code="code-2", state=forged)).status_code == 401
        later = str(int(expiry) + 3600)
        assert (await redirect(base, code="code-2", state=f"{nonce}.{later}.{state.split('.')[2]}")).status_code == 401
        assert [c.params["code"] for c in fake_slack.calls if c.method == "oauth.v2.access"] == ["code-1"]
        assert (await bot.send(from_team(fake_slack, "T6"))).json()["text"] == NotSetUp.default_message


async def test_installs_are_served_after_a_restart_and_uninstalling_refuses_again(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (_, base):
        await install(base, fake_slack)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        await bot.send(from_team(fake_slack, "T5"))
        assert (await bot.reply())["text"] != NotSetUp.default_message
        never = await bot.send(from_team(fake_slack, "T9"))
        assert never.json()["text"] == NotSetUp.default_message

        assert (await event(bot, "T5", "app_uninstalled")).status_code == 200
        await fake_slack.wait_for(lambda: uninstalled(bot))
        gone = await bot.send(from_team(fake_slack, "T5", "/help"))
        assert gone.json()["text"] == NotSetUp.default_message


async def test_a_revoked_bot_token_removes_the_install(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        await install(base, fake_slack)
        response = await event(bot, "T5", "tokens_revoked", tokens={"oauth": [], "bot": ["UBOTT5"]})
        assert response.status_code == 200
        await fake_slack.wait_for(lambda: uninstalled(bot))
        assert (await bot.send(from_team(fake_slack, "T5"))).json()["text"] == NotSetUp.default_message


async def uninstalled(bot: SlackBot) -> bool:
    """Whether no install is kept any more."""
    return not await bot.runtime.ctx.storage.installations.all("slack")


def database_has(settings: Settings, needle: bytes) -> bool:
    """Whether the bytes are anywhere in the database's files (its write-ahead log too)."""
    files = settings.database.parent.glob(f"{settings.database.name}*")
    return any(needle in file.read_bytes() for file in files)


async def test_the_bot_token_is_not_in_the_database_in_clear(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (_, base):
        await install(base, fake_slack)
        assert database_has(settings, b"T5")  # the install is there
        assert not database_has(settings, TEAM_TOKEN.encode())
        assert not database_has(settings, b"xoxb-")


async def test_a_rotated_key_still_opens_the_installs_sealed_with_the_old_one(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    old = Fernet.generate_key().decode()
    settings = oauth_settings(tmp_path, fake_slack, sandbox, encryption_key=old)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (_, base):
        await install(base, fake_slack)
    rotated = oauth_settings(tmp_path, fake_slack, sandbox, encryption_key=f"{Fernet.generate_key().decode()},{old}")
    async with oauth_bot(rotated, fake_slack, sandbox, clock) as (bot, _):
        await bot.send(from_team(fake_slack, "T5"))
        assert (await bot.reply())["text"] != NotSetUp.default_message
        assert {c.authorization for c in fake_slack.calls if c.method == "users.info"} == {f"Bearer {TEAM_TOKEN}"}


async def test_notices_go_out_with_their_workspaces_token(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        await install(base, fake_slack)
        messenger = bot.runtime.ctx.outbox.messengers["slack"]
        channel = ChannelRef(platform="slack", workspace_id="T5", channel_id="C5")
        notice = posted_notice()
        sent = await messenger.send(channel, [notice], thread=None, ids=[1])
        await messenger.edit(sent, notice, channel=channel)
        assert await messenger.find(channel, 1, thread=None) == sent
        used = {c.method: c.authorization for c in fake_slack.calls if c.method.startswith(("chat.", "conv"))}
        assert used == {
            "chat.postMessage": f"Bearer {TEAM_TOKEN}",
            "chat.update": f"Bearer {TEAM_TOKEN}",
            "conversations.history": f"Bearer {TEAM_TOKEN}",
        }
        elsewhere = ChannelRef(platform="slack", workspace_id="T9", channel_id="C9")
        with pytest.raises(DeliveryError) as refused:
            await messenger.send(elsewhere, [notice], thread=None, ids=[2])
        assert refused.value.retryable is False


async def test_the_bot_token_is_not_in_the_debug_log(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """slack_sdk logs oauth.v2.access's answer, the workspace's bot token in it, at DEBUG (BOT_LOG_LEVEL=DEBUG)."""
    caplog.set_level(logging.DEBUG)
    settings = oauth_settings(tmp_path, fake_slack, sandbox)
    async with oauth_bot(settings, fake_slack, sandbox, clock) as (bot, base):
        await install(base, fake_slack)
        await bot.send(from_team(fake_slack, "T5"))
        await bot.reply()
    assert "oauth.v2.access" in caplog.text
    assert TEAM_TOKEN not in caplog.text
