"""The bot's own HTTP server (BOT_HTTP_PORT): Slack's HTTP mode, media links and a health check share it."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

from aiohttp import web

from bot.errors import BotError

logger = logging.getLogger(__name__)


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def start_site(app: web.Application, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); return the runner and the port it got."""
    # Open connections get a few seconds to finish on shutdown, not aiohttp's default minute.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    return runner, int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


class WebServer:
    """An aiohttp server that components add routes to before it starts.

    `host` and `port` may be changed before it starts; with `any_port_if_busy`, a taken port gives way to a free
    one (for the console, whose links only this machine needs to reach).
    """

    def __init__(self, *, host: str, port: int) -> None:
        self.app = web.Application(client_max_size=1024**2)
        self.app.router.add_get("/healthz", _health)
        self.host, self.wanted_port = host, port
        self.any_port_if_busy = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        try:
            self._runner, self.port = await start_site(self.app, host=self.host, port=self.wanted_port)
        except OSError as exc:
            if not self.any_port_if_busy:
                raise BotError(
                    f"Cannot listen on {self.host}:{self.wanted_port} ({exc.strerror}). "
                    "Set BOT_HTTP_PORT (and BOT_HTTP_HOST) to a free port and address."
                ) from exc
            self._runner, self.port = await start_site(self.app, host=self.host, port=0)
            logger.info("port %s is taken; serving on %s instead", self.wanted_port, self.port)
        logger.info("HTTP server listening on %s:%s", self.host, self.port)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner:
            await self._runner.cleanup()
