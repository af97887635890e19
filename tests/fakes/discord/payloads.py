"""The JSON shapes Discord sends: users, members, roles, channels, the server, the application, the READY event,
message edits, and error bodies. Pure functions of what they describe; FakeDiscord keeps the state."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

APP_ID = 1100000000000000001  # the application, and its bot user
BOT_TOKEN = (
    base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GqJk2c.not-a-real-token_0123456789abcdefghij"
)
GUILD_ID = 1200000000000000001
STRANGER_GUILD = 1200000000000000999  # a server someone else added the bot to; the operator never named it
CHANNEL_ID = 1300000000000000001
ALICE = 1400000000000000001  # has the poster role
BOB = 1400000000000000002  # no role, no permission
ADMIN = 1400000000000000003  # Manage Server
POSTER_ROLE_ID = 1500000000000000001
POSTER_ROLE = "Social Team"  # role names may have spaces

# Permission bits (Discord's "permissions" strings): what members commonly have, and Manage Server on top.
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 38)
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7
DISCORD_EPOCH_MS = 1420070400000
JSON = "application/json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly `application/json`: discord.py compares the header as a whole (no `; charset=utf-8`).
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": JSON, **(headers or {})}
    )


def error_response(status: int, code: int, message: str) -> web.Response:
    return json_response({"message": message, "code": code}, status)


def bot_user() -> dict[str, Any]:
    """The application's bot user."""
    return {
        "id": str(APP_ID),
        "username": "Infinipost",
        "global_name": None,
        "avatar": None,
        "discriminator": "4821",
        "public_flags": 0,
        "flags": 0,
        "bot": True,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }


def user_object(user_id: int, person: dict[str, Any]) -> dict[str, Any]:
    """A person, from what FakeDiscord.add_user keeps about them."""
    return {
        "id": str(user_id),
        "username": person["username"],
        "global_name": person["global_name"],
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }


def member_object(user: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    """A person as a member of the server: their user, roles and permissions."""
    return {
        "user": user,
        "roles": [str(r) for r in person["roles"]],
        "permissions": str(person["permissions"]),
        "nick": None,
        "avatar": None,
        "banner": None,
        "joined_at": "2025-03-01T09:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }


def role_object(role_id: int, name: str, *, position: int, permissions: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "description": None,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


VIEW_CHANNEL = 1 << 10


def overwrite(target: int, *, role: bool = True, allow: int = 0, deny: int = 0) -> dict[str, Any]:
    """A channel's permission overwrite for a role (the server's ID: @everyone) or a member."""
    return {"id": str(target), "type": 0 if role else 1, "allow": str(allow), "deny": str(deny)}


def channel_object(
    channel_id: int = CHANNEL_ID,
    *,
    guild: int = GUILD_ID,
    name: str = "social",
    overwrites: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild),
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites or [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def thread_object(thread_id: int, parent_id: int, *, name: str, private: bool = False) -> dict[str, Any]:
    """A thread as GUILD_CREATE lists the server's active ones: no overwrites of its own, a parent channel."""
    return {
        "id": str(thread_id),
        "type": 12 if private else 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(ADMIN),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-11-20T12:00:00.000000+00:00",
            "locked": False,
            "invitable": not private,
            "create_timestamp": "2026-11-20T12:00:00.000000+00:00",
        },
    }


def guild_object(
    roles: list[dict[str, Any]],
    channels: list[dict[str, Any]] | None = None,
    threads: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The GUILD_CREATE payload: the server with its roles, channels and active threads."""
    return {
        "id": str(GUILD_ID),
        "name": "Creators",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(ADMIN),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(CHANNEL_ID),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "joined_at": "2026-01-10T12:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": 4,
        "voice_states": [],
        "members": [],
        "channels": channels if channels is not None else [channel_object()],
        "threads": threads or [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def rest_guild_object(roles: list[dict[str, Any]]) -> dict[str, Any]:
    """The server as `GET /guilds/{id}` gives it: GUILD_CREATE without what only the gateway sends."""
    gateway_only = {
        "joined_at", "large", "unavailable", "member_count", "voice_states", "members", "channels", "threads",
        "presences", "stage_instances", "guild_scheduled_events", "soundboard_sounds",
    }  # fmt: skip
    return {key: value for key, value in guild_object(roles).items() if key not in gateway_only}


def application_object(owner: dict[str, Any]) -> dict[str, Any]:
    """The application, as `GET /oauth2/applications/@me` gives it."""
    return {
        "id": str(APP_ID),
        "name": "Infinipost",
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "9f0c5d1e" * 8,
        "flags": 0,
        "owner": owner,
        "team": None,
        "hook": True,
        "guild_id": None,
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
        "integration_types_config": {"0": {}},
        "approximate_guild_count": 1,
        "bot": bot_user(),
    }


def dm_channel_object(channel_id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [recipient],
    }


def ready_object(gateway_url: str, *, shard: list[int] | None = None, guilds: bool = True) -> dict[str, Any]:
    """The READY event's data, which tells the bot who it is and which servers it is in (`guilds`: whether the
    server is on this session's shard), and says back the shard it identified with, if any."""
    ready: dict[str, Any] = {
        "v": 10,
        "user": {**bot_user(), "verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if guilds else [],
        "session_id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "resume_gateway_url": gateway_url,
        "application": {"id": str(APP_ID), "flags": 0},
        "private_channels": [],
        "presences": [],
        "relationships": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam"],
        "session_type": "normal",
        "auth": {},
        "user_settings": {},
        "_trace": ['["gateway-prd-test",{"micros":1200}]'],
    }
    if shard is not None:
        ready["shard"] = shard
    return ready


def edited(message: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A message edit: the fields present replace the old ones."""
    for key in ("content", "embeds", "components", "attachments"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    message["edited_timestamp"] = "2026-11-28T15:00:01.000000+00:00"
    return message
