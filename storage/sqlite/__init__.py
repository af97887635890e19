"""The bot's SQLite database (aiosqlite): one module per aggregate, over one connection (`Database`), but for the
one-time keys, which have their own so that Slack's acknowledgements never queue behind other writes.

`Storage` assembles them into the core's `Store` port; open it with `await Storage.open(path)`.
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

import aiosqlite

from storage.files import bot_database, prepare
from storage.migrations import migrate
from storage.sqlite.connection import DEFAULT_LEASE, Database, connect, utc_now
from storage.sqlite.encoding import to_db_time
from storage.sqlite.installations import SqliteInstallations
from storage.sqlite.media import SqliteMediaIndex
from storage.sqlite.notices import SqliteNoticeQueue
from storage.sqlite.once_keys import SqliteOnceKeys
from storage.sqlite.posts import SqlitePosts
from storage.sqlite.preferences import SqlitePreferences
from storage.sqlite.requests import SqliteRequests
from storage.sqlite.workspace_keys import SqliteWorkspaceKeys

__all__ = ["Storage"]


class Storage:
    """Every aggregate over one database. `":memory:"` works for tests."""

    def __init__(self, database: Database, *, once_db: aiosqlite.Connection | None = None) -> None:
        self._database = database
        self._once_db = once_db
        self.requests = SqliteRequests(database)
        self.posts = SqlitePosts(database)
        self.preferences = SqlitePreferences(database)
        self.media = SqliteMediaIndex(database)
        self.notices = SqliteNoticeQueue(database)
        self.installations = SqliteInstallations(database)
        self.workspace_keys = SqliteWorkspaceKeys(database)
        # A shared connection takes turns with everything else; a connection of its own has a lock of its own.
        self.once_keys = (
            SqliteOnceKeys(once_db, lock=asyncio.Lock())
            if once_db
            else SqliteOnceKeys(database.connection, lock=database.lock)
        )

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = utc_now,
        api: str = "",
        legacy_api: str | None = None,
        replica: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Self:
        """Open (creating it and its folder if need be) and migrate the database. Raises StorageError with one
        sentence saying what to fix: a folder, a file that is not SQLite, a place the bot cannot write.

        Args:
            api: the Infinipost this process talks to, which its requests are stamped with.
            legacy_api: the stamp its requests had before API keys were told apart.
            replica: the id this replica's claims carry (default: the host's name), the same across its restarts.
            lease: how long a claim lasts if its work is never recorded.
        """
        in_memory = str(path) == ":memory:"  # a second connection would be a second database
        file = bot_database(Path(path))
        if not in_memory:
            await asyncio.to_thread(prepare, file)
        db: aiosqlite.Connection | None = None
        try:
            db = await connect(path)
            await migrate(db)
            once_db = None if in_memory else await connect(path)
        except sqlite3.DatabaseError as exc:
            if db is not None:
                await db.close()
            raise file.refusal(exc) from exc
        database = Database(
            db,
            clock=clock,
            api=api,
            legacy_api=legacy_api,
            replica=socket.gethostname() if replica is None else replica,
            lease=lease,
        )
        return cls(database, once_db=once_db)

    async def ping(self) -> None:
        await self._database.row("SELECT 1 FROM sqlite_master LIMIT 1")

    async def claims_held(self, now: datetime) -> int:
        moment = to_db_time(now)
        params = (self._database.replica, moment) * 3
        row = await self._database.row(
            "SELECT (SELECT COUNT(*) FROM posts WHERE claimed_by = ? AND claimed_until > ?)"
            " + (SELECT COUNT(*) FROM requests WHERE claimed_by = ? AND claimed_until > ?)"
            " + (SELECT COUNT(*) FROM notices WHERE claimed_by = ? AND claimed_until > ?)",
            params,
        )
        return int(row[0]) if row else 0

    async def close(self) -> None:
        if self._once_db is not None:
            await self._once_db.close()
        await self._database.connection.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
