"""What the app needs of a chat platform to run it beside the others. The core declares it; each adapter package
implements it; `infinipost-bot run` starts every configured platform the same way, so that a new platform is one
more adapter package and one more entry in the app's list, with no change here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.model import Caller


class Platform(Protocol):
    """A chat platform's adapter as `infinipost-bot run` drives it.

    In order: it is built (and attaches its messenger with `Core.attach` once it can deliver notices), `start()`,
    `mount()` on the bot's HTTP server, which then starts, `listening()`, and at the end `stop()`, called
    whatever happened before.
    """

    @property
    def name(self) -> str:
        """The platform of its callers' places and channels ("slack"), for logs and notices."""
        ...

    async def start(self, *, on_failure: Callable[[], None]) -> None:
        """Connect, or raise BotError with a sentence saying what to fix. `on_failure` is called if the platform's
        connection later ends for good: the bot then stops, with exit status 1."""
        ...

    def mount(self, app: web.Application) -> None:
        """Add the routes this platform serves on the bot's HTTP server, which has not started yet."""
        ...

    def listening(self, url: str) -> None:
        """The bot's HTTP server answers at `url` (http://host:port): tell the operator what the platform needs."""
        ...

    async def stop(self) -> None: ...


class ChannelAccess(Protocol):
    """What a chat platform says of who may see which channel: the calendar never shows a post from a private
    channel to someone who is not in it."""

    async def visible(self, caller: Caller, channel_ids: Sequence[str]) -> set[str]:
        """The channels among `channel_ids` (of the caller's workspace) the caller may see."""
        ...
