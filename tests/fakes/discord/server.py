"""The fake Discord served on 127.0.0.1: one app for the REST API, the CDN and the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.web import start_site
from tests.fakes.discord.cdn import cdn
from tests.fakes.discord.fake import FAKE, FakeDiscord
from tests.fakes.discord.gateway import gateway
from tests.fakes.discord.rest import api


def build_app(fake: FakeDiscord) -> web.Application:
    app = web.Application()
    app[FAKE] = fake
    app.router.add_route("*", "/api/v10/{tail:.*}", api)
    app.router.add_get("/{folder:(ephemeral-)?attachments}/{channel:[0-9]+}/{attachment:[0-9]+}/{name}", cdn)
    app.router.add_get("/gateway", gateway)
    return app


@asynccontextmanager
async def running_fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    runner, fake.port = await start_site(build_app(fake), host="127.0.0.1", port=0)
    try:
        yield fake
    finally:
        await runner.cleanup()
