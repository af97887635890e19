"""`infinipost-bot run` with chat platforms configured: the core, its workers and every configured adapter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from contextlib import AsyncExitStack

from bot.config import Settings
from bot.runtime import start_runtime
from bot.web import WebServer

logger = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM. Returns the process exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(start_runtime(settings))
        web = WebServer(host=settings.http_host, port=settings.http_port)
        if settings.slack_configured:
            from adapters.slack import SlackAdapter

            slack = SlackAdapter(runtime.core, settings)
            stack.push_async_callback(slack.stop)
            if settings.slack_socket_mode:
                await slack.start_socket_mode()
                logger.info("Slack: Socket Mode connected")
            else:
                slack.mount(web.app)
                logger.info("Slack: HTTP mode at POST /slack/events on port %s", settings.http_port)
        await stack.enter_async_context(web)
        api = "the built-in sandbox" if runtime.sandbox else settings.api_url
        logger.info("infinipost-bot ready (Infinipost: %s; HTTP on port %s)", api, web.port)
        await stop.wait()
        logger.info("shutting down")
    return 0
