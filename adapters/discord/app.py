"""The Discord adapter: discord.py's client and command tree around the core, from start-up to shutdown.

Commands, buttons and form submissions are deferred at once (Discord allows 3 seconds; the interaction token then
lives 15 minutes) and answered, when the work is done, by editing the deferred message: the private "thinking"
message, or the preview whose button was pressed. Two answers cannot wait and are given at once: autocomplete
choices, and the "Schedule as post" modal, which must be the first response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.access import DiscordChannelAccess
from adapters.discord.approvals import ApprovalButton, Approvals
from adapters.discord.calendar import CalendarButton, CalendarSelect
from adapters.discord.commands import AnsweringTree, SlashCommands
from adapters.discord.components import (
    ApprovalHandler,
    DiscordClient,
    PageHandler,
    PreviewButton,
    PreviewHandler,
    ShardedDiscordClient,
)
from adapters.discord.dispatch import Dispatcher
from adapters.discord.message_command import MessageCommand
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.people import PLATFORM, DiscordPeople
from adapters.discord.settings import DiscordSettings
from bot.core import Core
from bot.errors import BotError

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# Guild events keep the role cache current for DISCORD_POSTER_ROLES; nothing privileged is needed.
INTENTS = discord.Intents(guilds=True)
RATE_LIMIT_WAIT = 10.0  # longer waits fail the call, and the outbox retries the notice later


def use_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL (a proxy or a test double), or at Discord.

    discord.py has no public setting for either: both are class attributes it reads (so this applies to every
    client in the process). That is why pyproject.toml pins discord.py's minor version, and a test checks that
    the bot reaches both URLs.
    """
    discord.http.Route.BASE = settings.discord_api_url or DEFAULT_API_URL
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url or DEFAULT_GATEWAY_URL)


class DiscordUnavailable(BotError):
    """Discord refused or could not be reached at start-up."""

    default_message = "Discord could not be reached, or refused the bot. Check DISCORD_TOKEN and DISCORD_API_URL."


