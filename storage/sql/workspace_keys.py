"""The `WorkspaceKeys` port: one row per workspace that connected its own Infinipost key, sealed by the core."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import ColumnElement, delete, select

from bot.model import Caller
from bot.records import WorkspaceKey
from storage.schema import workspace_keys
from storage.sql.audit import write_audit
from storage.sql.connection import Database, replacing


class SqlWorkspaceKeys:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, platform: str, workspace_id: str) -> WorkspaceKey | None:
        row = await self._db.row(select(workspace_keys).where(_one(platform, workspace_id)))
        return WorkspaceKey(**row) if row else None

    async def put(self, key: WorkspaceKey, *, by: Caller) -> None:
        async with self._db.transaction() as db:
            await db.execute(replacing(self._db.dialect, workspace_keys, asdict(key)))
            detail = {"last4": key.last4}
            await write_audit(db, by, at=self._db.now(), action="key_connected", request_id=None, detail=detail)

    async def delete(self, platform: str, workspace_id: str, *, by: Caller) -> bool:
        async with self._db.transaction() as db:
            result = await db.execute(delete(workspace_keys).where(_one(platform, workspace_id)))
            if result.rowcount == 0:
                return False
            await write_audit(db, by, at=self._db.now(), action="key_disconnected", request_id=None, detail={})
            return True


def _one(platform: str, workspace_id: str) -> ColumnElement[bool]:
    return (workspace_keys.c.platform == platform) & (workspace_keys.c.workspace_id == workspace_id)
