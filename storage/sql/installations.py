"""The `Installations` port: one row per installed workspace or organization, its record sealed by the core."""

from __future__ import annotations

from sqlalchemy import ColumnElement, RowMapping, delete, select

from bot.records import Installation
from storage.schema import installations
from storage.sql.connection import Database, replacing


class SqlInstallations:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, installation: Installation) -> None:
        row = {
            "platform": installation.platform,
            "organization_id": installation.organization_id,
            "workspace_id": installation.workspace_id,
            "sealed": installation.record,
            "installed_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            await db.execute(replacing(self._db.dialect, installations, row))

    async def find(self, platform: str, *, workspace_id: str, organization_id: str) -> Installation | None:
        row = await self._db.row(select(installations).where(_one(platform, workspace_id, organization_id)))
        return _installation(row) if row else None

    async def delete(self, platform: str, *, workspace_id: str, organization_id: str) -> bool:
        async with self._db.transaction() as db:
            result = await db.execute(delete(installations).where(_one(platform, workspace_id, organization_id)))
            return result.rowcount > 0

    async def all(self, platform: str) -> list[Installation]:
        rows = await self._db.rows(select(installations).where(installations.c.platform == platform))
        return [_installation(row) for row in rows]


def _one(platform: str, workspace_id: str, organization_id: str) -> ColumnElement[bool]:
    return (
        (installations.c.platform == platform)
        & (installations.c.organization_id == organization_id)
        & (installations.c.workspace_id == workspace_id)
    )


def _installation(row: RowMapping) -> Installation:
    return Installation(
        platform=row["platform"],
        workspace_id=row["workspace_id"],
        organization_id=row["organization_id"],
        record=row["sealed"],
    )