class DiscordAdapter:
    """The bot's Discord application around the core: `start()` it, and `stop()` it on the way out."""

    def __init__(self, core: Core, settings: DiscordSettings) -> None:
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self._token = settings.discord_token.get_secret_value()
        self.core = core
        self.settings = settings
        use_endpoints(settings)
        _quiet_library_logs()
        self.dispatcher = Dispatcher(
            core,
            people=DiscordPeople(poster_roles=settings.discord_poster_roles),
            api_url=settings.discord_api_url,
        )
        self.approvals = Approvals(self.dispatcher)
        self.client = _client(
            settings, on_preview=self.dispatcher.press, approvals=self.approvals, on_page=self.dispatcher.turn
        )
        self.tree = AnsweringTree(self.client)
        self.slash_commands = SlashCommands(self.dispatcher)
        self.message_command = MessageCommand(self.dispatcher, open_forms=self.client.open_forms)
        core.serve(PLATFORM, workspaces=[str(server) for server in settings.discord_servers])
        core.grant_channel_access(PLATFORM, DiscordChannelAccess(self.client, people=self.dispatcher.people))
        if not settings.discord_servers:
            logger.warning(
                "Discord: no server may use the bot: list the operator's servers in DISCORD_GUILD_IDS "
                "(or, with the commands registered globally, in DISCORD_ALLOWED_GUILD_IDS)"
            )
        self.messenger = DiscordMessenger(self.client)
        self._gateway: asyncio.Task[None] | None = None
        self._stopping = False
        self._register()

    async def login(self) -> None:
        """Log in over REST, register the commands, and take over the channel notices of Discord channels."""
        try:
            await self.client.login(self._token)
            await self._sync()
        except discord.LoginFailure as exc:
            raise DiscordUnavailable(
                "Discord refused DISCORD_TOKEN. Copy the bot token again (Developer Portal → Bot → Reset Token)."
            ) from exc
        except discord.HTTPException as exc:
            raise DiscordUnavailable(f"Discord refused to start the bot (HTTP {exc.status}, code {exc.code}).") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DiscordUnavailable(
                f"Could not reach Discord at {self.settings.discord_api_url or DEFAULT_API_URL}."
            ) from exc
        self.core.attach(PLATFORM, self.messenger)

    async def start(self, *, on_failure: Callable[[], None] | None = None) -> None:
        """Log in, then keep the gateway connection in the background (one per shard this process runs, when
        sharded); `on_failure` runs if it ends for good."""
        await self.login()
        if self.settings.discord_shard_count is not None:
            shards = self.settings.discord_shard_ids or range(self.settings.discord_shard_count)
            logger.info(
                "Discord: connecting shards %s of %d",
                ", ".join(map(str, shards)),
                self.settings.discord_shard_count,
            )
        self._gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        self._gateway.add_done_callback(lambda task: self._gateway_ended(task, on_failure))

    def _gateway_ended(self, task: asyncio.Task[None], on_failure: Callable[[], None] | None) -> None:
        if self._stopping or task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        logger.error("Discord: the gateway connection ended for good (%s: %s)", type(error).__name__, error)
        if on_failure is not None:
            on_failure()

    async def stop(self) -> None:
        self._stopping = True
        self.core.detach(PLATFORM)
        await self.client.close()
        if self._gateway is not None:
            _, pending = await asyncio.wait({self._gateway}, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._gateway, return_exceptions=True)

    async def _sync(self) -> None:
        """Guild commands appear at once in DISCORD_GUILD_IDS; global ones can take Discord up to an hour.

        This runs once per process, at login over REST, whatever the number of shards: the commands belong to the
        application, not to a gateway connection. With several replicas, each replica still syncs: harmless, as
        every one puts the same commands, but redundant until a single gateway holder is chosen among them.
        """
        if not self.settings.discord_guild_ids:
            synced = await self.tree.sync()
            logger.info("Discord: %d commands registered globally", len(synced))
            return
        for guild_id in self.settings.discord_guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except discord.Forbidden:
                logger.warning(
                    "Discord: could not register the commands in server %s: the bot is not in it, or was added "
                    "without the applications.commands scope (see `infinipost-bot discord-invite`)",
                    guild_id,
                )
                continue
            logger.info("Discord: %d commands registered in server %s", len(synced), guild_id)

    def _register(self) -> None:
        commands: list[app_commands.Command[Any, ..., None] | app_commands.ContextMenu] = [
            *self.slash_commands.build(),
            self.message_command.menu(),
        ]
        for command in commands:
            command.add_check(self.slash_commands.admissible)
            self.tree.add_command(command)
        self.client.add_dynamic_items(PreviewButton, ApprovalButton, CalendarButton, CalendarSelect)


def _client(
    settings: DiscordSettings, *, on_preview: PreviewHandler, approvals: ApprovalHandler, on_page: PageHandler
) -> DiscordClient:
    """One gateway connection, as discord.py's plain client keeps it; or, with DISCORD_SHARD_COUNT, its sharded
    client, connecting only the shards in DISCORD_SHARD_IDS (all of them when empty)."""
    options: dict[str, Any] = {
        "on_preview": on_preview,
        "approvals": approvals,
        "on_page": on_page,
        "intents": INTENTS,
        "max_ratelimit_timeout": RATE_LIMIT_WAIT,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if settings.discord_shard_count is None:
        return DiscordClient(**options)
    shard_ids = list(settings.discord_shard_ids) or None
    return ShardedDiscordClient(**options, shard_count=settings.discord_shard_count, shard_ids=shard_ids)


def _quiet_library_logs() -> None:
    # discord.py's DEBUG logs carry raw gateway payloads and webhook URLs, which hold interaction tokens.
    library = logging.getLogger("discord")
    if library.getEffectiveLevel() < logging.INFO:
        library.setLevel(logging.INFO)
    # The bot never joins voice channels, so the missing voice libraries are not worth a warning at each start.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
