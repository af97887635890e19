"""What an operator's monitoring asks the bot's HTTP server beside `/healthz` (which bot.web answers without
touching anything): `/readyz`, whether the database answers, and `/metrics`, what the bot counted and what its
database holds.

Both ask the database for at most DATABASE_SECONDS, so that a database that hangs turns into a 503 or an absent
gauge, never into a probe that hangs with it.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.context import Context
from bot.errors import StorageError
from bot.metrics import StateSample, sample_state
from bot.web import Throttled

logger = logging.getLogger(__name__)

DATABASE_SECONDS = 2.0  # well inside the usual probe and scrape timeouts (Kubernetes 1 s+, Prometheus 10 s)


class Probes:
    """The handlers of `/readyz` and `/metrics` over one running bot."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._unanswered = Throttled(f"the database did not answer a probe within {DATABASE_SECONDS:g} s")

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/readyz", self.ready)
        app.router.add_get("/metrics", self.metrics)

    async def ready(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DATABASE_SECONDS):
                await self._ctx.storage.ping()
        except (StorageError, TimeoutError):
            self._unanswered()
            return web.Response(status=503, text="database not answering")
        return web.Response(text="ready")

    async def metrics(self, request: web.Request) -> web.Response:
        ctx = self._ctx
        try:
            async with asyncio.timeout(DATABASE_SECONDS):
                # The platforms this process delivers to: another process's notices are not this one's backlog.
                sample = await sample_state(ctx.storage, now=ctx.clock(), platforms=tuple(ctx.outbox.messengers))
        except (StorageError, TimeoutError):
            self._unanswered()
            sample = StateSample()
        return web.Response(body=ctx.metrics.render(sample), headers={"Content-Type": CONTENT_TYPE_LATEST})
