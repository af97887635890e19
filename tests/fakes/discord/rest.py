"""Discord's REST API under /api/v10, as the bot calls it. Every request is recorded, then held or failed as a
test asked; interaction callbacks and webhooks go to `interactions`, the rest needs the bot's token."""

from __future__ import annotations

import json
import mimetypes
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from aiohttp import web

from tests.fakes.discord import interactions
from tests.fakes.discord.fake import FAKE, FakeDiscord, Request, Upload
from tests.fakes.discord.payloads import (
    ADMIN,
    APP_ID,
    BOT_TOKEN,
    GUILD_ID,
    JSON,
    application_object,
    dm_channel_object,
    edited,
    error_response,
    json_response,
    rest_guild_object,
)


async def api(request: web.Request) -> web.StreamResponse:
    fake = request.app[FAKE]
    path = "/" + request.match_info["tail"]
    raw = await request.read()
    body = json.loads(raw) if raw and request.content_type == JSON else None
    files: list[Upload] = []
    if request.content_type == "multipart/form-data":
        body, files = multipart(raw, request.headers["Content-Type"])
        body = with_uploads(fake, body, files)
    authorization = request.headers.get("Authorization", "")
    fake.requests.append(Request(request.method, path, dict(request.query), body, authorization, files))
    await fake.hold(request.method, path)
    for failure in fake.failures:
        if failure.method == request.method and failure.pattern.match(path) and failure.times > 0:
            failure.times -= 1
            if failure.after_handling:
                await handle(fake, request, path, body, authorization)
            return failure.response()
    return await handle(fake, request, path, body, authorization)


def multipart(raw: bytes, content_type: str) -> tuple[Any, list[Upload]]:
    """A message sent with files, as Discord documents it: the JSON in the `payload_json` part, each file in a
    `files[n]` part with its file name."""
    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    body: Any = None
    files = []
    for part in parsed.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        if name == "payload_json":
            body = json.loads(content)
        elif isinstance(name, str) and (match := re.fullmatch(r"files\[(\d+)\]", name)):
            files.append(Upload(int(match[1]), str(part.get_filename()), content))
    return body, files


def with_uploads(fake: FakeDiscord, body: Any, files: list[Upload]) -> Any:
    """The payload with each `attachments` entry that names an uploaded file (`{"id": n, "filename": …}`) made the
    attachment Discord stores and serves from its CDN; entries naming attachments kept are left as they are."""
    if not isinstance(body, dict) or not files:
        return body
    uploads = {upload.index: upload for upload in files}
    attachments = []
    for entry in body.get("attachments") or []:
        upload = uploads.get(int(entry["id"])) if str(entry.get("id", "")).isdecimal() else None
        if upload is None:  # a snowflake: an attachment the message keeps
            attachments.append(entry)
            continue
        guessed = mimetypes.guess_type(entry.get("filename") or upload.filename)[0] or "application/octet-stream"
        content_type = f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed
        made = fake.attachment(entry.get("filename") or upload.filename, content_type, upload.content, ephemeral=False)
        attachments.append(made)
    return {**body, "attachments": attachments}


async def handle(fake: FakeDiscord, request: web.Request, path: str, body: Any, authorization: str) -> web.Response:
    if path.startswith("/interactions/") and path.endswith("/callback") and request.method == "POST":
        return await interactions.callback(fake, request, path, body)
    if path.startswith("/webhooks/"):
        return await interactions.webhook(fake, request, path, body)
    if authorization != f"Bot {BOT_TOKEN}":
        return error_response(401, 0, "401: Unauthorized")
    answer = await routes(fake, request, path, body)
    if answer is None:
        fake.unmatched.append(f"{request.method} {path}")
        return error_response(404, 0, "404: Not Found")
    return answer


async def routes(fake: FakeDiscord, request: web.Request, path: str, body: Any) -> web.Response | None:
    method = request.method
    if (method, path) == ("GET", "/users/@me"):
        return json_response({**fake.user(APP_ID), "verified": True, "mfa_enabled": False, "email": None})
    if (method, path) == ("GET", "/oauth2/applications/@me"):
        return json_response(application_object(fake.user(ADMIN)))
    match = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)
    if match and method == "PUT":
        guild = int(match[2]) if match[2] else None
        if int(match[1]) != APP_ID or (guild is not None and guild != GUILD_ID):
            return error_response(403, 50001, "Missing Access")
        problems = [problem for command in body for problem in command_problems(command)]
        if problems:
            return json_response({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)
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
        return json_response(registered)
    match = re.fullmatch(r"/channels/(\d+)/messages", path)
    if match and method == "GET":  # history, newest first
        found = [m for m in fake.messages.values() if m["channel_id"] == match[1]]
        return json_response(list(reversed(found))[: int(request.query.get("limit", "50"))])
    if match and method == "POST":
        channel_id = int(match[1])
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce"):  # the same author and nonce again: the message it made
            for earlier in fake.messages.values():
                if earlier.get("nonce") == nonce and earlier["channel_id"] == match[1]:
                    return json_response(earlier)
        extra: dict[str, Any] = {"nonce": nonce} if nonce else {}
        reference = body.get("message_reference")
        kind = 0
        if reference:
            kind = 19
            referenced = fake.messages.get(int(reference["message_id"]))
            if referenced is None and reference.get("fail_if_not_exists", True):
                return error_response(400, 50035, "Invalid Form Body")
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
        return json_response(message)
    match = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
    if match and method == "PATCH":
        message = fake.messages.get(int(match[2]))
        if message is None or message["channel_id"] != match[1]:
            return error_response(404, 10008, "Unknown Message")
        return json_response(edited(message, body))
    if (method, path) == ("POST", "/users/@me/channels"):
        recipient = int(body["recipient_id"])
        if recipient not in fake.users:
            return error_response(400, 50035, "Invalid Form Body")
        channel_id = fake.dm_channels.setdefault(recipient, fake.snowflake())
        return json_response(dm_channel_object(channel_id, fake.user(recipient)))
    if (method, path) == ("GET", f"/guilds/{GUILD_ID}"):
        return json_response(rest_guild_object(fake.roles))
    match = re.fullmatch(rf"/guilds/{GUILD_ID}/members/(\d+)", path)
    if match and method == "GET":
        if int(match[1]) not in fake.users:
            return error_response(404, 10007, "Unknown Member")
        return json_response(fake.member(int(match[1])))
    return None


_NAME = re.compile(r"^[-_'\w]{1,32}$")


def command_problems(command: dict[str, Any]) -> list[str]:
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
