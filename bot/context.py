"""What every command handler needs, built once at start-up and passed down, and the time limit it works under."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.accounts import AccountDirectory
from bot.api import InfinipostClient
from bot.calendar.links import CalendarLinks
from bot.clients import ApiClients, WorkspaceApi
from bot.config import Settings
from bot.dates import zone
from bot.errors import InvalidTime
from bot.import_table import ImportPlan
from bot.media import MediaService
from bot.metrics import Metrics
from bot.model import Caller, ChannelRef, Place
from bot.outbox import Outbox
from bot.places import Places
from bot.platform import ChannelAccess
from bot.ports import Store


@dataclass(frozen=True, kw_only=True)
class Context:
    settings: Settings
    storage: Store
    clients: ApiClients  # each workspace's Infinipost client: its own key's, else the default's
    outbox: Outbox
    media: MediaService
    clock: Callable[[], datetime]
    places: Places = field(default_factory=Places)
    metrics: Metrics = field(default_factory=Metrics)  # the same the API client counts into
    # Each person's last `/posts` in each channel, for `/posts more`: a page is for them, not for the channel.
    listings: dict[tuple[str, str, str, str], str] = field(default_factory=dict)  # -> its `/posts` arguments
    # `/cancel` questions waiting for an answer: token -> (what to cancel, who asked, when)
    confirmations: dict[str, tuple[str, tuple[str, str, str], datetime]] = field(default_factory=dict)
    # `/import` previews waiting for their author's yes: token -> the rows to send
    imports: dict[str, ImportPlan] = field(default_factory=dict)
    # The tracker and `/posts refresh` may learn the same news at once; it must be told once.
    tracking_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Looking for a look-alike create whose outcome is unknown, and moving a request to `sending`, are one step.
    create_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The calendar's signed links (None: the bot has no HTTP server people can reach), and what each chat platform
    # says of who may see which channel (a platform without one: everyone sees every channel, as in the console).
    calendar_links: CalendarLinks | None = None
    channel_access: dict[str, ChannelAccess] = field(default_factory=dict)

    @property
    def sandbox(self) -> bool:
        return self.settings.uses_sandbox

    @property
    def api(self) -> InfinipostClient:
        """The default key's client: for the bot's own checks. A workspace's work goes through `infinipost`."""
        return self.clients.default.api

    @property
    def accounts(self) -> AccountDirectory:
        """The default key's accounts: for the bot's own checks. A workspace's go through `infinipost`."""
        return self.clients.default.accounts

    async def infinipost(self, where: Caller | ChannelRef | Place) -> WorkspaceApi:
        """The Infinipost client and accounts of the workspace a caller, channel or place is in: its own key's
        if an admin connected one, else the default key's. Asked at each call, so that it is the current key."""
        return await self.clients.of(where.platform, where.workspace_id)

    async def zone_of(self, caller: Caller) -> ZoneInfo:
        """The caller's zone: their own setting, else their platform profile's, else the bot's default."""
        for name in (await self.storage.preferences.user_timezone(caller), caller.profile_timezone):
            if name:
                try:
                    return zone(name)
                except InvalidTime:
                    continue
        return zone(self.settings.default_timezone or "UTC")


_time_limit: ContextVar[asyncio.Timeout | None] = ContextVar("command_time_limit", default=None)


@asynccontextmanager
async def time_limit(seconds: float) -> AsyncIterator[asyncio.Timeout]:
    """Bound a command's work: past `seconds` it is cancelled, and leaving raises TimeoutError; until
    `run_to_the_end()` lifts the bound."""
    async with asyncio.timeout(seconds) as limit:
        token = _time_limit.set(limit)
        try:
            yield limit
        finally:
            _time_limit.reset(token)


def run_to_the_end() -> None:
    """From here on the command is not cut short: a create that may reach Infinipost is never interrupted (its
    own timeout bounds it). Once the limit has passed, it is too late: the command stops at its next step."""
    limit = _time_limit.get()
    if limit is not None and not limit.expired():
        limit.reschedule(None)


def out_of_time() -> bool:
    """Whether the running command's time limit has passed (and cancelled it)."""
    limit = _time_limit.get()
    return limit is not None and limit.expired()
