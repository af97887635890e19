"""Migrations on a fresh database and on one an older version of the bot left behind."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage.migrations import MIGRATIONS, migrate
from storage.sqlite import Storage
from tests.database import integrity_ok


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_fresh_database_gets_every_migration_recorded(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    async with await Storage.open(path):
        pass
    assert integrity_ok(path)
    assert {"requests", "posts", "audit_log", "notices", "_migrations"} <= tables(path)
    with sqlite3.connect(path) as db:
        applied = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert applied == [name for name, _ in MIGRATIONS]


async def test_existing_database_keeps_its_rows_and_gets_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        first_name, first_statements = MIGRATIONS[0]
        await db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for statement in first_statements:
            await db.execute(statement)
        await db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", (first_name,))
        await db.execute(
            "INSERT INTO user_settings (platform, workspace_id, user_id, timezone, updated_at) "
            "VALUES ('slack', 'T1', 'U1', 'Europe/Paris', '2026-01-01')"
        )
    async with await Storage.open(path):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT timezone FROM user_settings").fetchone() == ("Europe/Paris",)
        assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone() == (len(MIGRATIONS),)
    assert "notices" in tables(path)


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db) == [name for name, _ in MIGRATIONS]
        assert await migrate(db) == []


async def test_database_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private" / "bot.db"
    async with await Storage.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_a_one_time_key_is_new_once_until_it_expires(tmp_path: Path, where: str) -> None:
    """Keys written together (a burst of Slack requests) are each new once, however many times they come."""
    now = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    later = now + timedelta(minutes=6)
    path = tmp_path / "bot.db" if where == "file" else ":memory:"
    async with await Storage.open(path) as storage:
        keys = ["a", "b", "a", "c", "a", "b"]
        firsts = await asyncio.gather(*(storage.once_keys.remember(k, until=later, now=now) for k in keys))
        assert firsts == [True, True, False, True, False, False]
        assert not await storage.once_keys.remember("a", until=later, now=now + timedelta(minutes=5))
        assert await storage.once_keys.remember(
            "a", until=later + timedelta(minutes=6), now=later + timedelta(seconds=1)
        )
    if where == "file":
        async with await Storage.open(path) as reopened:  # kept across a restart
            assert not await reopened.once_keys.remember("a", until=later, now=later + timedelta(minutes=1))
