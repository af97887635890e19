"""What every command handler needs, built once at start-up and passed down."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.accounts import AccountDirectory
from bot.api import InfinipostClient
from bot.config import Settings
from bot.dates import zone
from bot.errors import InvalidTime
from bot.media import MediaService
from bot.model import Caller
from bot.outbox import Outbox
from bot.places import Places
from storage.sqlite import Storage


@dataclass(frozen=True, kw_only=True)
class Context:
    settings: Settings
    storage: Storage
    api: InfinipostClient
    accounts: AccountDirectory
    outbox: Outbox
    media: MediaService
    clock: Callable[[], datetime]
    places: Places = field(default_factory=Places)
    # The tracker and `/posts refresh` may learn the same news at once; it must be told once.
    tracking_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def sandbox(self) -> bool:
        return self.settings.uses_sandbox

    async def zone_of(self, caller: Caller) -> ZoneInfo:
        """The caller's zone: their own setting, else their platform profile's, else the bot's default."""
        for name in (await self.storage.user_timezone(caller), caller.profile_timezone):
            if name:
                try:
                    return zone(name)
                except InvalidTime:
                    continue
        return zone(self.settings.default_timezone)
