"""The questions monitoring asks the database: the outbox's backlog, the tracker's next check, and whether it
answers at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import StorageError
from bot.model import Account, Caller, ChannelRef, PostRequest, PostStatus
from bot.records import NewNotice, RequestState, StoredPost
from storage.sql import Storage

START = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
CALLER = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="Alice")
REQUEST = PostRequest(
    accounts=(Account(id="acc_1", platform="tiktok"),), content_type="video", media_urls=("https://e.com/v.mp4",)
)


def notice(platform: str) -> NewNotice:
    return NewNotice(
        channel=ChannelRef(platform=platform, workspace_id="T1", channel_id="C1"),
        kind="scheduled",
        request_id=None,
        payload="{}",
    )


def post(post_id: str, request_id: int, *, check_at: datetime | None) -> StoredPost:
    return StoredPost(
        id=post_id,
        request_id=request_id,
        account_id="acc_1",
        account_label="acc_1",
        status=PostStatus.SCHEDULED,
        scheduled_time=check_at,
        posted_at=None,
        next_check_at=check_at,
    )


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def test_the_backlog_counts_due_and_unsent_notices_of_the_platforms_asked_about(tmp_path: Path) -> None:
    clock = Clock()
    async with await Storage.open(tmp_path / "bot.db", clock=clock, api="sandbox") as storage:
        empty = await storage.notices.backlog(START, platforms=["slack"])
        assert (empty.due, empty.oldest) == (0, None)
        request = await storage.requests.save(CALLER, command_text="/post", request=REQUEST, state=RequestState.SENDING)
        await storage.requests.finish(request.id, state=RequestState.SENT, notices=[notice("slack")])
        clock.now = START + timedelta(minutes=1)
        await storage.requests.finish(request.id, state=RequestState.SENT, notices=[notice("slack")] * 2)
        await storage.requests.finish(request.id, state=RequestState.SENT, notices=[notice("discord")])
        first, second, third, _ = [n.id for n in await storage.notices.due(clock.now, platforms=["slack", "discord"])]

        await storage.notices.delivered([first])  # no longer waiting
        await storage.notices.claim_for_sending([second])  # handed over, not yet confirmed: still waiting
        await storage.notices.retry([third], at=START + timedelta(hours=1), error="429", give_up=False)
        backlog = await storage.notices.backlog(START + timedelta(minutes=5), platforms=["slack"])
        assert backlog.due == 1  # the one being handed over; the retry is not due yet
        assert backlog.oldest == START + timedelta(minutes=1)  # the retry waits, and counts for the age

        later = await storage.notices.backlog(START + timedelta(hours=2), platforms=["slack"])
        assert later.due == 2
        both = await storage.notices.backlog(START + timedelta(hours=2), platforms=["slack", "discord"])
        assert both.due == 3
        assert (await storage.notices.backlog(START, platforms=[])).due == 0

        await storage.notices.retry([third], at=START, error="gone", give_up=True)  # given up: not a backlog
        assert (await storage.notices.backlog(START + timedelta(hours=2), platforms=["slack"])).due == 1


async def test_the_next_check_is_the_earliest_of_this_infiniposts_tracked_posts(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with await Storage.open(path, api="https://other.example/v1") as other:
        theirs = await other.requests.save(CALLER, command_text="/post", request=REQUEST, state=RequestState.SENDING)
        await other.requests.finish(
            theirs.id, state=RequestState.SENT, posts=[post("p_other", theirs.id, check_at=START - timedelta(days=1))]
        )
    async with await Storage.open(path, api="sandbox") as storage:
        assert await storage.posts.next_check_time() is None
        ours = await storage.requests.save(CALLER, command_text="/post", request=REQUEST, state=RequestState.SENDING)
        await storage.requests.finish(
            ours.id,
            state=RequestState.SENT,
            posts=[
                post("p_later", ours.id, check_at=START + timedelta(hours=2)),
                post("p_soon", ours.id, check_at=START + timedelta(minutes=5)),
                post("p_done", ours.id, check_at=None),
            ],
        )
        assert await storage.posts.next_check_time() == START + timedelta(minutes=5)


async def test_ping_answers_until_the_database_is_closed(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.db")
    await storage.ping()
    await storage.close()
    with pytest.raises(StorageError):
        await storage.ping()
