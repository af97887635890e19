"""FakeDiscord: what the fake Discord holds (users, roles, messages, interactions, files, recorded requests), and
what tests do with it: set it up, make the messages, attachments and interactions Discord would, make it fail or
slow down, and look at what the bot sent."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord.payloads import (
    ADMIN,
    ALICE,
    APP_ID,
    BOB,
    BOT_TOKEN,
    CHANNEL_ID,
    DISCORD_EPOCH_MS,
    EPHEMERAL,
    GUILD_ID,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    POSTER_ROLE,
    POSTER_ROLE_ID,
    bot_user,
    channel_object,
    guild_object,
    json_response,
    member_object,
    role_object,
    thread_object,
    user_object,
)
from tests.fakes.waiting import wait_until


@dataclass
class Request:
    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    body: Any  # JSON, or a multipart request's `payload_json`
    authorization: str
    files: list[Upload] = field(default_factory=list)  # a multipart request's `files[n]`


@dataclass
class Upload:
    """A file sent with a message as a `files[n]` part of a multipart request."""

    index: int  # the `n` of `files[n]`, which the payload's `attachments[].id` names
    filename: str
    content: bytes


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
        return json_response(self.body, self.status, self.headers)


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
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)  # the server's channels and active threads
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
    # Events to send over the gateway, each to the session of its server's shard (see `gateway`)
    dispatches: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    sessions: dict[int, Callable[[str, dict[str, Any]], Awaitable[None]]] = field(default_factory=dict)  # by shard
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.roles = [
            role_object(GUILD_ID, "@everyone", position=0, permissions=MEMBER_PERMISSIONS),
            role_object(POSTER_ROLE_ID, POSTER_ROLE, position=1, permissions=0),
        ]
        self.add_user(ALICE, "alice", "Alice", roles=[POSTER_ROLE_ID])
        self.add_user(BOB, "bob", "Bob")
        self.add_user(ADMIN, "root", "Admin", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
        self.channels[CHANNEL_ID] = channel_object()

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
        role = role_object(role_id, name, position=len(self.roles), permissions=0)
        self.roles.append(role)
        return role

    def add_channel(
        self,
        channel_id: int,
        name: str,
        *,
        overwrites: list[dict[str, Any]] | None = None,
        parent: int | None = None,
        private: bool = False,
    ) -> dict[str, Any]:
        """A text channel with its permission overwrites (see `payloads.overwrite`), or, with `parent`, a thread
        in that channel (a private one with `private`). The server's GUILD_CREATE lists it from then on."""
        if parent is None:
            channel = channel_object(channel_id, name=name, overwrites=overwrites)
        else:
            channel = thread_object(channel_id, parent, name=name, private=private)
        self.channels[channel_id] = channel
        return channel

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
        return await wait_until(condition, timeout=timeout, so_far=lambda: [(r.method, r.path) for r in self.requests])

    async def hold(self, method: str, path: str) -> None:
        """Wait out the delays a test asked for on this request, using each up."""
        for delay in self.delays:
            if delay.method == method and delay.pattern.match(path) and delay.times > 0:
                delay.times -= 1
                await asyncio.sleep(delay.seconds)

    # Objects as Discord writes them

    def user(self, user_id: int) -> dict[str, Any]:
        return bot_user() if user_id == APP_ID else user_object(user_id, self.users[user_id])

    def member(self, user_id: int) -> dict[str, Any]:
        return member_object(self.user(user_id), self.users[user_id])

    def guild(self) -> dict[str, Any]:
        """The GUILD_CREATE payload: the server with its roles, channels and active threads."""
        found = list(self.channels.values())
        return guild_object(
            self.roles,
            [c for c in found if "parent_id" not in c or c["parent_id"] is None],
            [c for c in found if c.get("parent_id")],
        )

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
        channel: int | None = None,
    ) -> dict[str, Any]:
        """An interaction in `guild` (any server the bot was added to: Discord does not ask the bot first), in
        `channel` (the channel of the message it is on, else the usual channel)."""
        if channel is None:
            channel = int(message["channel_id"]) if message is not None else CHANNEL_ID
        where = self.channels.get(channel) if guild == GUILD_ID else None
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
            "channel": where or channel_object(channel, guild=guild),
            "channel_id": str(channel),
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

    def slash(
        self, name: str, *, user: int = ALICE, guild: int = GUILD_ID, channel: int = CHANNEL_ID, **options: Any
    ) -> dict[str, Any]:
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
        return self._interaction(2, data, user=user, guild=guild, channel=channel)

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

    def choose(self, message: dict[str, Any], values: list[str], *, user: int = ALICE) -> dict[str, Any]:
        """A choice in the string select menu of a message the bot sent (its first one) of the options `values`."""
        menus = [c for row in message["components"] for c in row["components"] if c["type"] == 3]
        assert menus, f"no select menu on message {message['id']}"
        offered = {option["value"] for option in menus[0]["options"]}
        assert set(values) <= offered, f"{values} not among the options {sorted(offered)}"
        data = {"custom_id": menus[0]["custom_id"], "component_type": 3, "values": values, "id": menus[0].get("id", 0)}
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


FAKE = web.AppKey("fake", FakeDiscord)
