"""A platform only one replica may run at a time, such as Discord's gateway without shards: each replica asks the
database for the role, the one that has it runs the platform and renews the role, and the others stand by and take
over once it stops renewing (it died, or lost the database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.errors import BotError, StorageError
from bot.platform import Platform
from bot.ports import Leases

logger = logging.getLogger(__name__)

# A holder that stops renewing loses the role this long after its last renewal; it renews three times as often.
ROLE_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Role:
    """A role one replica has at a time (`name`), and how long a holder that stops renewing keeps it."""

    name: str
    lease: timedelta = ROLE_LEASE


class HeldPlatform:
    """Runs the platform `build` makes only while this replica has the role `role`; a Platform itself.

    A platform built this way serves no HTTP routes: it may not be running when the server starts.
    """

    def __init__(
        self,
        build: Callable[[], Platform],
        *,
        name: str,
        role: Role,
        leases: Leases,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._build = build
        self._name = name
        self._role = role.name
        self._leases = leases
        self._lease = role.lease
        self._now = clock
        self._running: Platform | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._on_failure: Callable[[], None] = lambda: None

    @property
    def name(self) -> str:
        return self._name

    async def start(self, *, on_failure: Callable[[], None]) -> None:
        """Start the platform at once if the role is free, so that a refused token still stops `run` with its
        sentence; otherwise stand by."""
        self._on_failure = on_failure
        if await self._hold():
            await self._run()
        else:
            logger.info("%s: another replica has the %s; this one takes over if it stops", self._name, self._role)
        self._keeper = asyncio.create_task(self._keep(), name=f"{self._role}-lease")

    def mount(self, app: web.Application) -> None:
        pass

    def listening(self, url: str) -> None:
        pass

    async def stop(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        await self._halt()
        with contextlib.suppress(StorageError):
            await self._leases.release(self._role)  # the next replica need not wait for it to expire

    async def _hold(self) -> bool:
        now = self._now()
        try:
            return await self._leases.hold(self._role, now=now, until=now + self._lease)
        except StorageError:
            return False

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            held = await self._hold()
            if held and self._running is None:
                logger.info("%s: took over the %s", self._name, self._role)
                try:
                    await self._run()
                except BotError as exc:
                    logger.error("%s: could not start: %s", self._name, exc.user_message)
                    self._on_failure()
                    return
            elif not held and self._running is not None:
                # Another replica may have it by now: two gateways would answer every command twice.
                logger.warning("%s: could not renew the %s; stopping here", self._name, self._role)
                await self._halt()

    async def _run(self) -> None:
        platform = self._build()
        try:
            await platform.start(on_failure=self._on_failure)
        except BaseException:
            await platform.stop()
            raise
        self._running = platform

    async def _halt(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            await running.stop()
