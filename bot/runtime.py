"""Assembles the bot from its settings: database, Infinipost (or the sandbox), core and background workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.accounts import AccountDirectory
from bot.api import InfinipostClient
from bot.config import Settings
from bot.context import Context
from bot.core import Core
from bot.dates import warm_up
from bot.outbox import Outbox
from bot.sandbox import SANDBOX_KEY, SandboxServer
from storage.sqlite import Storage

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """A running bot: the core the adapters call, and the workers that run beside them."""

    core: Core
    sandbox: SandboxServer | None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        return self.core.ctx

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run a worker until the runtime stops; a crash is logged, not silent."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)

    async def stop_workers(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("worker %s stopped", task.get_name(), exc_info=task.exception())


@asynccontextmanager
async def start_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    workers: bool = True,
) -> AsyncIterator[Runtime]:
    """Open everything the settings ask for; close it all on exit, whatever happens."""
    async with AsyncExitStack() as stack:
        storage = await Storage.open(settings.database, clock=clock)
        stack.push_async_callback(storage.close)
        interrupted = await storage.interrupted_to_unconfirmed()
        if interrupted:
            logger.warning("requests %s were interrupted during their create call: now unconfirmed", interrupted)
        sandbox = None
        if settings.api_key is None:
            sandbox = await stack.enter_async_context(SandboxServer(clock=clock))
            base_url, key = sandbox.url, SANDBOX_KEY
        else:
            base_url, key = settings.api_url, settings.api_key.get_secret_value()
        api = await stack.enter_async_context(InfinipostClient(base_url=base_url, api_key=key, transport=transport))
        outbox = Outbox(storage, clock=clock)
        ctx = Context(
            settings=settings,
            storage=storage,
            api=api,
            accounts=AccountDirectory(api, configured_ids=settings.accounts),
            outbox=outbox,
            clock=clock,
        )
        warm_up()
        runtime = Runtime(core=Core(ctx), sandbox=sandbox)
        if workers:
            runtime.spawn(outbox.run(), "outbox")
        try:
            yield runtime
        finally:
            await runtime.stop_workers()
