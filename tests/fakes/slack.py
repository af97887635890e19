"""A fake Slack on 127.0.0.1: the Web API methods the bot calls, file downloads and uploads, response_urls, Socket
Mode.

It records every request and answers in the shapes Slack documents. Tests sign requests the way Slack does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import BodyPartReader, web

from bot.web import start_site
from tests.fakes.waiting import wait_until

SIGNING_SECRET = "test-signing-secret"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    authorization: str
    accepted: bool = True  # False: the fake answered with an error


@dataclass
class Upload:
    """A file upload as files.getUploadURLExternal started it: what was announced, and what reached its URL."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None  # None until the bytes are posted to the upload URL
    completed: bool = False


@dataclass
class SharedFile:
    """A file files.completeUploadExternal finished, and where it was shared (None: private to the app)."""

    file_id: str
    name: str
    title: str
    content: bytes
    channel_id: str | None
    initial_comment: str | None


@dataclass
class FakeSlack:
    """State of the fake: what it was asked, and what it should answer."""

    port: int = 0
    token: str = BOT_TOKEN  # the only token the file host accepts
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # what arrived at response_urls
    downloads: list[tuple[str, str]] = field(default_factory=list)  # (path, authorization)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # method -> answers to give first
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> messages posted
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds to sit on the answer
    # auth.test: whose token it is (an org-wide install adds "is_enterprise_install": True and "enterprise_id")
    identity: dict[str, Any] = field(
        default_factory=lambda: {
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "team_id": "T1",
            "team": "Test",
            "user": "infinipost",
        }
    )
    # auth.test for other tokens: a workspace's bot token, by token (given by oauth.v2.access)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # oauth.v2.access: what each code (good once) is exchanged for, and the app's credentials
    oauth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    socket_envelopes: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    # conversations.info and conversations.members: each channel as Slack describes it, with its members. A channel
    # not here is one the bot cannot see (channel_not_found), as a private channel it was never invited to.
    channels: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"C1": {**public_channel("C1", "general"), "is_general": True}}
    )
    members: dict[str, list[str]] = field(default_factory=dict)  # private channel -> its members
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> their Home tab, as last published
    # Direct messages the bot opened by posting to a user's ID: user -> the conversation's D… ID
    direct_messages: dict[str, str] = field(default_factory=dict)
    # files.getUploadURLExternal: each file ID given out, with its file name, announced length and uploaded bytes
    uploads: dict[str, Upload] = field(default_factory=dict)
    shared: list[SharedFile] = field(default_factory=list)  # files.completeUploadExternal, as Slack took them
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def fail(self, method: str, error: str, times: int = 1, **fields: Any) -> None:
        """Refuse the next `times` calls of `method` with `{"ok": false, "error": error, **fields}`."""
        self.failures.setdefault(method, []).extend([{"ok": False, "error": error, **fields}] * times)

    def fail_plain(self, method: str, status: int = 502, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with a page that is not JSON, as a proxy or an outage does."""
        self.failures.setdefault(method, []).extend([{"plain": status}] * times)

    def add_file(self, file_id: str, name: str, content: bytes, mimetype: str) -> dict[str, Any]:
        self.file_bytes[file_id] = content
        info = {
            "id": file_id,
            "name": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(content),
            "url_private": f"http://127.0.0.1:{self.port}/files-pri/T1-{file_id}/{name}",
            "url_private_download": f"http://127.0.0.1:{self.port}/files-pri/T1-{file_id}/download/{name}",
        }
        self.files[file_id] = info
        return info

    def install_code(self, code: str, *, team_id: str, token: str, team_name: str = "Other") -> None:
        """A workspace's admin approved the app on Slack's consent page: `code` is what Slack sends them back
        with, and oauth.v2.access exchanges it for `token`, the workspace's bot token."""
        self.oauth_codes[code] = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": f"UBOT{team_id}",
            "app_id": "A1",
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U1"},
        }
        self.identities[token] = {
            "user_id": f"UBOT{team_id}",
            "bot_id": f"B{team_id}",
            "team_id": team_id,
            "team": team_name,
            "user": "infinipost",
        }

    def of(self, method: str) -> list[dict[str, Any]]:
        """The calls of `method` Slack accepted."""
        return [c.params for c in self.calls if c.method == method and c.accepted]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `condition()` (sync or async) is truthy: listeners run after the ack."""
        return await wait_until(condition, timeout=timeout, so_far=lambda: [c.method for c in self.calls])


def _answer(fake: FakeSlack, method: str, params: dict[str, Any], authorization: str) -> dict[str, Any]:
    token = authorization.removeprefix("Bearer ")
    ts = f"1764342000.{next(fake._ts):06d}"
    if method == "auth.test":
        return {"ok": True, **fake.identities.get(token, fake.identity)}
    if method == "oauth.v2.access":
        return _access(fake, params, authorization)
    if method == "chat.postMessage":
        metadata = params.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        if metadata and not _documented_payload(metadata.get("event_payload") or {}):
            return {"ok": False, "error": "invalid_metadata_format"}
        message = {
            "ts": ts,
            "text": params.get("text"),
            "thread_ts": params.get("thread_ts"),
            "metadata": metadata,
        }
        where = str(params.get("channel"))
        if re.fullmatch(r"[UW][A-Z0-9]+", where):  # a user's ID: the app's direct message with them
            where = fake.direct_messages.setdefault(where, f"D{where}")
        fake.messages.setdefault(where, []).append(message)
        return {"ok": True, "channel": where, "ts": ts, "message": message}
    if method == "files.getUploadURLExternal":
        return _upload_url(fake, params)
    if method == "files.completeUploadExternal":
        return _complete_upload(fake, params, ts)
    if method in ("conversations.history", "conversations.replies"):
        channel = fake.messages.get(str(params.get("channel")), [])
        if method == "conversations.replies":
            channel = [m for m in channel if m.get("thread_ts") == params.get("ts")]
        return {"ok": True, "messages": list(reversed(channel)), "has_more": False}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": ts}
    if method == "chat.update":
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
    if method == "views.publish":
        return _publish(fake, params)
    if method == "conversations.info":
        channel = fake.channels.get(str(params.get("channel")))
        return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}
    if method == "conversations.members":
        return _members(fake, params)
    if method in ("views.open", "views.update"):
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return {"ok": True, "view": {**(view or {}), "id": params.get("view_id") or "V1", "hash": "h1"}}
    if method == "users.info":
        user = fake.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if str(params.get("include_locale")).lower() not in ("true", "1"):  # Slack sends it only when asked
            user = {key: value for key, value in user.items() if key != "locale"}
        return {"ok": True, "user": user}
    if method == "files.info":
        info = fake.files.get(str(params.get("file")))
        return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
    if method == "usergroups.list":
        with_users = str(params.get("include_users")).lower() in ("true", "1")  # members only when asked
        return {
            "ok": True,
            "usergroups": [
                {"id": group, "team_id": "T1", **({"users": users, "user_count": len(users)} if with_users else {})}
                for group, users in fake.groups.items()
            ],
        }
    if method == "usergroups.users.list":
        return {"ok": True, "users": fake.groups.get(str(params.get("usergroup")), [])}
    if method == "apps.connections.open":
        return {"ok": True, "url": f"ws://127.0.0.1:{fake.port}/link"}
    return {"ok": False, "error": "unknown_method"}


def _upload_url(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """files.getUploadURLExternal: a file ID and the URL its bytes go to, for a file name and its length in bytes."""
    filename, length = params.get("filename"), str(params.get("length", ""))
    if not filename or not length.isdecimal():
        return {"ok": False, "error": "invalid_arguments"}
    file_id = f"F{len(fake.uploads) + 1:08d}"
    fake.uploads[file_id] = Upload(file_id, str(filename), int(length))
    return {"ok": True, "upload_url": f"http://127.0.0.1:{fake.port}/upload/v1/{file_id}", "file_id": file_id}


def _complete_upload(fake: FakeSlack, params: dict[str, Any], ts: str) -> dict[str, Any]:
    """files.completeUploadExternal: the uploads named in `files` (a JSON array of `{"id", "title"}`) finished and
    shared in `channel_id`, a conversation's ID (a user's U… ID is refused, as Slack does); without one, private."""
    try:
        files = json.loads(str(params.get("files")))
    except ValueError:
        return {"ok": False, "error": "invalid_arguments"}
    channel = params.get("channel_id")
    if channel is not None and not re.fullmatch(r"[CGDZ][A-Z0-9]+", str(channel)):
        pattern = "input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"
        return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [pattern]}}
    if channel is not None:
        if str(channel).startswith("D"):
            if channel not in fake.direct_messages.values():
                return {"ok": False, "error": "channel_not_found"}
        elif str(channel) not in fake.channels:
            return {"ok": False, "error": "channel_not_found"}
        elif not fake.channels[str(channel)].get("is_member"):
            return {"ok": False, "error": "not_in_channel"}
    done = []
    for entry in files if isinstance(files, list) else []:
        upload = fake.uploads.get(str(entry.get("id")))
        if upload is None or upload.content is None or upload.completed:
            return {"ok": False, "error": "file_not_found"}
        done.append((upload, str(entry.get("title") or upload.filename)))
    if not done:
        return {"ok": False, "error": "invalid_arguments"}
    objects = []
    for upload, title in done:
        assert upload.content is not None
        upload.completed = True
        comment = params.get("initial_comment")
        fake.shared.append(SharedFile(upload.file_id, upload.filename, title, upload.content, channel, comment))
        objects.append({"id": upload.file_id, "name": upload.filename, "title": title, "size": len(upload.content)})
    if channel is not None:
        message = {"ts": ts, "text": params.get("initial_comment") or "", "files": objects}
        fake.messages.setdefault(str(channel), []).append(message)
    return {"ok": True, "files": objects}


def public_channel(channel_id: str, name: str) -> dict[str, Any]:
    """A public channel as conversations.info describes it."""
    return {
        "id": channel_id,
        "name": name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "is_archived": False,
        "is_member": True,
        "created": 1700000000,
    }


def private_channel(channel_id: str, name: str) -> dict[str, Any]:
    """A private channel the bot was invited to, as conversations.info describes it."""
    return {**public_channel(channel_id, name), "is_channel": False, "is_group": True, "is_private": True}


def _members(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """conversations.members, a page of `limit` (default 100) at a time, with Slack's cursor."""
    channel = str(params.get("channel"))
    if channel not in fake.channels:
        return {"ok": False, "error": "channel_not_found"}
    members = fake.members.get(channel, [])
    start = int(base64.b64decode(params["cursor"]).decode()) if params.get("cursor") else 0
    limit = int(params.get("limit") or 100)
    page = members[start : start + limit]
    more = start + limit < len(members)
    cursor = base64.b64encode(str(start + limit).encode()).decode() if more else ""
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}


