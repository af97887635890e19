"""A fake Discord on 127.0.0.1: the REST API the bot calls, and the gateway websocket.

It answers in the shapes Discord documents (JSON with a Content-Type of exactly `application/json`, error bodies
`{"message", "code"}`, interaction callbacks with `?with_response=1` answered `{"interaction", "resource"}`),
tracks interactions the way Discord does (one initial response each; follow-ups fill a deferred "thinking"
message; `@original` is the message a button sits on), and records every request. Tests build gateway
`INTERACTION_CREATE` payloads with it and either feed them to the client's own parser or dispatch them over the
gateway.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.web import start_site

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
ANSWER_WITHIN = 3.0  # seconds Discord waits for an interaction's first answer
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token takes follow-ups and edits
JSON = "application/json"


@dataclass
class Request:
    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    body: Any
    authorization: str


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any] | str  # text: not JSON, as a proxy or Cloudflare answers
    headers: dict[str, str]
    times: int
    after_handling: bool = False  # the request takes effect, and only its answer is an error

    def response(self) -> web.Response:
        if isinstance(self.body, str):
            return web.Response(text=self.body, status=self.status, headers=self.headers)
        return _json(self.body, self.status, self.headers)


@dataclass
class Delay:
    method: str
    pattern: re.Pattern[str]
    seconds: float
    times: int


@dataclass
class Interaction:
    payload: dict[str, Any]
    response: int | None = None  # the callback type the bot answered with
    original: int | None = None  # the message `@original` means
    loading: bool = False  # a deferred "thinking" message that the first follow-up fills in


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly `application/json`: discord.py compares the header as a whole (no `; charset=utf-8`).
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": JSON, **(headers or {})}
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _template(path: str) -> re.Pattern[str]:
    """`/channels/{}/messages` matches any one path segment where `{}` is."""
    return re.compile("^" + re.escape(path).replace(r"\{\}", "[^/]+") + "$")


@dataclass
class FakeDiscord:
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[int, Interaction] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    commands: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)  # guild ID (None: global)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    dm_channels: dict[int, int] = field(default_factory=dict)  # user ID -> DM channel ID
    files: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # attachment ID -> content and its type
    downloads: list[str] = field(default_factory=list)  # CDN paths fetched
    file_faults: dict[int, tuple[int, str | None]] = field(default_factory=dict)  # attachment ID -> status, Location
    trickles: dict[int, float] = field(default_factory=dict)  # attachment ID -> seconds between its 64-byte chunks
    downloading: int = 0  # CDN downloads under way now
    most_downloads_at_once: int = 0
    identifies: list[dict[str, Any]] = field(default_factory=list)
    identify_close: int | None = None  # a close code to answer IDENTIFY with (4014: disallowed intents)
    heartbeats: int = 0
    dispatches: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.roles = [
            _role(GUILD_ID, "@everyone", position=0, permissions=MEMBER_PERMISSIONS),
            _role(POSTER_ROLE_ID, POSTER_ROLE, position=1, permissions=0),
        ]
        self.add_user(ALICE, "alice", "Alice", roles=[POSTER_ROLE_ID])
        self.add_user(BOB, "bob", "Bob")
        self.add_user(ADMIN, "root", "Admin", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)

    # Addresses

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def process_settings(self) -> dict[str, str]:
        """The environment that points a bot process at this fake, for the test server."""
        return {
            "DISCORD_TOKEN": BOT_TOKEN,
            "DISCORD_API_URL": self.api_url,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_GUILD_IDS": str(GUILD_ID),
        }

    def snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._serial) & 0xFFF)

    # Set-up and inspection

    def add_user(
        self,
        user_id: int,
        username: str,
        global_name: str,
        *,
        roles: list[int] | None = None,
        permissions: int = 0,
        locale: str = "en-US",
    ) -> None:
        self.users[user_id] = {
            "username": username,
            "global_name": global_name,
            "roles": roles or [],
            "permissions": permissions or MEMBER_PERMISSIONS,
            "locale": locale,  # the Discord client's language, which every interaction of theirs carries
        }

    def add_role(self, role_id: int, name: str) -> dict[str, Any]:
        """A role in the server, as anyone with Manage Roles can make one (any name, even all digits)."""
        role = _role(role_id, name, position=len(self.roles), permissions=0)
        self.roles.append(role)
        return role

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int,
        code: int = 0,
        message: str = "",
        retry_after: float | None = None,
        times: int = 1,
        text: str | None = None,
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
        after_handling: bool = False,
    ) -> None:
        """Answer the next `times` requests to `path` (with `{}` wildcards) with a Discord error: JSON, or `text`
        of `content_type` as a proxy in front of Discord would. `after_handling`: the request still takes effect
        (an answer lost on the way back)."""
        body: dict[str, Any] | str = {"message": message or f"{status}", "code": code}
        extra: dict[str, str] = {}
        if status == 429 and text is None:
            body = {"message": "You are being rate limited.", "retry_after": retry_after or 1.0, "global": False}
            extra = {"Retry-After": str(int(retry_after or 1)), "X-RateLimit-Scope": "user", "Via": "1.1 google"}
        if text is not None:
            body, extra = text, {**extra, "Content-Type": content_type, **(headers or {})}
        self.failures.append(Failure(method, _template(path), status, body, extra, times, after_handling))

    def delay(self, method: str, path: str, *, seconds: float, times: int = 1) -> None:
        """Answer the next `times` requests to `path` (with `{}` wildcards) only after `seconds`: a slow Discord.
        `path` is an API path, or a CDN one such as `/ephemeral-attachments/{}/{}/{}`."""
        self.delays.append(Delay(method, _template(path), seconds, times))

    def calls(self, method: str, path: str) -> list[Request]:
        pattern = _template(path)
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def callbacks(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """What the bot answered to one interaction's callback URL."""
        return [r.body for r in self.calls("POST", f"/interactions/{payload['id']}/{payload['token']}/callback")]

    def answers(self, payload: dict[str, Any]) -> list[Request]:
        """Follow-ups and edits the bot made with one interaction's token, in order."""
        prefix = f"/webhooks/{APP_ID}/{payload['token']}"
        return [r for r in self.requests if r.path.startswith(prefix) and r.method in ("POST", "PATCH")]

    def original(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The message an interaction's first answer made (`@original`), as Discord now shows it."""
        entry = self.interactions[int(payload["id"])]
        assert entry.original is not None, "the interaction was never answered"
        return self.messages[entry.original]

    def channel_messages(self, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id) and not m["flags"] & EPHEMERAL]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `condition()` (sync or async) is truthy: the bot works after acknowledging."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting; requests so far: {[(r.method, r.path) for r in self.requests]}")

    # Objects as Discord writes them

    def user(self, user_id: int) -> dict[str, Any]:
        if user_id == APP_ID:
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
        person = self.users[user_id]
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

    def member(self, user_id: int) -> dict[str, Any]:
        person = self.users[user_id]
        return {
            "user": self.user(user_id),
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

    def channel(self, channel_id: int = CHANNEL_ID, *, guild: int = GUILD_ID) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild),
            "name": "social",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }

    def guild(self) -> dict[str, Any]:
        """The GUILD_CREATE payload: the server with its roles and channels."""
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
            "roles": self.roles,
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
            "channels": [self.channel()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def rest_guild(self) -> dict[str, Any]:
        """The server as `GET /guilds/{id}` gives it: GUILD_CREATE without what only the gateway sends."""
        gateway_only = {
            "joined_at", "large", "unavailable", "member_count", "voice_states", "members", "channels", "threads",
            "presences", "stage_instances", "guild_scheduled_events", "soundboard_sounds",
        }  # fmt: skip
        return {key: value for key, value in self.guild().items() if key not in gateway_only}

    def message(
        self,
        *,
        channel_id: int,
        author: int,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        flags: int = 0,
        kind: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self.snowflake()
        message = {
            "id": str(message_id),
            "type": kind,
            "content": content,
            "channel_id": str(channel_id),
            "author": self.user(author),
            "attachments": attachments or [],
            "embeds": embeds or [],
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "timestamp": "2026-11-28T15:00:00.000000+00:00",
            "edited_timestamp": None,
            "flags": flags,
            "components": components or [],
            **(extra or {}),
        }
        self.messages[message_id] = message
        return message

    def attachment(
        self, filename: str, content_type: str, content: bytes, *, ephemeral: bool = True, expired: bool = False
    ) -> dict[str, Any]:
        """A file as Discord describes it, with a signed CDN link (`ex` expiry, `is` issue time, `hm` signature)
        that the fake CDN serves until `ex`: a day after upload, or already past when `expired`."""
        attachment_id = self.snowflake()
        self.files[attachment_id] = (content, content_type)
        issued = int(time.time()) - (90000 if expired else 0)
        folder = "ephemeral-attachments" if ephemeral else "attachments"
        signature = f"ex={issued + 86400:x}&is={issued:x}&hm={secrets.token_hex(32)}&"
        url = f"http://127.0.0.1:{self.port}/{folder}/{CHANNEL_ID}/{attachment_id}/{filename}?{signature}"
        data: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(content),
            "url": url,
            "proxy_url": url.replace(f"/{folder}/", f"/media/{folder}/"),
            "content_type": content_type,
        }
        if ephemeral:
            data["ephemeral"] = True
        if content_type.startswith(("image/", "video/")):
            data.update(width=1080, height=1920)
        return data

    def trickle_file(self, attachment: dict[str, Any], *, seconds_per_chunk: float) -> None:
        """Make the CDN send this attachment 64 bytes at a time: no single read is slow, the whole is."""
        self.trickles[int(attachment["id"])] = seconds_per_chunk

    def fail_file(self, attachment: dict[str, Any], *, status: int, location: str | None = None) -> None:
        """Make the CDN answer this attachment's link with `status` (and `location`, for a redirect)."""
        self.files.pop(int(attachment["id"]))
        self.file_faults[int(attachment["id"])] = (status, location)

    # Interactions, as the gateway's INTERACTION_CREATE carries them

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: int,
        message: dict[str, Any] | None = None,
        guild: int = GUILD_ID,
    ) -> dict[str, Any]:
        """An interaction in `guild` (any server the bot was added to: Discord does not ask the bot first)."""
        interaction_id = self.snowflake()
        secret = secrets.token_urlsafe(48)
        token = base64.urlsafe_b64encode(f"interaction:{interaction_id}:{secret}".encode()).decode().rstrip("=")
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "guild": {"id": str(guild), "locale": "en-US", "features": []},
            "guild_id": str(guild),
            "channel": self.channel(guild=guild),
            "channel_id": str(CHANNEL_ID),
            "member": self.member(user),
            "token": token,
            "version": 1,
            "app_permissions": str(MEMBER_PERMISSIONS),
            "locale": self.users.get(user, {}).get("locale", "en-US"),
            "guild_locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild)},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        if message is not None:
            payload["message"] = message
        self.interactions[interaction_id] = Interaction(payload=payload)
        return payload

    def _command_data(self, name: str, kind: int) -> dict[str, Any]:
        """The registered command's ID and, for a server's commands, that server."""
        for guild, registered in self.commands.items():
            for command in registered:
                if command["name"] == name and command["type"] == kind:
                    data = {"id": command["id"], "name": name, "type": kind}
                    return {**data, "guild_id": str(guild)} if guild else data
        return {"id": str(self.snowflake()), "name": name, "type": kind}

    def slash(self, name: str, *, user: int = ALICE, guild: int = GUILD_ID, **options: Any) -> dict[str, Any]:
        """A chat-input command. Option values: str, int, bool, or an attachment from `attachment()`."""
        values, resolved = [], {}
        for option, value in options.items():
            if isinstance(value, dict):
                values.append({"name": option, "type": 11, "value": value["id"]})
                resolved[value["id"]] = value
            elif isinstance(value, bool):
                values.append({"name": option, "type": 5, "value": value})
            elif isinstance(value, int):
                values.append({"name": option, "type": 4, "value": value})
            else:
                values.append({"name": option, "type": 3, "value": value})
        data = {**self._command_data(name, 1), "options": values}
        if resolved:
            data["resolved"] = {"attachments": resolved}
        return self._interaction(2, data, user=user, guild=guild)

    def autocomplete(
        self, name: str, focused: str, *, user: int = ALICE, guild: int = GUILD_ID, **options: str
    ) -> dict[str, Any]:
        values = [
            {"name": option, "type": 3, "value": value, **({"focused": True} if option == focused else {})}
            for option, value in options.items()
        ]
        return self._interaction(4, {**self._command_data(name, 1), "options": values}, user=user, guild=guild)

    def message_command(
        self, name: str, target: dict[str, Any], *, user: int = ALICE, guild: int = GUILD_ID
    ) -> dict[str, Any]:
        data = {
            **self._command_data(name, 3),
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        return self._interaction(2, data, user=user, guild=guild)

    def press(self, message: dict[str, Any], label: str, *, user: int = ALICE) -> dict[str, Any]:
        """A click on the button labelled `label` of a message the bot sent."""
        buttons = [b for row in message["components"] for b in row["components"] if b.get("label") == label]
        assert buttons, f"no {label!r} button on message {message['id']}"
        data = {"custom_id": buttons[0]["custom_id"], "component_type": 2, "id": buttons[0].get("id", 0)}
        return self._interaction(3, data, user=user, message=message)

    def submit(self, modal: dict[str, Any], values: dict[str, str], *, user: int = ALICE) -> dict[str, Any]:
        """A modal submission, echoing the components the bot sent with their values filled in."""
        components = []
        for index, label in enumerate(modal["components"], start=1):
            inner = label["component"]
            filled = {"type": inner["type"], "id": index * 2, "custom_id": inner["custom_id"]}
            filled["value"] = values.get(inner["custom_id"], inner.get("value") or "")
            components.append({"type": 18, "id": index * 2 - 1, "component": filled})
        return self._interaction(5, {"custom_id": modal["custom_id"], "components": components}, user=user)

    # The gateway

    def ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {**self.user(APP_ID), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
            "resume_gateway_url": self.gateway_url,
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


def _age(snowflake: int) -> float:
    """Seconds since Discord made this ID: its top bits are the milliseconds since the Discord epoch."""
    return time.time() - ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def _role(role_id: int, name: str, *, position: int, permissions: int) -> dict[str, Any]:
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


_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _command_problems(command: dict[str, Any]) -> list[str]:
    """What Discord refuses in a command: names, lengths and counts from its application command limits."""
    name, kind = command.get("name", ""), command.get("type", 1)
    problems = []
    if kind == 1:
        if not _NAME.match(name) or name != name.lower():
            problems.append(f"{name}: invalid name")
        if not 1 <= len(command.get("description", "")) <= 100:
            problems.append(f"{name}: description must be 1-100 characters")
    elif not 1 <= len(name) <= 32:
        problems.append(f"{name}: context menu names are 1-32 characters")
    options = command.get("options", [])
    if len(options) > 25:
        problems.append(f"{name}: more than 25 options")
    seen_optional = False
    for option in options:
        lowercase = option["name"] == option["name"].lower()
        if not (_NAME.match(option["name"]) and lowercase and 1 <= len(option.get("description", "")) <= 100):
            problems.append(f"{name}.{option['name']}: invalid name or description")
        if option.get("required") and seen_optional:
            problems.append(f"{name}.{option['name']}: required options must come first")
        seen_optional = seen_optional or not option.get("required")
        choices = option.get("choices") or []
        if len(choices) > 25 or any(not 1 <= len(c["name"]) <= 100 for c in choices):
            problems.append(f"{name}.{option['name']}: invalid choices")
        if choices and option.get("autocomplete"):
            problems.append(f"{name}.{option['name']}: autocomplete cannot have choices")
    return problems


def _merge(message: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A message edit: the fields present replace the old ones."""
    for key in ("content", "embeds", "components", "attachments"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    message["edited_timestamp"] = "2026-11-28T15:00:01.000000+00:00"
    return message


def build_app(fake: FakeDiscord) -> web.Application:
    def interaction_by_token(token: str) -> Interaction | None:
        return next((i for i in fake.interactions.values() if i.payload["token"] == token), None)

    def interaction_message(entry: Interaction, body: dict[str, Any], *, flags: int) -> dict[str, Any]:
        """A response or follow-up: sent by the application's webhook, naming the interaction it answers."""
        payload = entry.payload
        metadata = {
            "id": payload["id"],
            "type": payload["type"],
            "user": payload["member"]["user"],
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
        }
        return fake.message(
            channel_id=int(payload["channel_id"]),
            author=APP_ID,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags,
            kind=20 if payload["type"] == 2 else 19,
            extra={"webhook_id": str(APP_ID), "application_id": str(APP_ID), "interaction_metadata": metadata},
        )

    async def callback(request: web.Request, path: str, body: Any) -> web.Response:
        _, _, interaction_id, token, _ = path.split("/")
        entry = fake.interactions.get(int(interaction_id))
        if entry is None or entry.payload["token"] != token or _age(int(interaction_id)) > ANSWER_WITHIN:
            return _error(404, 10062, "Unknown interaction")  # also what a first answer after 3 seconds gets
        if entry.response is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        kind = int(body["type"])
        entry.response = kind
        data = body.get("data") or {}
        answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": entry.payload["type"]}}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = interaction_message(entry, data if kind == 4 else {}, flags=flags)
            entry.original, entry.loading = int(message["id"]), kind == 5
            answer["interaction"].update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            answer["resource"] = {"type": kind, "message": message}
        elif kind in (6, 7):
            entry.original = int(entry.payload["message"]["id"])
            if kind == 7:
                answer["resource"] = {"type": 7, "message": _merge(fake.messages[entry.original], data)}
        if request.query.get("with_response") not in ("1", "true"):
            return web.Response(status=204)
        return _json(answer)

    async def webhook(request: web.Request, path: str, body: Any) -> web.Response:
        parts = path.split("/")
        entry = interaction_by_token(parts[3])
        if entry is None or int(parts[2]) != APP_ID or entry.response is None:
            return _error(404, 10015, "Unknown Webhook")
        if _age(int(entry.payload["id"])) > TOKEN_LIFETIME:
            return _error(401, 50027, "Invalid Webhook Token")
        if len(parts) == 4 and request.method == "POST":
            if entry.loading and entry.original is not None:
                entry.loading = False
                message = fake.messages[entry.original]
                message["flags"] &= ~LOADING
                message = _merge(message, body)
            else:
                message = interaction_message(entry, body, flags=int(body.get("flags") or 0))
            return _json(message) if request.query.get("wait") in ("1", "true") else web.Response(status=204)
        if len(parts) == 6 and parts[4] == "messages":
            message_id = entry.original if parts[5] == "@original" else int(parts[5])
            if message_id not in fake.messages:
                return _error(404, 10008, "Unknown Message")
            if request.method == "PATCH":
                if entry.loading and message_id == entry.original:  # the "thinking" message gets its answer
                    entry.loading = False
                    fake.messages[message_id]["flags"] &= ~LOADING
                return _json(_merge(fake.messages[message_id], body))
            return _json(fake.messages[message_id])
        return _error(405, 0, "405: Method Not Allowed")

    async def rest(request: web.Request, path: str, body: Any) -> web.Response | None:
        method = request.method
        if (method, path) == ("GET", "/users/@me"):
            return _json({**fake.user(APP_ID), "verified": True, "mfa_enabled": False, "email": None})
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return _json(
                {
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
                    "owner": fake.user(ADMIN),
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
                    "bot": fake.user(APP_ID),
                }
            )
        match = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)
        if match and method == "PUT":
            guild = int(match[2]) if match[2] else None
            if int(match[1]) != APP_ID or (guild is not None and guild != GUILD_ID):
                return _error(403, 50001, "Missing Access")
            problems = [problem for command in body for problem in _command_problems(command)]
            if problems:
                return _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)
            registered = []
            for command in body:
                entry = {
                    **command,
                    "id": str(fake.snowflake()),
                    "application_id": str(APP_ID),
                    "version": str(fake.snowflake()),
                    "type": command.get("type", 1),
                    "description": command.get("description", ""),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "nsfw": command.get("nsfw", False),
                }
                if guild:
                    entry["guild_id"] = str(guild)
                registered.append(entry)
            fake.commands[guild] = registered
            return _json(registered)
        match = re.fullmatch(r"/channels/(\d+)/messages", path)
        if match and method == "GET":  # history, newest first
            found = [m for m in fake.messages.values() if m["channel_id"] == match[1]]
            return _json(list(reversed(found))[: int(request.query.get("limit", "50"))])
        if match and method == "POST":
            channel_id = int(match[1])
            nonce = body.get("nonce")
            if nonce and body.get("enforce_nonce"):  # the same author and nonce again: the message it made
                for earlier in fake.messages.values():
                    if earlier.get("nonce") == nonce and earlier["channel_id"] == match[1]:
                        return _json(earlier)
            extra: dict[str, Any] = {"nonce": nonce} if nonce else {}
            reference = body.get("message_reference")
            kind = 0
            if reference:
                kind = 19
                referenced = fake.messages.get(int(reference["message_id"]))
                if referenced is None and reference.get("fail_if_not_exists", True):
                    return _error(400, 50035, "Invalid Form Body")
                extra.update(message_reference={"type": 0, **reference}, referenced_message=referenced)
            message = fake.message(
                channel_id=channel_id,
                author=APP_ID,
                content=body.get("content") or "",
                embeds=body.get("embeds") or [],
                components=body.get("components") or [],
                kind=kind,
                extra=extra,
            )
            return _json(message)
        match = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
        if match and method == "PATCH":
            message = fake.messages.get(int(match[2]))
            if message is None or message["channel_id"] != match[1]:
                return _error(404, 10008, "Unknown Message")
            return _json(_merge(message, body))
        if (method, path) == ("POST", "/users/@me/channels"):
            recipient = int(body["recipient_id"])
            if recipient not in fake.users:
                return _error(400, 50035, "Invalid Form Body")
            channel_id = fake.dm_channels.setdefault(recipient, fake.snowflake())
            return _json(
                {
                    "id": str(channel_id),
                    "type": 1,
                    "last_message_id": None,
                    "flags": 0,
                    "recipients": [fake.user(recipient)],
                }
            )
        if (method, path) == ("GET", f"/guilds/{GUILD_ID}"):
            return _json(fake.rest_guild())
        match = re.fullmatch(rf"/guilds/{GUILD_ID}/members/(\d+)", path)
        if match and method == "GET":
            if int(match[1]) not in fake.users:
                return _error(404, 10007, "Unknown Member")
            return _json(fake.member(int(match[1])))
        return None

    async def api(request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == JSON else None
        authorization = request.headers.get("Authorization", "")
        fake.requests.append(Request(request.method, path, dict(request.query), body, authorization))
        for delay in fake.delays:
            if delay.method == request.method and delay.pattern.match(path) and delay.times > 0:
                delay.times -= 1
                await asyncio.sleep(delay.seconds)
        for failure in fake.failures:
            if failure.method == request.method and failure.pattern.match(path) and failure.times > 0:
                failure.times -= 1
                if failure.after_handling:
                    await handle(request, path, body, authorization)
                return failure.response()
        return await handle(request, path, body, authorization)

    async def handle(request: web.Request, path: str, body: Any, authorization: str) -> web.Response:
        if path.startswith("/interactions/") and path.endswith("/callback") and request.method == "POST":
            return await callback(request, path, body)
        if path.startswith("/webhooks/"):
            return await webhook(request, path, body)
        if authorization != f"Bot {BOT_TOKEN}":
            return _error(401, 0, "401: Unauthorized")
        answer = await rest(request, path, body)
        if answer is None:
            fake.unmatched.append(f"{request.method} {path}")
            return _error(404, 0, "404: Not Found")
        return answer

    async def gateway(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        sequence = itertools.count(1)

        async def dispatch(event: str, data: dict[str, Any]) -> None:
            await socket.send_str(json.dumps({"op": 0, "t": event, "s": next(sequence), "d": data}))

        async def writer() -> None:
            while True:
                event, data = await fake.dispatches.get()
                await dispatch(event, data)

        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        writing: asyncio.Task[None] | None = None
        try:
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                if message["op"] == 1:
                    fake.heartbeats += 1
                    await socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif message["op"] == 2:
                    fake.identifies.append(message["d"])
                    if message["d"].get("token") != BOT_TOKEN:
                        await socket.close(code=4004, message=b"Authentication failed.")
                        break
                    if fake.identify_close is not None:
                        await socket.close(code=fake.identify_close, message=b"Disallowed intent(s).")
                        break
                    await dispatch("READY", fake.ready())
                    await dispatch("GUILD_CREATE", fake.guild())
                    writing = asyncio.create_task(writer())
        finally:
            if writing is not None:
                writing.cancel()
        return socket

    async def cdn(request: web.Request) -> web.StreamResponse:
        """Discord's CDN: a signed link serves its file until the `ex` time it carries, then 404."""
        fake.downloads.append(request.path)
        fake.downloading += 1
        fake.most_downloads_at_once = max(fake.most_downloads_at_once, fake.downloading)
        try:
            return await serve_file(request)
        finally:
            fake.downloading -= 1

    async def serve_file(request: web.Request) -> web.StreamResponse:
        gone = web.Response(status=404, text="This content is no longer available.")
        expiry, signature = request.query.get("ex", ""), request.query.get("hm", "")
        attachment_id = int(request.match_info["attachment"])
        for delay in fake.delays:
            if delay.method == request.method and delay.pattern.match(request.path) and delay.times > 0:
                delay.times -= 1
                await asyncio.sleep(delay.seconds)
        fault = fake.file_faults.get(attachment_id)
        if fault is not None:
            status, location = fault
            return web.Response(status=status, headers={"Location": location} if location else None)
        stored = fake.files.get(attachment_id)
        if stored is None or not signature or not expiry or int(expiry, 16) < time.time():
            return gone
        if attachment_id not in fake.trickles:
            return web.Response(body=stored[0], content_type=stored[1])
        response = web.StreamResponse(headers={"Content-Type": stored[1], "Content-Length": str(len(stored[0]))})
        await response.prepare(request)
        for start in range(0, len(stored[0]), 64):
            await response.write(stored[0][start : start + 64])
            await asyncio.sleep(fake.trickles[attachment_id])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/api/v10/{tail:.*}", api)
    app.router.add_get("/{folder:(ephemeral-)?attachments}/{channel:[0-9]+}/{attachment:[0-9]+}/{name}", cdn)
    app.router.add_get("/gateway", gateway)
    return app


@asynccontextmanager
async def running_fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    runner, fake.port = await start_site(build_app(fake), host="127.0.0.1", port=0)
    try:
        yield fake
    finally:
        await runner.cleanup()
