"""`run` drives a chat platform through the Platform protocol alone: a platform the app did not know before is
one more PlatformEntry, with no change to the core or to `serve`."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from app.platforms import PlatformEntry
from app.serve import serve
from app.settings import Settings
from bot.core import Core
from sandbox import SandboxServer
from tests.conftest import make_settings
from tests.fakes.chat import MemoryMessenger


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


class ThirdPlatform:
    """A platform that serves one route, then loses its connection for good once the bot is ready."""

    name = "third"

    def __init__(self, core: Core) -> None:
        self.messenger = MemoryMessenger()
        core.attach(self.name, self.messenger)
        self.steps: list[str] = []
        self.answer = ""
        self._on_failure: Callable[[], None] | None = None
        self._check: asyncio.Task[None] | None = None

    async def start(self, *, on_failure: Callable[[], None]) -> None:
        self.steps.append("start")
        self._on_failure = on_failure

    def mount(self, app: web.Application) -> None:
        self.steps.append("mount")
        app.router.add_get("/third", _hello)

    def listening(self, url: str) -> None:
        self.steps.append("listening")
        self._check = asyncio.create_task(self._ask_then_fail(url))

    async def _ask_then_fail(self, url: str) -> None:
        async with httpx.AsyncClient() as client:
            self.answer = (await client.get(f"{url}/third")).text
        assert self._on_failure is not None
        self._on_failure()

    async def stop(self) -> None:
        self.steps.append("stop")


async def test_a_new_platform_is_served_and_its_failure_ends_run_with_status_1(
    tmp_path: Path, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.serve")
    settings = make_settings(tmp_path, api_key="sk_test_key", api_url=sandbox.url, http_host="127.0.0.1", http_port=0)
    built: list[ThirdPlatform] = []

    def build(core: Core, settings: Settings) -> ThirdPlatform:
        built.append(ThirdPlatform(core))
        return built[-1]

    try:
        status = await asyncio.wait_for(
            serve(settings, [PlatformEntry(name="test", configured=lambda _: True, build=build)]), 30
        )
    finally:
        gc.unfreeze()  # serve freezes what start-up built, for the life of a process: not this one's
    (platform,) = built
    assert status == 1
    assert platform.steps == ["start", "mount", "listening", "stop"]
    assert platform.answer == "hello"
    assert "infinipost-bot ready: third (" in caplog.text  # the operator sees which platforms run
