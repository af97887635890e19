"""The `Leases` port: a role one replica has at a time, taken in one statement so that two cannot both have it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_

from storage.schema import leases
from storage.sql.connection import Database, replacing


class SqlLeases:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def hold(self, name: str, *, now: datetime, until: datetime) -> bool:
        me = self._db.replica
        row = {"name": name, "holder": me, "expires_at": until}
        free = or_(leases.c.holder == me, leases.c.expires_at <= now)
        taken = replacing(self._db.dialect, leases, row, where=free).returning(leases.c.name)
        return bool(await self._db.returning(taken))

    async def release(self, name: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(delete(leases).where(leases.c.name == name, leases.c.holder == self._db.replica))
