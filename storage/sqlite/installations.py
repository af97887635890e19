"""The `Installations` port: one row per installed workspace or organization, its record sealed by the core."""

from __future__ import annotations

import sqlite3

from bot.records import Installation
from storage.sqlite.connection import Database
from storage.sqlite.encoding import to_db_time


class SqliteInstallations:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, installation: Installation) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO installations (platform, organization_id, workspace_id, sealed, installed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, organization_id, workspace_id) DO UPDATE SET "
                "sealed = excluded.sealed, installed_at = excluded.installed_at",
                (
                    installation.platform,
                    installation.organization_id,
                    installation.workspace_id,
                    installation.record,
                    to_db_time(self._db.now()),
                ),
            )

    async def find(self, platform: str, *, workspace_id: str, organization_id: str) -> Installation | None:
        row = await self._db.row(
            "SELECT * FROM installations WHERE platform = ? AND organization_id = ? AND workspace_id = ?",
            (platform, organization_id, workspace_id),
        )
        return _installation(row) if row else None

    async def delete(self, platform: str, *, workspace_id: str, organization_id: str) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM installations WHERE platform = ? AND organization_id = ? AND workspace_id = ?",
                (platform, organization_id, workspace_id),
            )
            return cursor.rowcount > 0

    async def all(self, platform: str) -> list[Installation]:
        rows = await self._db.rows("SELECT * FROM installations WHERE platform = ?", (platform,))
        return [_installation(row) for row in rows]


def _installation(row: sqlite3.Row) -> Installation:
    return Installation(
        platform=row["platform"],
        workspace_id=row["workspace_id"],
        organization_id=row["organization_id"],
        record=row["sealed"],
    )
