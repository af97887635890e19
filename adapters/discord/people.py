"""Who a Discord member is to the bot: whether they may post, whether they are an admin, where they are."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import discord

from bot.errors import NotAllowed
from bot.model import Caller, Place

logger = logging.getLogger(__name__)

PLATFORM = "discord"
CACHE_SECONDS = 600.0


def place_of(interaction: discord.Interaction[Any]) -> Place | None:
    """The server an interaction comes from; None in direct messages, where the commands are not offered."""
    if interaction.guild_id is None:
        return None
    return Place(platform=PLATFORM, workspace_id=str(interaction.guild_id))


class DiscordPeople:
    """Builds the neutral Caller from an interaction.

    Admins are members with Manage Server (Administrator implies it). Only admins and members with a role whose
    ID or name (any case) is in DISCORD_POSTER_ROLES may schedule posts. Discord exposes no time zone, so
    `profile_timezone` is always None: people set theirs with /timezone.
    """

    def __init__(self, *, poster_roles: Sequence[str] = (), monotonic: Callable[[], float] = time.monotonic) -> None:
        self._poster_roles = {role.strip().lower() for role in poster_roles if role.strip()}
        self._monotonic = monotonic
        self._role_names: dict[int, tuple[float, dict[int, str]]] = {}

    async def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        member = interaction.user
        if interaction.guild_id is None or interaction.channel_id is None or not isinstance(member, discord.Member):
            raise NotAllowed("Use the bot's commands in a server channel, not in direct messages.")
        permissions = interaction.permissions
        is_admin = permissions.administrator or permissions.manage_guild
        return Caller(
            platform=PLATFORM,
            workspace_id=str(interaction.guild_id),
            channel_id=str(interaction.channel_id),
            user_id=str(member.id),
            display_name=member.display_name,
            is_admin=is_admin,
            may_post=is_admin or await self._has_poster_role(interaction.client, member),
            profile_timezone=None,
        )

    async def _has_poster_role(self, client: discord.Client, member: discord.Member) -> bool:
        if not self._poster_roles:
            return False
        for role_id, name in await self._roles(client, member):
            if str(role_id) in self._poster_roles or name.lower() in self._poster_roles:
                return True
        return False

    async def _roles(self, client: discord.Client, member: discord.Member) -> list[tuple[int, str]]:
        """The member's roles with their names: from the gateway's guild cache, else from the REST API."""
        if client.get_guild(member.guild.id) is not None:
            return [(role.id, role.name) for role in member.roles]
        # The guild is not in the cache (its GUILD_CREATE has not arrived yet): the interaction carried the
        # member's role IDs, and the names come from GET /guilds/{id}/roles.
        names = await self._guild_role_names(member.guild)
        return [(role_id, names.get(role_id, "")) for role_id in member._roles]

    async def _guild_role_names(self, guild: discord.Guild) -> dict[int, str]:
        cached = self._role_names.get(guild.id)
        if cached and self._monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            names = {role.id: role.name for role in await guild.fetch_roles()}
        except discord.HTTPException as exc:
            logger.warning(
                "could not read the roles of server %s (HTTP %s); matching role IDs only", guild.id, exc.status
            )
            return {}
        self._role_names[guild.id] = (self._monotonic(), names)
        return names
