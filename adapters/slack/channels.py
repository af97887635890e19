"""Who may see which Slack channel, for the calendar: a public channel every member of its workspace, a private
one only its members. What Slack will not describe (a private channel the bot was never invited to, one that is
gone) is seen by nobody. Answers are kept a minute: a person added to a channel sees its posts within one."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.refusals import error_code
from bot.caching import fresh
from bot.model import Caller

logger = logging.getLogger(__name__)

CHANNEL_SECONDS = 60.0
CHANNELS_CACHED = 10_000
MEMBERS_PAGE = 1000  # conversations.members' largest page

# A workspace's client (with OAuth, with that workspace's bot token); None when the app is not installed there.
ClientOf = Callable[[str], Awaitable[AsyncWebClient | None]]


@dataclass(frozen=True)
class _Channel:
    everyone: bool  # public: every member of the workspace may read it
    members: frozenset[str] = frozenset()  # a private channel's, or a direct message's one person


_NOBODY = _Channel(everyone=False)


class WorkspaceClients:
    """The Web API client for a workspace: the app's own, or with OAuth one holding the workspace's bot token."""

    def __init__(self, client: AsyncWebClient, *, tokens: Callable[[str], Awaitable[str | None]] | None = None) -> None:
        self._client = client
        self._tokens = tokens

    async def of(self, workspace_id: str) -> AsyncWebClient | None:
        if self._tokens is None:
            return self._client
        token = await self._tokens(workspace_id)
        if token is None:
            return None
        client = self._client
        return AsyncWebClient(token=token, base_url=client.base_url, retry_handlers=[], timeout=client.timeout)


class SlackChannelAccess:
    """The calendar's `ChannelAccess` on Slack (`conversations.info`, and `conversations.members` for private
    channels; scopes `channels:read` and `groups:read`)."""

    def __init__(self, clients: ClientOf, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._clients = clients
        self._channels: TTLCache[tuple[str, str], _Channel, float] = TTLCache(
            CHANNELS_CACHED, CHANNEL_SECONDS, timer=monotonic
        )
        self._public_members: TTLCache[tuple[str, str], _Channel, float] = TTLCache(
            CHANNELS_CACHED, CHANNEL_SECONDS, timer=monotonic
        )
        self._guests: TTLCache[tuple[str, str], bool, float] = TTLCache(
            CHANNELS_CACHED, CHANNEL_SECONDS, timer=monotonic
        )

    async def visible(self, caller: Caller, channel_ids: Sequence[str]) -> set[str]:
        """The channels among `channel_ids` (of the caller's workspace) the caller may see. A guest (single- or
        multi-channel) reads only the channels they are in, public ones included."""
        client = await self._clients(caller.workspace_id)
        if client is None:
            return set()
        guest = await self._guest(client, caller.workspace_id, caller.user_id)
        seen = set()
        for channel_id in channel_ids:
            channel = await self._channel(client, caller.workspace_id, channel_id)
            if channel.everyone and guest:
                channel = await self._with_members(client, caller.workspace_id, channel_id)
            if (channel.everyone and not guest) or caller.user_id in channel.members:
                seen.add(channel_id)
        return seen

    async def _guest(self, client: AsyncWebClient, workspace_id: str, user_id: str) -> bool:
        """Whether the person is a guest; one Slack will not describe counts as one (they see less, not more)."""
        key = (workspace_id, user_id)
        known = fresh(self._guests, key)
        if known is not None:
            return bool(known)
        try:
            user: dict[str, Any] = (await client.users_info(user=user_id)).get("user") or {}
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            logger.info("users.info failed for %s (%s); taken as a guest", user_id, type(exc).__name__)
            return True
        guest = bool(user.get("is_restricted") or user.get("is_ultra_restricted"))
        self._guests[key] = guest
        return guest

    async def _with_members(self, client: AsyncWebClient, workspace_id: str, channel_id: str) -> _Channel:
        """A public channel with its members listed: what a guest's view needs."""
        key = (workspace_id, channel_id)
        known = fresh(self._public_members, key)
        if known is not None:
            return known
        try:
            channel = _Channel(everyone=True, members=await self._members(client, channel_id))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            logger.info("conversations.members failed for %s (%s); hidden from guests", channel_id, type(exc).__name__)
            return _Channel(everyone=True)
        self._public_members[key] = channel
        return channel

    async def _channel(self, client: AsyncWebClient, workspace_id: str, channel_id: str) -> _Channel:
        key = (workspace_id, channel_id)
        cached = fresh(self._channels, key)
        if cached is not None:
            return cached
        try:
            info: dict[str, Any] = (await client.conversations_info(channel=channel_id)).get("channel") or {}
            channel = await self._described(client, info)
        except SlackApiError as exc:
            # Slack will not describe it: a private channel the bot is not in, or one that is gone.
            logger.info("conversations.info refused for %s: %s; nobody sees its posts", channel_id, error_code(exc))
            channel = _NOBODY
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not ask Slack who sees %s (%s); hidden for now", channel_id, type(exc).__name__)
            return _NOBODY  # not kept: asked again next time
        self._channels[key] = channel
        return channel

    async def _described(self, client: AsyncWebClient, info: dict[str, Any]) -> _Channel:
        if info.get("is_im"):
            return _Channel(everyone=False, members=frozenset({str(info.get("user") or "")}))
        if info.get("is_private") is False and not info.get("is_mpim"):
            return _Channel(everyone=True)
        return _Channel(everyone=False, members=await self._members(client, str(info["id"])))

    async def _members(self, client: AsyncWebClient, channel_id: str) -> frozenset[str]:
        members: set[str] = set()
        cursor = None
        while True:
            page = await client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor)
            members.update(str(m) for m in page.get("members") or ())
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return frozenset(members)