MAX_BLOCKS = 100  # in a message, a modal or a Home tab
TEXT_LIMITS = {"section": 3000, "header": 150, "context": 2000, "button": 75, "field": 2000}


def block_kit_problems(view: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a view (`invalid_arguments`, each problem a `response_metadata.messages` line):
    the documented limits of the blocks the bot uses."""
    problems = []
    blocks = view.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] must provide an array of no more than {MAX_BLOCKS} items [json-pointer:/view/blocks]")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("[ERROR] duplicate block_id [json-pointer:/view/blocks]")
    for n, block in enumerate(blocks):
        where = f"[json-pointer:/view/blocks/{n}]"
        kind = block.get("type")
        texts: list[tuple[str, int]] = []
        if kind == "section":
            if "text" in block:
                texts.append((block["text"]["text"], TEXT_LIMITS["section"]))
            texts += [(f["text"], TEXT_LIMITS["field"]) for f in block.get("fields") or ()]
            if len(block.get("fields") or ()) > 10:
                problems.append(f"[ERROR] no more than 10 fields {where}")
            if "text" not in block and not block.get("fields"):
                problems.append(f"[ERROR] a section needs text or fields {where}")
        elif kind == "header":
            texts.append((block["text"]["text"], TEXT_LIMITS["header"]))
        elif kind == "context":
            if not 1 <= len(block["elements"]) <= 10:
                problems.append(f"[ERROR] a context holds 1 to 10 elements {where}")
            texts += [(e["text"], TEXT_LIMITS["context"]) for e in block["elements"] if "text" in e]
        elif kind == "actions":
            if not 1 <= len(block["elements"]) <= 25:
                problems.append(f"[ERROR] an actions block holds 1 to 25 elements {where}")
        elif kind not in ("divider", "input"):
            problems.append(f"[ERROR] unknown block type {kind} {where}")
        buttons = [e for e in block.get("elements") or () if e.get("type") == "button"]
        if isinstance(block.get("accessory"), dict) and block["accessory"].get("type") == "button":
            buttons.append(block["accessory"])
        for button in buttons:
            texts.append((button["text"]["text"], TEXT_LIMITS["button"]))
            if len(button.get("url") or "") > 3000 or len(button.get("value") or "") > 2000:
                problems.append(f"[ERROR] button url or value too long {where}")
            if len(button.get("action_id") or "") > 255:
                problems.append(f"[ERROR] action_id too long {where}")
        for text, limit in texts:
            if not text or len(text) > limit:
                problems.append(f"[ERROR] text must be 1 to {limit} characters {where}")
    return problems


def _publish(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """views.publish: a Home tab for one user, refused as Slack refuses a view beyond its limits."""
    view = params.get("view")
    view = json.loads(view) if isinstance(view, str) else view
    if not isinstance(view, dict) or view.get("type") != "home" or not params.get("user_id"):
        return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["invalid `view`"]}}
    if len(json.dumps(view)) > 250_000:
        return {"ok": False, "error": "view_too_large"}
    problems = block_kit_problems(view)
    if problems:
        return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
    user = str(params["user_id"])
    fake.home_views[user] = view
    return {"ok": True, "view": {**view, "id": f"VHOME{user}", "team_id": "T1", "hash": f"{time.time():.7f}"}}


def _access(fake: FakeSlack, params: dict[str, Any], authorization: str) -> dict[str, Any]:
    """oauth.v2.access: the app's credentials (HTTP Basic, or client_id and client_secret) and a code, good
    once."""
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    if authorization.startswith("Basic "):
        client_id, _, client_secret = base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
    if client_id != fake.client_id:
        return {"ok": False, "error": "invalid_client_id"}
    if client_secret != fake.client_secret:
        return {"ok": False, "error": "bad_client_secret"}
    answer = fake.oauth_codes.pop(str(params.get("code")), None)
    return answer or {"ok": False, "error": "invalid_code"}


def _documented_payload(payload: dict[str, Any]) -> bool:
    """Message metadata values as Slack documents them: strings, numbers, booleans, objects, arrays of objects."""
    for value in payload.values():
        if isinstance(value, list):
            if not all(isinstance(item, dict) for item in value):
                return False
        elif not isinstance(value, str | int | float | bool | dict):
            return False
    return True


async def _params(request: web.Request) -> dict[str, Any]:
    """A method's arguments: Slack takes them in the query string as well as in a form or JSON body."""
    if request.method == "GET":
        return dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        return {**request.query, **json.loads(raw or "{}")}
    return {**request.query, **dict(parse_qsl(raw))}


def build_app(fake: FakeSlack) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        authorization = request.headers.get("Authorization", "")
        call = Call(method, params, authorization)
        fake.calls.append(call)
        app_credentials = method == "oauth.v2.access"  # the app's own, not a token
        if not app_credentials and not authorization.startswith(("Bearer xoxb-", "Bearer xoxp-", "Bearer xapp-")):
            call.accepted = False
            return web.json_response({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open" and not authorization.startswith("Bearer xapp-"):
            call.accepted = False  # only an app-level token opens a Socket Mode connection
            return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        pending = fake.failures.get(method)
        if pending:
            call.accepted = False
            failure = pending.pop(0)
            if "plain" in failure:
                return web.Response(status=failure["plain"], text="Bad Gateway", content_type="text/plain")
            if failure["error"] == "ratelimited":
                return web.json_response(failure, status=429, headers={"Retry-After": "1"})
            return web.json_response(failure)
        answer = _answer(fake, method, params, authorization)
        if not answer["ok"]:
            call.accepted = False
        if method in fake.delays:
            await asyncio.sleep(fake.delays[method])  # done, but the answer is slow to come back
        return web.json_response(answer)

    async def upload(request: web.Request) -> web.Response:
        """An upload URL files.getUploadURLExternal gave: the file's bytes, raw or as a multipart form's file."""
        found = fake.uploads.get(request.match_info["file"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            part = await reader.next()
            content = await part.read() if isinstance(part, BodyPartReader) else b""
        else:
            content = await request.read()
        found.content = content
        return web.Response(text=f"OK - {len(content)}")

    async def respond(request: web.Request) -> web.Response:
        fake.responses.append(json.loads(await request.text()))
        return web.Response(text="ok")

    async def download(request: web.Request) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        fake.downloads.append((request.path, authorization))
        file_id = request.match_info["file"].split("-", 1)[-1]
        if authorization != f"Bearer {fake.token}":
            raise web.HTTPFound("https://slack.com/signin")  # what Slack does without the token
        if file_id not in fake.file_bytes:
            raise web.HTTPNotFound()
        return web.Response(body=fake.file_bytes[file_id], content_type=fake.files[file_id]["mimetype"])

    async def link(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})

        async def writer() -> None:
            while True:
                await socket.send_json(await fake.socket_envelopes.get())

        writing = asyncio.create_task(writer())
        try:
            async for message in socket:
                fake.socket_acks.append(json.loads(message.data))
        finally:
            writing.cancel()
        return socket

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/respond/{name}", respond)
    app.router.add_post("/upload/v1/{file}", upload)
    app.router.add_get("/files-pri/{file}/download/{name}", download)
    app.router.add_get("/files-pri/{file}/{name}", download)
    app.router.add_get("/link", link)
    return app


@asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    runner, fake.port = await start_site(build_app(fake), host="127.0.0.1", port=0)
    try:
        yield fake
    finally:
        await runner.cleanup()


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: `v0=` HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def slash_command(fake: FakeSlack, command: str, text: str, *, user: str = "U1", channel: str = "C1") -> str:
    """A slash command as Slack sends it: form-encoded."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": f"name-{user}",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": fake.response_url(f"{command.strip('/')}-{user}"),
            "trigger_id": "1337.42.abc",
        }
    )


def interaction(payload: dict[str, Any]) -> str:
    """Interactivity as Slack sends it: `payload=<json>`, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def block_action(
    fake: FakeSlack,
    action_id: str,
    value: str,
    *,
    user: str = "U1",
    channel: str = "C1",
    block_id: str = "post_preview",
    message_ts: str | None = None,
) -> dict[str, Any]:
    """A button pressed: on an ephemeral answer, or with `message_ts`, on that channel message."""
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "username": f"name-{user}", "team_id": "T1"},
        "api_app_id": "A1",
        "container": {
            "type": "message",
            "message_ts": message_ts or "1.1",
            "channel_id": channel,
            "is_ephemeral": message_ts is None,
        },
        "channel": {"id": channel, "name": "general"},
        "trigger_id": f"1337.{time.time_ns()}.abc",  # every click is its own request
        "response_url": fake.response_url(f"action-{user}"),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def home_opened(*, user: str = "U1", team: str = "T1", view: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Events API's `app_home_opened` for the Home tab, in its envelope; `view`: the one published before."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{time.time_ns()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }


def home_action(
    action_id: str,
    value: str,
    *,
    user: str = "U1",
    view_id: str = "VHOMEU1",
    view_type: str = "home",
    private_metadata: str = "",
) -> dict[str, Any]:
    """A button pressed in the Home tab (or, with `view_type="modal"`, in a modal): no channel, no response_url."""
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "username": f"name-{user}", "name": f"name-{user}", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"1337.{time.time_ns()}.home",
        "view": {
            "id": view_id,
            "team_id": "T1",
            "type": view_type,
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": "",
            "state": {"values": {}},
            "hash": "h1",
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
        "is_enterprise_install": False,
    }


def message_shortcut(
    fake: FakeSlack, files: list[dict[str, Any]], *, user: str = "U1", channel: str = "C1"
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "schedule_as_post",
        "trigger_id": "1337.44.abc",
        "response_url": fake.response_url(f"shortcut-{user}"),
        "team": {"id": "T1", "domain": "test"},
        "channel": {"id": channel, "name": "general"},
        "user": {"id": user, "username": f"name-{user}", "team_id": "T1"},
        "message": {
            "type": "message",
            "user": "U7",
            "ts": "1764300000.000100",
            "text": "our launch video",
            "files": files,
        },
    }


def view_submission(
    values: dict[str, Any],
    private_metadata: str,
    *,
    user: str = "U1",
    view_id: str | None = None,
    callback_id: str = "post_form",
) -> dict[str, Any]:
    """A form submitted; Slack keeps a view's ID while it stays open, so a form sent twice has one ID."""
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "username": f"name-{user}", "name": f"name-{user}", "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"1337.{time.time_ns()}.sub",  # every submission is its own request
        "view": {
            "id": view_id or f"V{time.time_ns()}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "h1",
        },
    }
