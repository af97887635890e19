"""3. One tracker round over 10,000 tracked posts of which 100 are due, in a process of its own so that its
memory is its own. Prints a JSON line; `python -m bench.tracking_cycle SANDBOX_URL`."""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.runtime import start_runtime
from bot.config import Settings
from bot.model import Account, Caller, PostRequest, PostStatus
from bot.records import RequestState, StoredPost
from bot.tracking import Tracker

TRACKED = 10_000
DUE = 100
PER_REQUEST = 10


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts the requests the bot makes to Infinipost."""

    requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        CountingTransport.requests += 1
        return await super().handle_async_request(request)


async def main(url: str) -> None:
    headers = {"Authorization": "Bearer sk_test_bench"}
    async with httpx.AsyncClient() as http:
        due_ids = []
        for _ in range(DUE):  # due posts exist at Infinipost; the rest are far ahead and never asked about
            body = {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4"}
            due_ids.append((await http.post(f"{url}/posts", json=body, headers=headers)).json()["posts"][0]["id"])
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(
            _env_file=None,
            api_key="sk_test_bench",
            api_url=url,
            database=Path(work) / "bot.db",
            media_dir=Path(work) / "media",
        )
        async with start_runtime(settings, workers=False, transport=CountingTransport()) as runtime:
            storage = runtime.ctx.storage
            caller = Caller(platform="bench", workspace_id="T", channel_id="C", user_id="U", display_name="bench")
            account = Account(id="acc_1", platform="tiktok", name="Demo")
            request = PostRequest(accounts=(account,), content_type="video", media_urls=("https://e.com/v.mp4",))
            for first in range(0, TRACKED, PER_REQUEST):
                request_id = (
                    await storage.requests.save(caller, command_text="bench", request=request, state="sending")
                ).id
                posts = []
                for n in range(first, first + PER_REQUEST):
                    due = n < DUE
                    when = now - timedelta(minutes=1) if due else now + timedelta(days=1 + n % 300)
                    posts.append(
                        StoredPost(
                            id=due_ids[n] if due else f"post_far_{n}",
                            request_id=request_id,
                            account_id="acc_1",
                            account_label="Demo",
                            status=PostStatus.SCHEDULED,
                            scheduled_time=when,
                            posted_at=None,
                            next_check_at=when,
                        )
                    )
                await storage.requests.finish(request_id, state=RequestState.SENT, posts=posts)
            with closing(sqlite3.connect(settings.database)) as db:
                [(tracked,)] = db.execute("SELECT COUNT(*) FROM posts WHERE next_check_at IS NOT NULL").fetchall()
            assert tracked == TRACKED
            CountingTransport.requests = 0
            cpu, wall = time.process_time(), time.perf_counter()
            cycle = await Tracker(runtime.ctx).cycle()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "requests": CountingTransport.requests,
                "checked": cycle.checked,
                "changed": cycle.changed,
                "cpu": cpu,
                "wall": wall,
                "peak_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
