"""Who a Slack user is to the bot: their zone, whether they may post, whether they are an admin, and (when the core
must know who may approve) the user groups they are in."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
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

PLATFORM = "slack"
CACHE_SECONDS = 600.0
CACHE_SIZE = 10_000  # people, and user groups: far more than one workspace asks about in ten minutes
WORKSPACES_CACHED = 1_000  # each workspace's user groups, with their members
# Shorter than the rest: someone just added to the approvers' group and pressing Approve is refused until it
# passes. One usergroups.list a minute per workspace at most, and only while people approve.
MEMBERSHIP_SECONDS = 60.0


@dataclass(frozen=True)
class _Profile:
    name: str
    timezone: str | None
    is_admin: bool
    locale: str | None = None


class SlackPeople:
    """Builds the neutral Caller from Slack's own facts (`users.info`), cached for a few minutes.

    Admins are workspace admins and owners, plus SLACK_ADMIN_USERS. Posters are the users and user groups that
    SLACK_POSTER_USERS lists, or everyone when it lists none; the core decides from these facts who may post.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        admins: Sequence[str] = (),
        posters: Sequence[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._admins = set(admins)
        self._posters = set(posters)
        self._profiles: TTLCache[str, _Profile, float] = TTLCache(CACHE_SIZE, CACHE_SECONDS, timer=monotonic)
        self._groups: TTLCache[str, frozenset[str], float] = TTLCache(CACHE_SIZE, CACHE_SECONDS, timer=monotonic)
        # Per workspace: each user group's ID and members, from one usergroups.list.
        self._memberships: TTLCache[str, dict[str, frozenset[str]], float] = TTLCache(
            WORKSPACES_CACHED, MEMBERSHIP_SECONDS, timer=monotonic
        )

    async def caller(
        self,
        *,
        team_id: str,
        user_id: str,
        channel_id: str,
        fallback_name: str = "",
        organization_id: str | None = None,
        client: AsyncWebClient | None = None,
        with_groups: bool = False,
    ) -> Caller:
        """`client`: the request's own (with OAuth, the only one holding its workspace's token). `with_groups`: also
        the user groups they are in, which tell the core who is an approver; only asked for when it matters, since
        it costs Slack calls."""
        client = client or self._client
        profile = await self._profile(user_id, fallback_name, client)
        is_admin = profile.is_admin or user_id in self._admins
        return Caller(
            platform=PLATFORM,
            workspace_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            display_name=profile.name,
            is_admin=is_admin,
            # An admin may post whatever the lists say: no lookup for them.
            is_poster=is_admin or await self._is_poster(user_id, client),
            profile_timezone=profile.timezone,
            organization_id=organization_id,
            locale=profile.locale,
            groups=await self._groups_of(user_id, team_id, organization_id, client) if with_groups else (),
        )

    async def _profile(self, user_id: str, fallback_name: str, client: AsyncWebClient) -> _Profile:
        cached = fresh(self._profiles, user_id)
        if cached is not None:
            return cached
        try:
            response = await client.users_info(user=user_id, include_locale=True)
            user: dict[str, Any] = response.get("user") or {}
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("users.info failed for %s: %s", user_id, _why(exc))
            return _Profile(name=fallback_name or user_id, timezone=None, is_admin=False)
        names = user.get("profile") or {}
        profile = _Profile(
            name=names.get("display_name") or names.get("real_name") or user.get("name") or fallback_name or user_id,
            timezone=user.get("tz"),
            is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
            locale=user.get("locale"),
        )
        self._profiles[user_id] = profile
        return profile

    async def _is_poster(self, user_id: str, client: AsyncWebClient) -> bool:
        if not self._posters or user_id in self._posters:
            return True
        for group in (g for g in self._posters if g.startswith("S")):
            if user_id in await self._group_members(group, client):
                return True
        return False

    async def _group_members(self, group_id: str, client: AsyncWebClient) -> frozenset[str]:
        cached = fresh(self._groups, group_id)
        if cached is not None:
            return cached
        try:
            response = await client.usergroups_users_list(usergroup=group_id)
            members = frozenset(response.get("users") or ())
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("usergroups.users.list failed for %s: %s", group_id, _why(exc))
            return frozenset()  # not cached: asked again next time
        self._groups[group_id] = members
        return members

    async def _groups_of(
        self, user_id: str, team_id: str, organization_id: str | None, client: AsyncWebClient
    ) -> tuple[str, ...]:
        memberships = await self._memberships_in(team_id, organization_id, client)
        return tuple(sorted(group for group, members in memberships.items() if user_id in members))

    async def _memberships_in(
        self, team_id: str, organization_id: str | None, client: AsyncWebClient
    ) -> dict[str, frozenset[str]]:
        """Every user group of a workspace with its members: one usergroups.list (rate tier 2) per workspace every
        minute at most, rather than a usergroups.users.list per group per press of a button."""
        cached = fresh(self._memberships, team_id)
        if cached is not None:
            return cached
        try:
            # An org-wide token must say which workspace's groups it means.
            response = await client.usergroups_list(include_users=True, team_id=team_id if organization_id else None)
            groups: list[dict[str, Any]] = response.get("usergroups") or []
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            # Not cached: asked again next time. Meanwhile only approvers named in person are recognised, and the
            # core's refusal names the approvers.
            logger.warning("usergroups.list failed for %s: %s", team_id, _why(exc))
            return {}
        memberships = {str(g["id"]): frozenset(g.get("users") or ()) for g in groups if g.get("id")}
        self._memberships[team_id] = memberships
        return memberships


def _why(exc: Exception) -> str:
    return error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
