"""The bot's SQLite database (aiosqlite): one module per aggregate, over one connection (`Database`).

`Storage` assembles them into the core's `Store` port; open it with `await Storage.open(path)`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.model import ChannelRef
from bot.records import RequestState, StoredRequest
from storage.files import bot_database, prepare
from storage.migrations import migrate
from storage.sqlite.connection import Database, connect, utc_now
from storage.sqlite.media import SqliteMediaIndex
from storage.sqlite.notices import SqliteNoticeQueue
from storage.sqlite.once_keys import SqliteOnceKeys
from storage.sqlite.posts import SqlitePosts
from storage.sqlite.preferences import SqlitePreferences
from storage.sqlite.requests import _REQUEST_COLUMNS, SqliteRequests, _request

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
    ) -> Self:
        """Open (creating it and its folder if need be) and migrate the database. Raises StorageError with one
        sentence saying what to fix: a folder, a file that is not SQLite, a place the bot cannot write.

        Args:
            api: the Infinipost this process talks to, which its requests are stamped with.
            legacy_api: the stamp its requests had before API keys were told apart.
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
        return cls(Database(db, clock=clock, api=api, legacy_api=legacy_api), once_db=once_db)

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

    # Read only by tests, the benchmark, or nobody

    async def requests_in_state(self, state: str) -> list[StoredRequest]:
        rows = await self._database.rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = ? ORDER BY id",
            (state,),
        )
        return [_request(row) for row in rows]

    async def channel_requests(self, channel: ChannelRef, *, limit: int) -> list[StoredRequest]:
        """The channel's latest sent or pending requests, newest first."""
        rows = await self._database.rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE platform = ? AND workspace_id = ? "
            "AND channel_id = ? AND state NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
            (
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
                RequestState.AWAITING_CONFIRMATION,
                RequestState.DISCARDED,
                limit,
            ),
        )
        return [_request(row) for row in rows]

    async def tracked_count(self) -> int:
        row = await self._database.row("SELECT COUNT(*) AS n FROM posts WHERE next_check_at IS NOT NULL")
        return int(row["n"]) if row else 0

    async def audit_entries(self, *, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._database.rows(
            "SELECT at, platform, workspace_id, channel_id, user_id, action, request_id, detail "
            "FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]

    async def notice_states(self) -> list[tuple[int, str, str]]:
        """(id, kind, state) of every notice, oldest first: for tests and diagnostics."""
        rows = await self._database.rows("SELECT id, kind, state FROM notices ORDER BY id")
        return [(int(r["id"]), str(r["kind"]), str(r["state"])) for r in rows]

    async def integrity_ok(self) -> bool:
        row = await self._database.row("PRAGMA integrity_check")
        return bool(row and row[0] == "ok")
