"""The bot's own HTTP server (BOT_HTTP_PORT): Slack's HTTP mode, media links and a health check share it.

It faces the internet, so no client may hold it up: a request's headers and its body must each arrive within a few
seconds, a body larger than the server takes is refused from its Content-Length before a byte of it is read, and
the connections held open are capped below the process's open-file limit. At the cap, a new connection takes the
place of the oldest one that has no complete request in hand (still sending one, or idle between two), as nginx
does, so that a crowd of slow clients cannot starve a real request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.errors import BotError

logger = logging.getLogger(__name__)

MAX_BODY = 1024**2  # bytes: far above any Slack payload; media are only ever served, never uploaded here
HEADER_SECONDS = 5.0  # to send a request's headers, and how long an idle connection is kept between requests
BODY_SECONDS = 5.0  # to send a request's body once its headers are in
MAX_CONNECTIONS = 4096
SPARE_FILES = 200  # open files kept for the database, the API clients, media files being served and the rest
LOG_EVERY = 60.0  # seconds: resource exhaustion is logged at most this often
ACCEPT_EXHAUSTED = "socket.accept() out of system resource"  # asyncio's words when accept() fails for want of files


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


def connection_limit() -> int:
    """How many connections the server holds open: below the open-file limit, so that accept() never fails."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, soft // 2))


class Throttled:
    """Logs one kind of event at most once per LOG_EVERY seconds, saying how often it happened meanwhile."""

    def __init__(self, message: str, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._message = message
        self._monotonic = monotonic
        self._logged_at: float | None = None
        self._unlogged = 0

    def __call__(self) -> None:
        now = self._monotonic()
        self._unlogged += 1
        if self._logged_at is None or now - self._logged_at >= LOG_EVERY:
            logger.error("%s (%d time(s) since the last such message)", self._message, self._unlogged)
            self._logged_at, self._unlogged = now, 0


class _Refused(asyncio.Protocol):
    """A connection over the cap when every open one has a request in hand: closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class _Doorkeeper:
    """The listening socket's protocol factory, and the middleware that reads each request's body.

    It admits a connection while there is room, and makes room by closing the oldest connection that has no
    complete request in hand.
    """

    def __init__(self) -> None:
        self.server: web.Server | None = None  # aiohttp's, once its runner is set up
        self.limit = connection_limit()
        self._working: set[web.RequestHandler] = set()  # connections whose request is being handled
        self._full = Throttled(
            f"the HTTP server holds its cap of {self.limit} open connections: closing idle and slow ones for new ones"
        )

    def __call__(self) -> asyncio.BaseProtocol:
        assert self.server is not None
        # Oldest first; one closed a moment ago stays listed until its handler has finished.
        live = [c.transport for c in self.server.connections if c.transport and not c.transport.is_closing()]
        if len(live) >= self.limit:
            self._full()
            working = {c.transport for c in self._working}
            idle = next((t for t in live if t not in working), None)
            if idle is None:
                return _Refused()
            idle.abort()
        return self.server()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse a body too large from its Content-Length, read the rest within BODY_SECONDS, then keep the
        connection from being closed to make room while its request is handled."""
        if (request.content_length or 0) > MAX_BODY:
            return _closing(web.Response(status=413, text="request body too large"))
        if request.body_exists:
            try:
                async with asyncio.timeout(BODY_SECONDS):
                    await request.read()  # kept: handlers read it again from memory
            except TimeoutError:
                return _closing(web.Response(status=408, text="request body too slow"))
            except web.HTTPRequestEntityTooLarge:  # a chunked body, with no Content-Length to refuse it by
                return _closing(web.Response(status=413, text="request body too large"))
        connection = request.protocol
        self._working.add(connection)
        try:
            return await handler(request)
        finally:
            self._working.discard(connection)


def _closing(response: web.Response) -> web.Response:
    response.force_close()  # whatever the client still sends is not read
    return response


class WebServer:
    """An aiohttp server that components add routes to before it starts.

    `host` and `port` may be changed before it starts; with `any_port_if_busy`, a taken port gives way to a free
    one (for the console, whose links only this machine needs to reach).
    """

    def __init__(self, *, host: str, port: int) -> None:
        self._doorkeeper = _Doorkeeper()
        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[self._doorkeeper.middleware])
        self.app.router.add_get("/healthz", _health)
        self.host, self.wanted_port = host, port
        self.any_port_if_busy = False
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._loop_handler: Any = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            shutdown_timeout=3.0,  # open connections get a few seconds to finish on shutdown, not a minute
            # aiohttp closes a connection that has not sent a whole request this long after it opened, and an idle
            # one this long after its last answer: together, the timeout for headers.
            keepalive_timeout=HEADER_SECONDS,
            lingering_time=0,  # the unread rest of a refused body is not waited for
            handler_cancellation=True,  # a client that goes away takes its work with it
        )
        await self._runner.setup()
        self._doorkeeper.server = self._runner.server
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(self._doorkeeper, self.host, self.wanted_port)
        except OSError as exc:
            if not self.any_port_if_busy:
                await self._runner.cleanup()
                raise BotError(
                    f"Cannot listen on {self.host}:{self.wanted_port} ({exc.strerror}). "
                    "Set BOT_HTTP_PORT (and BOT_HTTP_HOST) to a free port and address."
                ) from exc
            self._listener = await loop.create_server(self._doorkeeper, self.host, 0)
            logger.info("port %s is taken; serving on %s instead", self.wanted_port, self._listening_port())
        self.port = self._listening_port()
        self._loop_handler = loop.get_exception_handler()
        exhausted = Throttled("out of open files: new connections wait (raise the limit with `ulimit -n`)")
        loop.set_exception_handler(_quieting(ACCEPT_EXHAUSTED, exhausted))
        logger.info("HTTP server listening on %s:%s", self.host, self.port)
        return self

    def _listening_port(self) -> int:
        assert self._listener is not None
        return int(self._listener.sockets[0].getsockname()[1])

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._listener is not None:
            self._listener.close()
            asyncio.get_running_loop().set_exception_handler(self._loop_handler)
        if self._runner:
            await self._runner.cleanup()


def _quieting(message: str, throttled: Throttled) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """A loop exception handler that logs one kind of error through `throttled`, and the rest as usual: asyncio
    would log a traceback for every failed accept(), hundreds of megabytes under a flood of connections."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == message:
            throttled()
        else:
            loop.default_exception_handler(context)

    return handle
