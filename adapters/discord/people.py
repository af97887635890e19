"""Who a Discord member is to the bot: whether they may post, whether they are an admin, where they are."""

from __future__ import annotations

import asyncio
import logging
import re
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
# Mentions as a string option carries them: <@123> (<@!123> from older clients) a member, <@&456> a role.
MENTION = re.compile(r"<@(!?|&)([0-9]{1,20})>")
NAMES_AT_ONCE = 25  # members looked up for one command's mentions; the rest stay numbers
NAMES_BUDGET = 5.0  # seconds to find their names, after the interaction was deferred
NAME_LIMIT = 80
# A member as their latest interaction gave them (roles included), kept while its token lives: what they may see
# is then read without the Server Members intent, which the bot does not ask for.
MEMBER_SECONDS = 15 * 60.0
MEMBERS_KEPT = 1000


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
        self._members: TTLCache[tuple[int, int], discord.Member, float] = TTLCache(
            MEMBERS_KEPT, MEMBER_SECONDS, timer=monotonic
        )

    async def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        member = interaction.user
        if interaction.guild_id is None or interaction.channel_id is None or not isinstance(member, discord.Member):
            raise NotAllowed(NOT_IN_DIRECT_MESSAGES)
        self._members[interaction.guild_id, member.id] = member
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
            groups=role_ids(member),
        )

    def member(self, guild_id: int, user_id: int) -> discord.Member | None:
        """The member as their latest interaction in the server gave them, if it was within MEMBER_SECONDS."""
        return fresh(self._members, (guild_id, user_id))

    async def name_mentions(self, interaction: discord.Interaction[Any], text: str) -> str:
        """`text` with each member and role mention given its name (`<@123|Alice>`, `<@&456|Design>`), as far as
        the server's cache or Discord's REST API tell them within NAMES_BUDGET; the core then shows names rather
        than numbers. A mention whose name is not found stays as it was."""
        found = MENTION.findall(text)
        if not found or interaction.guild_id is None:
            return text
        names: dict[tuple[str, int], str] = {}
        try:
            async with asyncio.timeout(NAMES_BUDGET):
                await self._find_names(interaction.client, interaction.guild_id, found, names)
        except TimeoutError:
            logger.warning("Discord: names of mentions took too long; some are left as IDs")

        def named(match: re.Match[str]) -> str:
            kind = "&" if match[1] == "&" else ""
            name = names.get((kind, int(match[2])))
            return f"<@{kind}{match[2]}|{name}>" if name else match[0]

        return MENTION.sub(named, text)

    async def _find_names(
        self,
        client: discord.Client,
        guild_id: int,
        found: list[tuple[str, str]],
        names: dict[tuple[str, int], str],
    ) -> None:
        """Fill `names` (filled as they come, so that a timeout keeps those found) with the mentioned roles'
        and members' names."""
        role_ids = {int(ident) for sign, ident in found if sign == "&"}
        member_ids = list(dict.fromkeys(int(ident) for sign, ident in found if sign != "&"))[:NAMES_AT_ONCE]
        guild = client.get_guild(guild_id)
        if role_ids:
            with_roles = guild or await self._fetched_guild(client, guild_id)
            for role_id in role_ids:
                role = with_roles.get_role(role_id) if with_roles is not None else None
                if role is not None:
                    names["&", role_id] = _plain(role.name)
        if not member_ids:
            return
        if guild is None:
            guild = await self._fetched_guild(client, guild_id)
        if guild is None:
            return
        server = guild

        async def find(member_id: int) -> None:
            member = server.get_member(member_id)
            if member is None:
                try:
                    member = await server.fetch_member(member_id)
                except discord.NotFound:
                    return  # not a member (any more): the core shows the number
                except discord.HTTPException as exc:
                    logger.warning("Discord: could not read a mentioned member (HTTP %s)", exc.status)
                    return
            names["", member_id] = _plain(member.display_name)

        await asyncio.gather(*(find(member_id) for member_id in member_ids))

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


def role_ids(member: discord.Member) -> tuple[str, ...]:
    """The IDs of the member's roles, as the interaction carries them: who is an approver by role.

    discord.py's public `Member.roles` drops the roles its cache of the server does not hold (all of them before
    the server's GUILD_CREATE); the interaction's member payload, kept as `_roles`, has every one of them.
    """
    return tuple(str(role_id) for role_id in member._roles)


def _plain(name: str) -> str:
    """A name as a mention's `|name` part may hold it: on one line, without the `>` that would end the mention."""
    return " ".join(name.replace(">", "").replace("|", "").split())[:NAME_LIMIT]
