"""Interactions as Discord tracks them: one initial answer each, within ANSWER_WITHIN seconds, through the
callback URL; then follow-ups and edits with the interaction's token (a webhook) for TOKEN_LIFETIME. A deferred
answer is a "thinking" message that the first follow-up fills in; `@original` is the message an answer made, or
the one a pressed button sits on."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.fakes.discord.fake import FakeDiscord, Interaction
from tests.fakes.discord.payloads import (
    APP_ID,
    DISCORD_EPOCH_MS,
    EPHEMERAL,
    LOADING,
    edited,
    error_response,
    json_response,
)

ANSWER_WITHIN = 3.0  # seconds Discord waits for an interaction's first answer
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token takes follow-ups and edits


def age(snowflake: int) -> float:
    """Seconds since Discord made this ID: its top bits are the milliseconds since the Discord epoch."""
    return time.time() - ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def interaction_by_token(fake: FakeDiscord, token: str) -> Interaction | None:
    return next((i for i in fake.interactions.values() if i.payload["token"] == token), None)


def interaction_message(fake: FakeDiscord, entry: Interaction, body: dict[str, Any], *, flags: int) -> dict[str, Any]:
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


async def callback(fake: FakeDiscord, request: web.Request, path: str, body: Any) -> web.Response:
    _, _, interaction_id, token, _ = path.split("/")
    entry = fake.interactions.get(int(interaction_id))
    if entry is None or entry.payload["token"] != token or age(int(interaction_id)) > ANSWER_WITHIN:
        return error_response(404, 10062, "Unknown interaction")  # also what a first answer after 3 seconds gets
    if entry.response is not None:
        return error_response(400, 40060, "Interaction has already been acknowledged.")
    kind = int(body["type"])
    entry.response = kind
    data = body.get("data") or {}
    answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": entry.payload["type"]}}
    if kind in (4, 5):
        flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
        message = interaction_message(fake, entry, data if kind == 4 else {}, flags=flags)
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
            answer["resource"] = {"type": 7, "message": edited(fake.messages[entry.original], data)}
    if request.query.get("with_response") not in ("1", "true"):
        return web.Response(status=204)
    return json_response(answer)


async def webhook(fake: FakeDiscord, request: web.Request, path: str, body: Any) -> web.Response:
    parts = path.split("/")
    entry = interaction_by_token(fake, parts[3])
    if entry is None or int(parts[2]) != APP_ID or entry.response is None:
        return error_response(404, 10015, "Unknown Webhook")
    if age(int(entry.payload["id"])) > TOKEN_LIFETIME:
        return error_response(401, 50027, "Invalid Webhook Token")
    if len(parts) == 4 and request.method == "POST":
        if entry.loading and entry.original is not None:
            entry.loading = False
            message = fake.messages[entry.original]
            message["flags"] &= ~LOADING
            message = edited(message, body)
        else:
            message = interaction_message(fake, entry, body, flags=int(body.get("flags") or 0))
        return json_response(message) if request.query.get("wait") in ("1", "true") else web.Response(status=204)
    if len(parts) == 6 and parts[4] == "messages":
        message_id = entry.original if parts[5] == "@original" else int(parts[5])
        if message_id not in fake.messages:
            return error_response(404, 10008, "Unknown Message")
        if request.method == "PATCH":
            if entry.loading and message_id == entry.original:  # the "thinking" message gets its answer
                entry.loading = False
                fake.messages[message_id]["flags"] &= ~LOADING
            return json_response(edited(fake.messages[message_id], body))
        return json_response(fake.messages[message_id])
    return error_response(405, 0, "405: Method Not Allowed")
