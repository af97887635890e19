"""How the database writes requests and message references as JSON (their times as the core writes them)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.model import Account, MessageRef, PostRequest
from bot.records import Approval, ApprovalStep, Approver, from_utc_text, utc_text


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


def approvers_to_json(approvers: tuple[Approver, ...]) -> str:
    return json.dumps([{"kind": a.kind, "id": a.id, "name": a.name} for a in approvers], ensure_ascii=False)


def approvers_from_json(text: str | None) -> tuple[Approver, ...]:
    return tuple(Approver(**a) for a in json.loads(text)) if text else ()


def approval_to_json(approval: Approval | None) -> str | None:
    if approval is None:
        return None
    steps = [
        {"action": s.action, "by_id": s.by_id, "by_name": s.by_name, "at": utc_text(s.at), "note": s.note}
        for s in approval.steps
    ]
    return json.dumps(
        {
            "approvers": json.loads(approvers_to_json(approval.approvers)),
            "authors_may_approve": approval.authors_may_approve,
            "steps": steps,
        },
        ensure_ascii=False,
    )


def approval_from_json(text: str | None) -> Approval | None:
    if not text:
        return None
    data: dict[str, Any] = json.loads(text)
    return Approval(
        approvers=tuple(Approver(**a) for a in data["approvers"]),
        authors_may_approve=bool(data["authors_may_approve"]),
        steps=tuple(
            ApprovalStep(
                action=s["action"],
                by_id=s["by_id"],
                by_name=s["by_name"],
                at=from_utc_text(s["at"]) or datetime.min,
                note=s.get("note") or "",
            )
            for s in data["steps"]
        ),
    )
