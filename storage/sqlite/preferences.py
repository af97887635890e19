"""People's zones, channels' accounts and workspaces' aliases.

They are read by every command, so they are kept in memory once read. A change made here is seen at once; one
made by another process on the same database (a second replica) within SETTINGS_FRESH_SECONDS, when what was
read expires.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import TTLCache

from bot.model import Caller, ChannelRef
from bot.records import ChannelSettings
from storage.sqlite.audit import write_audit
from storage.sqlite.connection import Database
from storage.sqlite.encoding import to_db_time

SETTINGS_CACHE_SIZE = 10_000
SETTINGS_FRESH_SECONDS = 2.0  # how stale another process's change may be seen: a read per key at most this often


class SqlitePreferences:
    """The `Preferences` port (bot/ports.py) over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # When full, the least recently read go first, so that a busy workspace's settings stay in memory.
        self._cache: TTLCache[tuple[str, ...], Any, float] = TTLCache(SETTINGS_CACHE_SIZE, SETTINGS_FRESH_SECONDS)

    async def _cached(self, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self._cache:
            self._cache[key] = await load()
        return self._cache[key]

    async def user_timezone(self, caller: Caller) -> str | None:
        async def load() -> str | None:
            row = await self._db.row(
                "SELECT timezone FROM user_settings WHERE platform = ? AND workspace_id = ? AND user_id = ?",
                (caller.platform, caller.workspace_id, caller.user_id),
            )
            return str(row["timezone"]) if row and row["timezone"] else None

        zone: str | None = await self._cached(("zone", caller.platform, caller.workspace_id, caller.user_id), load)
        return zone

    async def set_user_timezone(self, caller: Caller, timezone: str | None) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO user_settings (platform, workspace_id, user_id, timezone, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, workspace_id, user_id) "
                "DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
                (caller.platform, caller.workspace_id, caller.user_id, timezone, to_db_time(self._db.now())),
            )
            await write_audit(
                db, caller, at=self._db.now(), action="timezone", request_id=None, detail={"timezone": timezone}
            )
        self._cache.pop(("zone", caller.platform, caller.workspace_id, caller.user_id), None)

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        async def load() -> ChannelSettings:
            row = await self._db.row(
                "SELECT default_accounts, allowed_accounts FROM channel_settings "
                "WHERE platform = ? AND workspace_id = ? AND channel_id = ?",
                (channel.platform, channel.workspace_id, channel.channel_id),
            )
            if not row:
                return ChannelSettings()
            allowed = row["allowed_accounts"]
            return ChannelSettings(
                default_accounts=tuple(json.loads(row["default_accounts"])),
                allowed_accounts=tuple(json.loads(allowed)) if allowed is not None else None,
            )

        settings: ChannelSettings = await self._cached(
            ("channel", channel.platform, channel.workspace_id, channel.channel_id), load
        )
        return settings

    async def save_channel_settings(self, caller: Caller, settings: ChannelSettings) -> None:
        defaults, allowed = settings.default_accounts, settings.allowed_accounts
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO channel_settings (platform, workspace_id, channel_id, default_accounts, "
                "allowed_accounts, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, workspace_id, channel_id) DO UPDATE SET "
                "default_accounts = excluded.default_accounts, allowed_accounts = excluded.allowed_accounts, "
                "updated_at = excluded.updated_at",
                (
                    caller.platform,
                    caller.workspace_id,
                    caller.channel_id,
                    json.dumps(list(defaults)),
                    json.dumps(list(allowed)) if allowed is not None else None,
                    to_db_time(self._db.now()),
                ),
            )
            await write_audit(
                db,
                caller,
                at=self._db.now(),
                action="channel_accounts",
                request_id=None,
                detail={"defaults": list(defaults), "allowed": allowed and list(allowed)},
            )
        self._cache.pop(("channel", caller.platform, caller.workspace_id, caller.channel_id), None)

    async def aliases(self, platform: str, workspace_id: str) -> dict[str, str]:
        async def load() -> dict[str, str]:
            rows = await self._db.rows(
                "SELECT alias, account_id FROM aliases WHERE platform = ? AND workspace_id = ?",
                (platform, workspace_id),
            )
            return {str(row["alias"]): str(row["account_id"]) for row in rows}

        aliases: dict[str, str] = await self._cached(("aliases", platform, workspace_id), load)
        return dict(aliases)

    async def set_alias(self, caller: Caller, alias: str, account_id: str | None) -> bool:
        # Aliases are read without regard to case, so this replaces or removes the alias in any case (`Main`
        # replaces `main`).
        async with self._db.transaction() as db:
            async with db.execute(
                "SELECT alias FROM aliases WHERE platform = ? AND workspace_id = ?",
                (caller.platform, caller.workspace_id),
            ) as cursor:
                rows = await cursor.fetchall()
            existing = [str(row["alias"]) for row in rows if str(row["alias"]).lower() == alias.lower()]
            await db.executemany(
                "DELETE FROM aliases WHERE platform = ? AND workspace_id = ? AND alias = ?",
                [(caller.platform, caller.workspace_id, name) for name in existing],
            )
            if account_id is not None:
                await db.execute(
                    "INSERT INTO aliases (platform, workspace_id, alias, account_id, created_by, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        caller.platform,
                        caller.workspace_id,
                        alias,
                        account_id,
                        caller.user_id,
                        to_db_time(self._db.now()),
                    ),
                )
            if existing or account_id is not None:
                await write_audit(
                    db,
                    caller,
                    at=self._db.now(),
                    action="alias",
                    request_id=None,
                    detail={"alias": alias, "account": account_id},
                )
        self._cache.pop(("aliases", caller.platform, caller.workspace_id), None)
        return bool(existing)
