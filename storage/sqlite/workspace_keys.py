"""The `WorkspaceKeys` port: one row per workspace that connected its own Infinipost key, sealed by the core."""

from __future__ import annotations

from bot.model import Caller
from bot.records import WorkspaceKey
from storage.sqlite.audit import write_audit
from storage.sqlite.connection import Database
from storage.sqlite.encoding import from_db_time, to_db_time


class SqliteWorkspaceKeys:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, platform: str, workspace_id: str) -> WorkspaceKey | None:
        row = await self._db.row(
            "SELECT * FROM workspace_keys WHERE platform = ? AND workspace_id = ?", (platform, workspace_id)
        )
        if row is None:
            return None
        connected_at = from_db_time(row["connected_at"])
        assert connected_at is not None
        return WorkspaceKey(
            platform=row["platform"],
            workspace_id=row["workspace_id"],
            sealed=row["sealed"],
            last4=row["last4"],
            connected_by=row["connected_by"],
            connected_at=connected_at,
        )

    async def put(self, key: WorkspaceKey, *, by: Caller) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO workspace_keys (platform, workspace_id, sealed, last4, connected_by, connected_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace_id) DO UPDATE SET "
                "sealed = excluded.sealed, last4 = excluded.last4, connected_by = excluded.connected_by, "
                "connected_at = excluded.connected_at",
                (key.platform, key.workspace_id, key.sealed, key.last4, key.connected_by, to_db_time(key.connected_at)),
            )
            detail = {"last4": key.last4}
            await write_audit(db, by, at=self._db.now(), action="key_connected", request_id=None, detail=detail)

    async def delete(self, platform: str, workspace_id: str, *, by: Caller) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM workspace_keys WHERE platform = ? AND workspace_id = ?", (platform, workspace_id)
            )
            if cursor.rowcount == 0:
                return False
            await write_audit(db, by, at=self._db.now(), action="key_disconnected", request_id=None, detail={})
            return True
