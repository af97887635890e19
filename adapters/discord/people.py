"""Who a Discord member is to the bot: whether they may post, whether they are an admin, where they are."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import discord
from cachetools import TTLCache

from bot.caching import fresh
from bot.errors import NotAllowed
from bot.model import Caller, Place
from bot.texts import NOT_IN_DIRECT_MESSAGES

logger = logging.getLogger(__name__)

PLATFORM = "discord"
CACHE_SECONDS = 60.0  # a server's roles read over REST: a renamed or deleted role stops counting within a minute
CACHE_SIZE = 100  # servers: the operator names a handful


def place_of(interaction: discord.Interaction[Any]) -> Place | None:
    """The server an interaction comes from; None in direct messages, where the commands are not offered."""
    if interaction.guild_id is None:
        return None
    return Place(platform=PLATFORM, workspace_id=str(interaction.guild_id))


class DiscordPeople:
    """Builds the neutral Caller from an interaction.

    Admins are members with Manage Server (Administrator implies it). Posters are members with a role in
    DISCORD_POSTER_ROLES (the core lets admins post as well): an all-digit entry is a role ID and matches only
    that role's ID (a role *named* with those digits is not it); any other entry matches role names, in any case.
    Discord exposes no time zone, so `profile_timezone` is always None: people set theirs with /timezone.
    """

    def __init__(self, *, poster_roles: Sequence[str] = (), monotonic: Callable[[], float] = time.monotonic) -> None:
        entries = [role.strip() for role in poster_roles if role.strip()]
        self._role_ids = {int(entry) for entry in entries if entry.isascii() and entry.isdigit()}
        self._role_names = {entry.lower() for entry in entries if not (entry.isascii() and entry.isdigit())}
        self._guilds: TTLCache[int, discord.Guild, float] = TTLCache(CACHE_SIZE, CACHE_SECONDS, timer=monotonic)

    async def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        member = interaction.user
        if interaction.guild_id is None or interaction.channel_id is None or not isinstance(member, discord.Member):
            raise NotAllowed(NOT_IN_DIRECT_MESSAGES)
        permissions = interaction.permissions
        is_admin = permissions.administrator or permissions.manage_guild
        return Caller(
            platform=PLATFORM,
            workspace_id=str(interaction.guild_id),
            channel_id=str(interaction.channel_id),
            user_id=str(member.id),
            display_name=member.display_name,
            is_admin=is_admin,
            # An admin may post whatever the roles say: no lookup for them.
            is_poster=is_admin or await self._has_poster_role(interaction.client, member),
            profile_timezone=None,
            locale=interaction.locale.value,
        )

    async def _has_poster_role(self, client: discord.Client, member: discord.Member) -> bool:
        if not self._role_ids and not self._role_names:
            return False
        return any(
            role.id in self._role_ids or role.name.lower() in self._role_names
            for role in await self._roles(client, member)
        )

    async def _roles(self, client: discord.Client, member: discord.Member) -> list[discord.Role]:
        """The member's roles: from the gateway's guild cache, which role updates keep current, else over REST."""
        if client.get_guild(member.guild.id) is not None:
            return member.roles
        # The server is not cached (its GUILD_CREATE has not arrived yet): the server with its roles, then the
        # member, whose roles only resolve against a server that has them.
        guild = await self._fetched_guild(client, member.guild.id)
        if guild is None:
            return []
        try:
            return (await guild.fetch_member(member.id)).roles
        except discord.HTTPException as exc:
            logger.warning("could not read a member of server %s (HTTP %s); no role counts", guild.id, exc.status)
            return []

    async def _fetched_guild(self, client: discord.Client, guild_id: int) -> discord.Guild | None:
        cached = fresh(self._guilds, guild_id)
        if cached is not None:
            return cached
        try:
            guild = await client.fetch_guild(guild_id, with_counts=False)
        except discord.HTTPException as exc:
            logger.warning("could not read the roles of server %s (HTTP %s); no role counts", guild_id, exc.status)
            return None
        self._guilds[guild_id] = guild
        return guild
