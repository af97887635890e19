"""How the database writes requests and message references as JSON (their times as the core writes them)."""

from __future__ import annotations

import json
from typing import Any

from bot.model import Account, MessageRef, PostRequest
from bot.records import from_utc_text, utc_text


def request_to_json(request: PostRequest) -> str:
    return json.dumps(
        {
            "accounts": [
                {
                    "id": a.id,
                    "platform": a.platform,
                    "name": a.name,
                    "username": a.username,
                    "status": a.status,
                }
                for a in request.accounts
            ],
            "contentType": request.content_type,
            "mediaUrls": list(request.media_urls),
            "caption": request.caption,
            "soundUrl": request.sound_url,
            "slideDuration": request.slide_duration,
            "scheduledTime": utc_text(request.scheduled_time),
            "mediaKeys": list(request.media_keys),
        },
        ensure_ascii=False,
    )


def request_from_json(text: str) -> PostRequest:
    data: dict[str, Any] = json.loads(text)
    return PostRequest(
        accounts=tuple(Account(**a) for a in data["accounts"]),
        content_type=data["contentType"],
        media_urls=tuple(data["mediaUrls"]),
        caption=data.get("caption"),
        sound_url=data.get("soundUrl"),
        slide_duration=data.get("slideDuration"),
        scheduled_time=from_utc_text(data.get("scheduledTime")),
        media_keys=tuple(data.get("mediaKeys") or ()),
    )


def ref_to_json(ref: MessageRef | None) -> str | None:
    return json.dumps({"channel": ref.channel_id, "message": ref.message_id}) if ref else None


def ref_from_json(text: str | None) -> MessageRef | None:
    if not text:
        return None
    data = json.loads(text)
    return MessageRef(channel_id=data["channel"], message_id=data["message"])
