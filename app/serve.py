"""`infinipost-bot run` with chat platforms configured: the core, its workers and every configured platform."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack

from app.platforms import PlatformEntry
from app.runtime import Runtime, check_api_key, start_runtime
from app.settings import Settings
from bot.held_platform import HeldPlatform
from bot.platform import Platform

logger = logging.getLogger(__name__)


async def serve(settings: Settings, platforms: Sequence[PlatformEntry]) -> int:
    """Run `platforms` until SIGINT or SIGTERM, which also end a start-up still under way; a platform whose
    connection ends for good stops them all. Returns the process exit code."""
    stop = asyncio.Event()
    failed = False
    main = asyncio.current_task()
    assert main is not None
    ready = False

    def on_signal() -> None:
        # Start-up waits on things that may never come (Socket Mode tries to connect for ever), so a signal
        # cancels it; what it had started is closed on the way out.
        if not ready and not stop.is_set():
            main.cancel()
        stop.set()

    def on_failure() -> None:
        nonlocal failed
        failed = True
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, on_signal)
    try:
        async with AsyncExitStack() as stack:
            await _start(settings, platforms, stack, on_failure=on_failure)
            ready = True
            await stop.wait()
            logger.info("shutting down")
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        main.uncancel()
        logger.info("stopped while starting")
        return 0
    return 1 if failed else 0


def _platform(entry: PlatformEntry, runtime: Runtime, settings: Settings) -> Platform:
    role = entry.single(settings)
    if role is None:
        return entry.build(runtime.core, settings)
    return HeldPlatform(
        lambda: entry.build(runtime.core, settings), name=entry.name, role=role, leases=runtime.ctx.storage.leases
    )


async def _start(
    settings: Settings,
    platforms: Sequence[PlatformEntry],
    stack: AsyncExitStack,
    *,
    on_failure: Callable[[], None],
) -> None:
    """The core, its workers and every platform, closed by `stack`; a platform whose connection ends for good
    calls `on_failure`."""
    runtime = await stack.enter_async_context(start_runtime(settings))
    await check_api_key(runtime)
    web = runtime.web  # routes are added before it starts: the platforms', beside the media links
    started = []
    for entry in platforms:
        platform = _platform(entry, runtime, settings)
        stack.push_async_callback(platform.stop)
        await platform.start(on_failure=on_failure)
        platform.mount(web.app)
        started.append(platform)
    await stack.enter_async_context(web)
    for platform in started:
        platform.listening(f"http://{web.host}:{web.port}")
    # What start-up built lives as long as the process: keep it out of the collector's way, so that full
    # collections during a burst of commands do not walk it again and again.
    gc.freeze()
    api = "the built-in sandbox" if runtime.sandbox else settings.api_url
    names = ", ".join(platform.name for platform in started)
    logger.info("infinipost-bot ready: %s (Infinipost: %s; HTTP on port %s)", names, api, web.port)
