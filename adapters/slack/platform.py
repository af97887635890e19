"""Slack as `infinipost-bot run` starts it: Socket Mode with SLACK_APP_TOKEN, else HTTP mode on the bot's server."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from aiohttp import web

from adapters.slack.app import SlackAdapter
from adapters.slack.names import EVENTS_PATH, INSTALL_PATH
from adapters.slack.people import PLATFORM
from adapters.slack.settings import SlackSettings
from bot.core import Core

logger = logging.getLogger(__name__)


class SlackPlatform:
    """The bot's `Platform` for Slack."""

    name = PLATFORM

    def __init__(self, core: Core, settings: SlackSettings) -> None:
        self.settings = settings
        self.adapter = SlackAdapter(core, settings)

    async def start(self, *, on_failure: Callable[[], None]) -> None:
        await self.adapter.check_token()
        if self.settings.slack_socket_mode:
            await self.adapter.start_socket_mode()
            logger.info("Slack: Socket Mode connected")
        else:
            logger.info("Slack: HTTP mode at POST %s on port %s", EVENTS_PATH, self.settings.http_port)

    def mount(self, app: web.Application) -> None:
        if not self.settings.slack_socket_mode:
            self.adapter.mount(app)

    def listening(self, url: str) -> None:
        if self.settings.slack_socket_mode:
            return
        public = f"{self.settings.public_url}{EVENTS_PATH}" if self.settings.public_url else "BOT_PUBLIC_URL (not set)"
        print(  # said whatever the log level: it is what the Slack app's settings need
            f"Slack HTTP mode: listening on {url}{EVENTS_PATH}; Slack must reach it at {public}",
            file=sys.stderr,
            flush=True,
        )
        if self.settings.slack_oauth:
            install = f"{self.settings.public_url}{INSTALL_PATH}" if self.settings.public_url else INSTALL_PATH
            print(f"Slack OAuth: workspaces install the app at {install}", file=sys.stderr, flush=True)

    async def stop(self) -> None:
        await self.adapter.stop()
