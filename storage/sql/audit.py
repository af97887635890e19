"""The audit log: who changed what. A row is written only inside the transaction of the change it records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Caller
from storage.schema import audit_log

# Built once: a statement made anew for every row costs more CPU than the row's round trip.
_INSERT = insert(audit_log)


async def write_audit(
    db: AsyncConnection,
    caller: Caller,
    *,
    at: datetime,
    action: str,
    request_id: int | None,
    detail: dict[str, Any],
) -> None:
    await db.execute(
        _INSERT,
        {
            "at": at,
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "channel_id": caller.channel_id,
            "user_id": caller.user_id,
            "action": action,
            "request_id": request_id,
            "detail": json.dumps(detail, ensure_ascii=False),
        },
    )
