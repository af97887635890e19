"""`infinipost-bot run` with chat platforms configured: the core, its workers and every configured adapter."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from app.runtime import check_api_key, start_runtime
from app.settings import Settings

if TYPE_CHECKING:
    from adapters.discord.app import DiscordAdapter  # imported when Discord is configured: an optional extra

logger = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM, which also end a start-up still under way. Returns the process exit code."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    assert main is not None
    ready = False

    def on_signal() -> None:
        # Start-up waits on things that may never come (Socket Mode tries to connect for ever), so a signal
        # cancels it; what it had started is closed on the way out.
        if not ready and not stop.is_set():
            main.cancel()
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, on_signal)
    try:
        async with AsyncExitStack() as stack:
            discord_bot = await _start(settings, stack, stop)
            ready = True
            await stop.wait()
            logger.info("shutting down")
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        main.uncancel()
        logger.info("stopped while starting")
        return 0
    return 1 if discord_bot is not None and discord_bot.failed else 0


async def _start(settings: Settings, stack: AsyncExitStack, stop: asyncio.Event) -> DiscordAdapter | None:
    """The core, its workers and every configured adapter, closed by `stack`; `stop` is set when Discord's
    gateway ends for good. Returns the Discord adapter, if there is one."""
    runtime = await stack.enter_async_context(start_runtime(settings))
    await check_api_key(runtime)
    web = runtime.web  # routes are added before it starts: Slack's, beside the media links
    slack_http_path = None
    if settings.slack_configured:
        from adapters.slack.app import SlackAdapter
        from adapters.slack.names import EVENTS_PATH

        slack = SlackAdapter(runtime.core, settings)
        stack.push_async_callback(slack.stop)
        await slack.check_token()
        if settings.slack_socket_mode:
            await slack.start_socket_mode()
            logger.info("Slack: Socket Mode connected")
        else:
            slack.mount(web.app)
            slack_http_path = EVENTS_PATH
            logger.info("Slack: HTTP mode at POST %s on port %s", EVENTS_PATH, settings.http_port)
    discord_bot = None
    if settings.discord_configured:
        from adapters.discord.app import DiscordAdapter

        discord_bot = DiscordAdapter(runtime.core, settings)
        stack.push_async_callback(discord_bot.stop)
        await discord_bot.start(on_failure=stop.set)  # a gateway that ends for good stops the process
        logger.info("Discord: logged in; connecting to the gateway")
    await stack.enter_async_context(web)
    if slack_http_path:
        public = f"{settings.public_url}{slack_http_path}" if settings.public_url else "BOT_PUBLIC_URL (not set)"
        print(  # said whatever the log level: it is what the Slack app's settings need
            f"Slack HTTP mode: listening on http://{web.host}:{web.port}{slack_http_path}; Slack must reach it "
            f"at {public}",
            file=sys.stderr,
            flush=True,
        )
    # What start-up built lives as long as the process: keep it out of the collector's way, so that full
    # collections during a burst of commands do not walk it again and again.
    gc.freeze()
    api = "the built-in sandbox" if runtime.sandbox else settings.api_url
    logger.info("infinipost-bot ready (Infinipost: %s; HTTP on port %s)", api, web.port)
    return discord_bot
