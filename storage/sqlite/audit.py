"""The audit log: who changed what. A row is written only inside the transaction of the change it records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.model import Caller
from storage.sqlite.encoding import to_db_time


async def write_audit(
    db: aiosqlite.Connection,
    caller: Caller,
    *,
    at: datetime,
    action: str,
    request_id: int | None,
    detail: dict[str, Any],
) -> None:
    await db.execute(
        "INSERT INTO audit_log (at, platform, workspace_id, channel_id, user_id, action, request_id, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            to_db_time(at),
            caller.platform,
            caller.workspace_id,
            caller.channel_id,
            caller.user_id,
            action,
            request_id,
            json.dumps(detail, ensure_ascii=False),
        ),
    )
