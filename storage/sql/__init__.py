"""The bot's database, SQLite or PostgreSQL, through one SQLAlchemy Core definition: one module per aggregate,
over one engine (`Database`), but for what an acknowledgement waits for (the one-time keys, a command kept as
accepted), which has connections of its own (but on `:memory:`) so that it never queues behind other writes.

`Storage` assembles them into the core's `Store` port; open it with `await Storage.open(path_or_url)`.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StorageError
from storage import schema
from storage.files import bot_database, prepare
from storage.sql.calendar import SqlCalendar
from storage.sql.connection import DATABASE_ERRORS, DEFAULT_LEASE, Database, dispose, utc_now
from storage.sql.engine import POSTGRES_ACK_POOL, is_server_url, migrate, postgres_engine, sqlite_engine
from storage.sql.installations import SqlInstallations
from storage.sql.leases import SqlLeases
from storage.sql.media import SqlMediaIndex
from storage.sql.notices import SqlNoticeQueue
from storage.sql.once_keys import SqlOnceKeys
from storage.sql.posts import SqlPosts
from storage.sql.preferences import SqlPreferences
from storage.sql.requests import SqlRequests
from storage.sql.series import SqlSeries
from storage.sql.slots import SqlSlots
from storage.sql.workspace_keys import SqlWorkspaceKeys

__all__ = ["Storage"]


class Storage:
    """Every aggregate over one database. `":memory:"` works for tests."""

    def __init__(self, database: Database, *, once_engine: AsyncEngine | None = None) -> None:
        self._database = database
        self._once_engine = once_engine
        # What an acknowledgement waits for (the one-time key, the command kept as accepted) has an engine of
        # its own, so that it never queues behind the work of a burst of commands.
        acknowledging = database.sharing_settings(once_engine) if once_engine is not None else database
        self.requests = SqlRequests(database, acknowledging=acknowledging)
        self.posts = SqlPosts(database)
        self.preferences = SqlPreferences(database)
        self.media = SqlMediaIndex(database)
        self.notices = SqlNoticeQueue(database)
        self.installations = SqlInstallations(database)
        self.workspace_keys = SqlWorkspaceKeys(database)
        self.leases = SqlLeases(database)
        self.once_keys = SqlOnceKeys(acknowledging)
        self.calendar = SqlCalendar(database)
        self.slots = SqlSlots(database)
        self.series = SqlSeries(database, self.requests)

    @classmethod
    async def open(
        cls,
        target: Path | str,
        *,
        clock: Callable[[], datetime] = utc_now,
        api: str = "",
        legacy_api: str | None = None,
        replica: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Self:
        """Open and migrate the database: an SQLite file (created with its folder if need be) or a
        `postgresql://` URL. Raises StorageError with one sentence saying what to fix: a folder, a file that is
        not SQLite, a place the bot cannot write, a server it cannot reach.

        Args:
            api: the Infinipost this process talks to, which its requests are stamped with.
            legacy_api: the stamp its requests had before API keys were told apart.
            replica: the id this replica's claims carry (default: the host's name), the same across its restarts.
            lease: how long a claim lasts if its work is never recorded.
        """
        engine, once_engine = await (_open_server(str(target)) if is_server_url(target) else _open_file(target))
        database = Database(
            engine,
            clock=clock,
            api=api,
            legacy_api=legacy_api,
            replica=socket.gethostname() if replica is None else replica,
            lease=lease,
        )
        return cls(database, once_engine=once_engine)

    async def ping(self) -> None:
        await self._database.row(select(literal(1)))

    async def claims_held(self, now: datetime) -> int:
        replica = self._database.replica
        counts = [
            select(func.count())
            .select_from(table)
            .where(table.c.claimed_by == replica, table.c.claimed_until > now)
            .scalar_subquery()
            for table in (schema.posts, schema.requests, schema.notices)
        ]
        row = await self._database.row(select((counts[0] + counts[1] + counts[2]).label("held")))
        return int(row["held"]) if row else 0

    async def close(self) -> None:
        if self._once_engine is not None:
            await dispose(self._once_engine)
        await self._database.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def _open_file(path: Path | str) -> tuple[AsyncEngine, AsyncEngine | None]:
    in_memory = str(path) == ":memory:"  # a second connection would be a second database
    file = bot_database(Path(path))
    if not in_memory:
        await asyncio.to_thread(prepare, file)
    engine = sqlite_engine(str(path))
    try:
        await migrate(engine)
    except DATABASE_ERRORS as exc:
        await engine.dispose()
        cause = getattr(exc, "orig", exc)
        if isinstance(cause, sqlite3.Error):
            raise file.refusal(cause) from exc
        raise StorageError(f"Cannot use the database at {path}; set BOT_DATABASE to a file the bot may write.") from exc
    return engine, None if in_memory else sqlite_engine(str(path))


async def _open_server(url: str) -> tuple[AsyncEngine, AsyncEngine | None]:
    engine = postgres_engine(url)
    try:
        await migrate(engine)
    except DATABASE_ERRORS as exc:
        await engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]  # the driver's words carry no password
        raise StorageError(
            f"Cannot use the PostgreSQL database {where} ({cause}); check BOT_DATABASE and that the server is running."
        ) from exc
    return engine, postgres_engine(url, pool=POSTGRES_ACK_POOL)
