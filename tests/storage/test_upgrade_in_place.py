"""A database written by the release before PostgreSQL (tests/storage/data/before-postgresql.db, made by that
release's own code) opens with this one: upgraded in place, with nothing lost."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.model import Caller, ChannelRef, MessageRef
from bot.records import ChannelSettings, RequestState
from storage.sql import Storage
from tests.database import integrity_ok

WRITTEN_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the clock it was written with
ALICE = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="Alice")
OLD_DATABASE = Path(__file__).parent / "data" / "before-postgresql.db"


def _counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    shutil.copyfile(OLD_DATABASE, path)
    path.chmod(0o600)
    return path


async def test_every_row_is_kept_and_the_schema_reaches_the_newest_revision(old_database: Path) -> None:
    before = _counts(old_database)
    async with await Storage.open(old_database, api="sandbox", replica="new"):
        pass
    after = _counts(old_database)
    assert integrity_ok(old_database)
    assert {table: after[table] for table in before} == before
    assert after["alembic_version"] == 1


async def test_what_the_old_release_stored_reads_the_same_through_every_port(old_database: Path) -> None:
    clock = lambda: WRITTEN_AT + timedelta(minutes=2)  # noqa: E731
    async with await Storage.open(old_database, clock=clock, api="sandbox", replica="new") as storage:
        sent = await storage.requests.get(1)
        assert sent is not None
        assert sent.state == RequestState.SENT
        assert [a.id for a in sent.request.accounts] == ["acc_tt", "acc_ig"]
        assert sent.request.caption == "We're live! #launch"
        assert sent.request.scheduled_time == WRITTEN_AT + timedelta(days=1)
        assert sent.announcement == MessageRef(channel_id="C1", message_id="1700000000.000100")
        assert sent.created_at == WRITTEN_AT
        # The posts keep the order the create call answered them in, which the old release kept as rowid order.
        posts = (await storage.posts.of_requests([1]))[1]
        assert [p.id for p in posts] == ["post_z", "post_a"]
        assert posts[0].next_check_at == WRITTEN_AT + timedelta(days=1)

        queue, total = await storage.requests.channel_queue(ALICE.channel, limit=10)
        assert ([r.id for r in queue], total) == ([1], 1)  # the one awaiting confirmation is not in the queue
        assert (await storage.requests.channel_queue(ALICE.channel, account_id="acc_ig", limit=10))[1] == 1
        waiting = await storage.requests.by_token("tok-123")
        assert waiting is not None
        assert waiting.state == RequestState.AWAITING_CONFIRMATION

        [unsure] = await storage.requests.claim_reconciliations(WRITTEN_AT + timedelta(minutes=2))
        assert (unsure.id, unsure.channel) == (2, ChannelRef(platform="discord", workspace_id="G1", channel_id="D1"))

        [pending] = await storage.notices.due(WRITTEN_AT + timedelta(minutes=2), platforms=["slack", "discord"])
        assert (pending.kind, pending.request_id) == ("unconfirmed", 2)

        assert await storage.preferences.user_timezone(ALICE) == "Europe/Paris"
        assert await storage.preferences.channel_settings(ALICE.channel) == ChannelSettings(
            default_accounts=("acc_tt",), allowed_accounts=("acc_tt", "acc_ig")
        )
        assert await storage.preferences.aliases("slack", "T1") == {"brand-tiktok": "acc_tt"}
        media = await storage.media.get("m1")
        assert media is not None
        assert media.size == 1234
        assert not await storage.once_keys.remember(
            "v0=signature", until=WRITTEN_AT + timedelta(minutes=5), now=WRITTEN_AT + timedelta(minutes=1)
        )
        installation = await storage.installations.find("slack", workspace_id="T2", organization_id="")
        assert installation is not None
        assert installation.record == "gAAAA-sealed-record"


async def test_new_work_is_numbered_after_the_old(old_database: Path) -> None:
    async with await Storage.open(old_database, api="sandbox") as storage:
        stored = await storage.requests.save(
            ALICE,
            command_text="/post again",
            request=(await storage.requests.get(1)).request,  # type: ignore[union-attr]
            state=RequestState.SENDING,
        )
    assert stored.id == 4
