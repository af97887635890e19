"""The sandbox served on loopback, for the bot, the `infinipost-bot sandbox` command and the tests."""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.web import start_site
from sandbox.routes import build_app
from sandbox.state import PostFile, SandboxState
from storage.files import DatabaseFile

logger = logging.getLogger(__name__)

SANDBOX_KEY = "sk_test_sandbox"  # what the bot sends it; any sk_test_ or sk_live_ key passes its check


class SandboxServer:
    """The sandbox as an aiohttp server on loopback. `async with SandboxServer() as sandbox: sandbox.url`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        state_file: DatabaseFile | None = None,
    ) -> None:
        self._file = PostFile(state_file) if state_file else None
        posts: MutableMapping[str, dict[str, Any]] = self._file if self._file is not None else {}
        self.state = SandboxState(clock=clock or (lambda: datetime.now(UTC)), posts=posts)
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The API base URL, as INFINIPOST_API_URL takes it."""
        return f"http://{self._host}:{self.port}/v1"

    async def __aenter__(self) -> Self:
        self._runner, self.port = await start_site(build_app(self.state), host=self._host, port=self._port)
        logger.info("Infinipost sandbox listening on %s", self.url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._file is not None:
            self._file.close()
