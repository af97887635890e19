"""Discord as `infinipost-bot run` starts it: a login over REST, then the gateway in the background."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from adapters.discord.app import DiscordAdapter
from adapters.discord.people import PLATFORM
from adapters.discord.settings import DiscordSettings
from bot.core import Core

logger = logging.getLogger(__name__)


class DiscordPlatform:
    """The bot's `Platform` for Discord: it serves no HTTP route."""

    name = PLATFORM

    def __init__(self, core: Core, settings: DiscordSettings) -> None:
        self.adapter = DiscordAdapter(core, settings)

    async def start(self, *, on_failure: Callable[[], None]) -> None:
        await self.adapter.start(on_failure=on_failure)
        logger.info("Discord: logged in; connecting to the gateway")

    def mount(self, app: web.Application) -> None:
        pass

    def listening(self, url: str) -> None:
        pass

    async def stop(self) -> None:
        await self.adapter.stop()
