"""The bot's database read as it is on disk, with plain sqlite3 (or asyncpg, for a PostgreSQL one): for tests that
check what no command shows (the audit log, the notice outbox's states, what was stored for a channel)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg

from bot.model import ChannelRef


def _rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, params).fetchall()


def audit_entries(path: Path) -> list[dict[str, Any]]:
    """Every audit row, newest first, its detail decoded."""
    rows = _rows(
        path,
        "SELECT at, platform, workspace_id, channel_id, user_id, action, request_id, detail "
        "FROM audit_log ORDER BY id DESC",
    )
    return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]


def notice_states(path: Path) -> list[tuple[str, str]]:
    """(kind, state) of every notice, oldest first."""
    return [(row["kind"], row["state"]) for row in _rows(path, "SELECT kind, state FROM notices ORDER BY id")]


async def notice_states_in(database: Path | str) -> list[tuple[str, str]]:
    """`notice_states` of a SQLite file, or of a PostgreSQL database given by its URL."""
    if isinstance(database, Path):
        return notice_states(database)
    connection = await asyncpg.connect(database)
    try:
        rows = await connection.fetch("SELECT kind, state FROM notices ORDER BY id")
    finally:
        await connection.close()
    return [(row["kind"], row["state"]) for row in rows]


def channel_request_ids(path: Path, channel: ChannelRef) -> list[int]:
    """The channel's stored requests, but those awaiting confirmation or discarded, newest first."""
    rows = _rows(
        path,
        "SELECT id FROM requests WHERE platform = ? AND workspace_id = ? AND channel_id = ? "
        "AND state NOT IN ('awaiting_confirmation', 'discarded') ORDER BY id DESC",
        (channel.platform, channel.workspace_id, channel.channel_id),
    )
    return [row["id"] for row in rows]


def integrity_ok(path: Path) -> bool:
    [(answer,)] = _rows(path, "PRAGMA integrity_check")
    return bool(answer == "ok")
