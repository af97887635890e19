"""Who may see which Discord channel, for the calendar: the View Channel permission, as discord.py works it out
from the server's roles and each channel's permission overwrites in the gateway's cache."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord

from adapters.discord.components import why
from adapters.discord.people import DiscordPeople
from bot.model import Caller

logger = logging.getLogger(__name__)


class DiscordChannelAccess:
    """The core's `ChannelAccess` for Discord: a channel is visible to a member who has View Channel in it.

    The member is the one their interaction carried (see `DiscordPeople.member`), else read over REST. A thread
    follows its parent channel. A channel the bot cannot see or does not hold in its cache (deleted, or a thread
    archived since) counts as not visible, and so does every channel of a server not in the cache yet.
    """

    def __init__(self, client: discord.Client, *, people: DiscordPeople) -> None:
        self._client = client
        self._people = people

    async def visible(self, caller: Caller, channel_ids: Sequence[str]) -> set[str]:
        if not (caller.workspace_id.isdigit() and caller.user_id.isdigit()):
            return set()
        guild = self._client.get_guild(int(caller.workspace_id))
        if guild is None:
            logger.info("Discord: server %s is not in the cache yet; no channel counts as visible", caller.workspace_id)
            return set()
        member = await self._member(guild, int(caller.user_id))
        if member is None:
            return set()
        return {channel_id for channel_id in channel_ids if _may_view(guild, member, channel_id)}

    async def _member(self, guild: discord.Guild, user_id: int) -> discord.Member | None:
        member = self._people.member(guild.id, user_id) or guild.get_member(user_id)
        if member is not None:
            return member
        try:
            return await guild.fetch_member(user_id)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            logger.warning("Discord: could not read a member of server %s (%s)", guild.id, why(exc))
            return None


def _may_view(guild: discord.Guild, member: discord.Member, channel_id: str) -> bool:
    channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
    if channel is None:
        return False
    try:
        permissions = channel.permissions_for(member)  # a thread answers with its parent's overwrites
    except discord.ClientException:  # a thread whose parent is not in the cache
        return False
    if isinstance(channel, discord.Thread) and channel.is_private():
        # A private thread is read by its members and by those who manage threads, not by all of its parent's.
        in_it = channel.owner_id == member.id or any(m.id == member.id for m in channel.members)
        return permissions.view_channel and (in_it or permissions.manage_threads)
    return permissions.view_channel
