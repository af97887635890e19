"""The WorkspaceKeys port over SQLite: one key per workspace, replaced by a new one, forgotten on delete, each
change with its audit row."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.model import Caller
from bot.records import WorkspaceKey
from storage.sql import Storage

ADMIN = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="ann", is_admin=True)
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _key(sealed: str, last4: str, workspace_id: str = "T1") -> WorkspaceKey:
    return WorkspaceKey(
        platform="slack", workspace_id=workspace_id, sealed=sealed, last4=last4, connected_by="U1", connected_at=AT
    )


async def test_one_key_per_workspace_replaced_then_forgotten(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "bot.db") as storage:
        keys = storage.workspace_keys
        assert await keys.get("slack", "T1") is None
        await keys.put(_key("sealed-1", "aaaa"), by=ADMIN)
        await keys.put(_key("sealed-2", "bbbb"), by=ADMIN)
        await keys.put(_key("sealed-3", "cccc", workspace_id="T2"), by=ADMIN)
        assert await keys.get("slack", "T1") == _key("sealed-2", "bbbb")
        assert await keys.get("discord", "T1") is None
        assert await keys.delete("slack", "T1", by=ADMIN) is True
        assert await keys.delete("slack", "T1", by=ADMIN) is False
        assert await keys.get("slack", "T1") is None
        assert (await keys.get("slack", "T2")) == _key("sealed-3", "cccc", workspace_id="T2")
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT action, detail FROM audit_log ORDER BY id").fetchall()
    assert rows == [
        ("key_connected", '{"last4": "aaaa"}'),
        ("key_connected", '{"last4": "bbbb"}'),
        ("key_connected", '{"last4": "cccc"}'),
        ("key_disconnected", "{}"),
    ]
