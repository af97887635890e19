"""Migrations on a fresh database and on one an older version of the bot left behind."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.model import Caller
from storage.legacy_schema import MIGRATIONS
from storage.sql import Storage
from tests.database import integrity_ok

CALLER = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="Alice")


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


HEAD = "0009"  # the newest revision in storage/migrations/versions


def revision(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        [(version,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(version)


async def test_fresh_database_is_created_at_the_newest_revision(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    async with await Storage.open(path):
        pass
    assert integrity_ok(path)
    assert {"requests", "posts", "audit_log", "notices", "seen_once", "installations"} <= tables(path)
    assert "_migrations" not in tables(path)
    assert revision(path) == HEAD


async def test_a_database_of_an_early_release_keeps_its_rows_and_gets_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        first_name, first_statements = MIGRATIONS[0]
        await db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for statement in first_statements:
            await db.execute(statement)
        await db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", (first_name,))
        await db.execute(
            "INSERT INTO user_settings (platform, workspace_id, user_id, timezone, updated_at) "
            "VALUES ('slack', 'T1', 'U1', 'Europe/Paris', '2026-01-01T00:00:00.000000Z')"
        )
    async with await Storage.open(path) as storage:
        assert await storage.preferences.user_timezone(CALLER) == "Europe/Paris"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone() == (len(MIGRATIONS),)
    assert "notices" in tables(path)
    assert revision(path) == HEAD


async def test_opening_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with await Storage.open(path) as storage:
        await storage.preferences.set_user_timezone(CALLER, "Asia/Tokyo")
    schema = _schema(path)
    async with await Storage.open(path) as storage:
        assert await storage.preferences.user_timezone(CALLER) == "Asia/Tokyo"
    assert _schema(path) == schema
    assert revision(path) == HEAD


def _schema(path: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


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


async def test_work_caught_mid_way_before_claims_existed_is_free_to_claim_after_the_upgrade(tmp_path: Path) -> None:
    """A database from before 0008_claims, left with a notice being delivered and a request being sent: upgraded in
    place, its rows keep their states and carry no claim, so the first replica to look takes them."""
    path = tmp_path / "bot.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for name, statements in MIGRATIONS[:7]:
            for statement in statements:
                await db.execute(statement)
            await db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", (name,))
        await db.execute(
            "INSERT INTO requests (platform, workspace_id, channel_id, user_id, user_name, command_text, request_json, "
            "state, created_at, updated_at, api) VALUES ('slack', 'T1', 'C1', 'U1', 'Alice', '/post', "
            """'{"accounts": [], "contentType": "video", "mediaUrls": [], "caption": ""}', 'sending', """
            "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 'sandbox')"
        )
        await db.execute(
            "INSERT INTO notices (created_at, platform, workspace_id, channel_id, kind, payload, state, "
            "next_attempt_at) VALUES ('2026-01-01T00:00:00.000000Z', 'slack', 'T1', 'C1', 'scheduled', '{}', "
            "'sending', '2026-01-01T00:00:00.000000Z')"
        )
    async with await Storage.open(path, api="sandbox", replica="b") as storage:
        assert [n.id for n in await storage.notices.claim_in_flight(platforms=["slack"])] == [1]
        assert [r.state for r in await storage.requests.claim_unfinished()] == ["sending"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT claimed_by FROM notices").fetchall() == [("b",)]
        assert db.execute("SELECT 1 FROM _migrations WHERE name = '0008_claims'").fetchone() == (1,)
