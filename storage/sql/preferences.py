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
from sqlalchemy import delete, insert, select

from bot.caching import MISSING, fresh
from bot.model import Caller, ChannelRef
from bot.records import ChannelSettings
from storage.schema import aliases, channel_settings, user_settings
from storage.sql.audit import write_audit
from storage.sql.connection import Database, replacing
from storage.sql.encoding import approvers_from_json, approvers_to_json

SETTINGS_CACHE_SIZE = 10_000
SETTINGS_FRESH_SECONDS = 2.0  # how stale another process's change may be seen: a read per key at most this often


class SqlPreferences:
    """The `Preferences` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # When full, the least recently read go first, so that a busy workspace's settings stay in memory.
        self._cache: TTLCache[tuple[str, ...], Any, float] = TTLCache(SETTINGS_CACHE_SIZE, SETTINGS_FRESH_SECONDS)

    async def _cached(self, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        value = fresh(self._cache, key, MISSING)
        if value is MISSING:
            value = self._cache[key] = await load()
        return value

    async def user_timezone(self, caller: Caller) -> str | None:
        async def load() -> str | None:
            row = await self._db.row(
                select(user_settings.c.timezone).where(
                    user_settings.c.platform == caller.platform,
                    user_settings.c.workspace_id == caller.workspace_id,
                    user_settings.c.user_id == caller.user_id,
                )
            )
            return str(row["timezone"]) if row and row["timezone"] else None

        zone: str | None = await self._cached(("zone", caller.platform, caller.workspace_id, caller.user_id), load)
        return zone

    async def set_user_timezone(self, caller: Caller, timezone: str | None) -> None:
        row = {
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "user_id": caller.user_id,
            "timezone": timezone,
            "updated_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            await db.execute(replacing(self._db.dialect, user_settings, row))
            await write_audit(
                db, caller, at=self._db.now(), action="timezone", request_id=None, detail={"timezone": timezone}
            )
        self._cache.pop(("zone", caller.platform, caller.workspace_id, caller.user_id), None)

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        async def load() -> ChannelSettings:
            row = await self._db.row(
                select(
                    channel_settings.c.default_accounts,
                    channel_settings.c.allowed_accounts,
                    channel_settings.c.approvers,
                    channel_settings.c.authors_may_approve,
                    channel_settings.c.slots,
                    channel_settings.c.slots_zone,
                ).where(
                    channel_settings.c.platform == channel.platform,
                    channel_settings.c.workspace_id == channel.workspace_id,
                    channel_settings.c.channel_id == channel.channel_id,
                )
            )
            if not row:
                return ChannelSettings()
            allowed = row["allowed_accounts"]
            return ChannelSettings(
                default_accounts=tuple(json.loads(row["default_accounts"])),
                allowed_accounts=tuple(json.loads(allowed)) if allowed is not None else None,
                approvers=approvers_from_json(row["approvers"]),
                authors_may_approve=bool(row["authors_may_approve"]),
                slots=tuple((int(day), int(minute)) for day, minute in json.loads(row["slots"] or "[]")),
                slots_zone=row["slots_zone"],
            )

        settings: ChannelSettings = await self._cached(
            ("channel", channel.platform, channel.workspace_id, channel.channel_id), load
        )
        return settings

    async def save_channel_settings(
        self, caller: Caller, settings: ChannelSettings, *, action: str = "channel_accounts"
    ) -> None:
        defaults, allowed = settings.default_accounts, settings.allowed_accounts
        approvers = settings.approvers
        row = {
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "channel_id": caller.channel_id,
            "default_accounts": json.dumps(list(defaults)),
            "allowed_accounts": json.dumps(list(allowed)) if allowed is not None else None,
            "approvers": approvers_to_json(approvers) if approvers else None,
            "authors_may_approve": settings.authors_may_approve,
            "slots": json.dumps([list(slot) for slot in settings.slots]) if settings.slots else None,
            "slots_zone": settings.slots_zone,
            "updated_at": self._db.now(),
        }
        async with self._db.transaction() as db:
            await db.execute(replacing(self._db.dialect, channel_settings, row))
            await write_audit(
                db,
                caller,
                at=self._db.now(),
                action=action,
                request_id=None,
                detail={
                    "defaults": list(defaults),
                    "allowed": allowed and list(allowed),
                    "approvers": [f"{a.kind}:{a.id}" for a in approvers],
                    "authors_may_approve": settings.authors_may_approve,
                    "slots": [list(slot) for slot in settings.slots],
                },
            )
        self._cache.pop(("channel", caller.platform, caller.workspace_id, caller.channel_id), None)

    async def aliases(self, platform: str, workspace_id: str) -> dict[str, str]:
        async def load() -> dict[str, str]:
            rows = await self._db.rows(
                select(aliases.c.alias, aliases.c.account_id).where(
                    aliases.c.platform == platform, aliases.c.workspace_id == workspace_id
                )
            )
            return {str(row["alias"]): str(row["account_id"]) for row in rows}

        found: dict[str, str] = await self._cached(("aliases", platform, workspace_id), load)
        return dict(found)

    async def set_alias(self, caller: Caller, alias: str, account_id: str | None) -> bool:
        # Aliases are read without regard to case, so this replaces or removes the alias in any case (`Main`
        # replaces `main`).
        # (Python's lower(), not SQL's, which SQLite applies to ASCII letters only.)
        workspace = (aliases.c.platform == caller.platform) & (aliases.c.workspace_id == caller.workspace_id)
        async with self._db.transaction() as db:
            names = (await db.execute(select(aliases.c.alias).where(workspace))).scalars()
            existing = [name for name in names if name.lower() == alias.lower()]
            if existing:
                await db.execute(delete(aliases).where(workspace, aliases.c.alias.in_(existing)))
            if account_id is not None:
                await db.execute(
                    insert(aliases).values(
                        platform=caller.platform,
                        workspace_id=caller.workspace_id,
                        alias=alias,
                        account_id=account_id,
                        created_by=caller.user_id,
                        created_at=self._db.now(),
                    )
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
