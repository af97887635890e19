"""A PostgreSQL server that drops the bot's connections (a restart, a fail-over, an idle timeout) costs no
command: a pooled connection left idle is checked before it is lent out, and replaced when the server is gone."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.model import Account, Caller, PostRequest
from bot.records import RequestState
from storage.sql import engine
from tests.postgres import open_storage

ALICE = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="Alice")
REQUEST = PostRequest(
    accounts=(Account(id="acc_1", platform="tiktok"),), content_type="video", media_urls=("https://e.com/v.mp4",)
)


async def _drop_every_connection_but_this(url: str) -> int:
    admin = await asyncpg.connect(url)
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await admin.close()


async def test_after_the_server_dropped_the_idle_connections_the_next_command_is_stored(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "IDLE_BEFORE_PING", 0.2)  # seconds, rather than the deployed five
    store = await open_storage(postgres_url)
    try:
        first = await store.requests.save(ALICE, command_text="/post", request=REQUEST, state=RequestState.SENDING)
        assert await _drop_every_connection_but_this(postgres_url) >= 1
        await asyncio.sleep(0.3)

        second = await store.requests.save(ALICE, command_text="/post", request=REQUEST, state=RequestState.SENDING)
        assert [r.id for r in await store.requests.unsettled()] == [first.id, second.id]
    finally:
        await store.close()
