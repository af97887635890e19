"""A Slack bot as `run` has it (runtime, workers, HTTP server, adapter) against the fake Slack, for tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.slack.app import SlackAdapter
from app.runtime import Runtime, start_runtime
from app.settings import Settings
from bot.notices import Notice, NoticeItem, NoticeKind
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, interaction, sign, slash_command
from tests.processes import free_port


@dataclass
class SlackBot:
    fake: FakeSlack
    sandbox: SandboxServer
    runtime: Runtime
    url: str
    secret: str = SIGNING_SECRET

    async def send(self, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **(sign(body, secret=self.secret) if headers is None else headers),
        }
        async with httpx.AsyncClient() as http:
            return await http.post(self.url, content=body, headers=headers)

    async def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        return await self.send(slash_command(self.fake, command, text, **kwargs))

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.send(interaction(payload))

    async def event(self, payload: dict[str, Any]) -> httpx.Response:
        """An Events API delivery: JSON, signed like the rest."""
        body = json.dumps(payload)
        headers = {"Content-Type": "application/json", **sign(body, secret=self.secret)}
        async with httpx.AsyncClient() as http:
            return await http.post(self.url, content=body, headers=headers)

    def creates(self) -> list[Any]:
        return [r.body for r in self.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]

    async def reply(self, count: int = 1) -> dict[str, Any]:
        """The `count`-th message that arrived at a response_url."""
        await self.fake.wait_for(lambda: len(self.fake.responses) >= count)
        return self.fake.responses[count - 1]


def slack_settings(tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, **extra: Any) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "api_key": "sk_test_key",
        "api_url": sandbox.url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "http_host": "127.0.0.1",
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }
    values.update(extra)
    return make_settings(tmp_path, **values)


@asynccontextmanager
async def start_bot(
    settings: Settings, fake: FakeSlack, sandbox: SandboxServer, clock: FakeClock, **adapter_options: Any
) -> AsyncIterator[SlackBot]:
    """The runtime with its workers, and the adapter on the bot's own HTTP server, as `run` has them.
    `adapter_options`: SlackAdapter's keyword arguments (a shorter Home tab refresh, say)."""
    async with start_runtime(settings, clock=clock) as runtime:
        adapter = SlackAdapter(runtime.core, settings, **adapter_options)
        adapter.mount(runtime.web.app)
        async with runtime.web, _stopping(adapter):
            secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
            yield SlackBot(fake, sandbox, runtime, f"http://127.0.0.1:{runtime.web.port}/slack/events", secret)


@asynccontextmanager
async def _stopping(adapter: SlackAdapter) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await adapter.stop()


def posted_notice() -> Notice:
    """A "posted" notice of request #1 by Alice, for the messenger's own tests."""
    return Notice(
        kind=NoticeKind.POSTED,
        request_id=1,
        author_id="U1",
        author_name="Alice",
        content_type="video",
        media_count=1,
        caption=None,
        scheduled_time=None,
        items=(NoticeItem(account="Demo", status="posted"),),
    )
