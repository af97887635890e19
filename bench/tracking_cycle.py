"""3. One tracker round over 1,000,000 tracked posts of which 100 are due, in a process of its own so that its
memory is its own. Prints a JSON line; `python -m bench.tracking_cycle SANDBOX_URL [DATABASE] [TRACKED]`, where
DATABASE is an SQLite file (default: one in a temporary folder) or a postgresql:// URL.

The first requests (the due posts, which exist at the sandbox, and one far request) go through the storage as
the bot writes them; the rest are copies of that far request and its posts, bulk-loaded beside the indexes the
migrations made (COPY on PostgreSQL, one executemany on SQLite), then PostgreSQL's statistics are brought up to
date (ANALYZE), as autovacuum would have long before a million posts.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.runtime import start_runtime
from bot.config import Settings
from bot.model import Account, Caller, PostRequest, PostStatus
from bot.records import RequestState, StoredPost, from_utc_text, utc_text
from bot.tracking import Tracker
from storage.sql.engine import is_server_url

TRACKED = 1_000_000
DUE = 100
PER_REQUEST = 10
FAR_DAYS = 300  # far posts are spread over this many days ahead
CHUNK = 50_000  # rows per COPY / executemany, so that loading does not hold a million tuples at once


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts the requests the bot makes to Infinipost."""

    requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        CountingTransport.requests += 1
        return await super().handle_async_request(request)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _copies(
    columns: Sequence[str], template: dict[str, Any], first: int, count: int, vary: Any
) -> Iterator[list[tuple[Any, ...]]]:
    """`count` copies of a template row, `vary(n)` changing some columns of the n-th, in chunks."""
    chunk: list[tuple[Any, ...]] = []
    for n in range(first, first + count):
        row = {**template, **vary(n)}
        chunk.append(tuple(row[c] for c in columns))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def bulk_load(database: str, *, first_request: int, template_request: int, tracked: int, now: datetime) -> None:
    """Copies of the template request and its posts until `tracked` posts are tracked."""
    far = [utc_text(now + timedelta(days=1 + d)) for d in range(FAR_DAYS)]
    requests_needed = tracked // PER_REQUEST - first_request

    def request(n: int) -> dict[str, Any]:
        return {"id": n + 1}

    def post(n: int) -> dict[str, Any]:
        when = far[n % FAR_DAYS]
        return {
            "id": f"post_far_{n}",
            "request_id": n // PER_REQUEST + 1,
            "position": n % PER_REQUEST,
            "scheduled_time": when,
            "next_check_at": when,
        }

    if is_server_url(database):
        db = await asyncpg.connect(database)
        try:
            for table, key, copy_n, vary in (
                ("requests", "id", first_request, request),
                ("posts", "request_id", first_request * PER_REQUEST, post),
            ):
                found = await db.fetch(f"SELECT * FROM {table} WHERE {key} = $1 LIMIT 1", template_request)  # noqa: S608 (our names)
                template = dict(found[0])
                columns = list(template)
                count = requests_needed if table == "requests" else requests_needed * PER_REQUEST
                for chunk in _copies(columns, template, copy_n, count, vary):
                    await db.copy_records_to_table(table, records=chunk, columns=columns)
            await db.execute("SELECT setval(pg_get_serial_sequence('requests', 'id'), (SELECT max(id) FROM requests))")
            await db.execute("ANALYZE")
        finally:
            await db.close()
        return
    with closing(sqlite3.connect(database)) as lite:
        lite.row_factory = sqlite3.Row
        for table, key, copy_n, vary in (
            ("requests", "id", first_request, request),
            ("posts", "request_id", first_request * PER_REQUEST, post),
        ):
            template = dict(
                lite.execute(f"SELECT * FROM {table} WHERE {key} = ? LIMIT 1", (template_request,)).fetchone()  # noqa: S608
            )
            columns = list(template)
            count = requests_needed if table == "requests" else requests_needed * PER_REQUEST
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
            for chunk in _copies(columns, template, copy_n, count, vary):
                lite.executemany(insert, chunk)
        lite.commit()


async def tracked_count(database: str) -> int:
    sql = "SELECT COUNT(*) FROM posts WHERE next_check_at IS NOT NULL"
    if is_server_url(database):
        db = await asyncpg.connect(database)
        try:
            return int(await db.fetchval(sql))
        finally:
            await db.close()
    with closing(sqlite3.connect(database)) as lite:
        return int(lite.execute(sql).fetchone()[0])


async def main(url: str, database: str | None, tracked: int) -> None:
    headers = {"Authorization": "Bearer sk_test_bench"}
    async with httpx.AsyncClient() as http:
        due_ids = []
        for _ in range(DUE):  # due posts exist at Infinipost; the rest are far ahead and never asked about
            body = {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4"}
            due_ids.append((await http.post(f"{url}/posts", json=body, headers=headers)).json()["posts"][0]["id"])
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as work:
        database = database or str(Path(work) / "bot.db")
        settings = Settings(
            _env_file=None,
            api_key="sk_test_bench",
            api_url=url,
            database=database,
            media_dir=Path(work) / "media",
        )
        async with start_runtime(settings, workers=False, transport=CountingTransport()) as runtime:
            storage = runtime.ctx.storage
            caller = Caller(platform="bench", workspace_id="T", channel_id="C", user_id="U", display_name="bench")
            account = Account(id="acc_1", platform="tiktok", name="Demo")
            request = PostRequest(accounts=(account,), content_type="video", media_urls=("https://e.com/v.mp4",))
            # Written as the bot writes them: the due posts' requests, and one far request to copy.
            written = DUE // PER_REQUEST + 1
            for first in range(0, written * PER_REQUEST, PER_REQUEST):
                request_id = (
                    await storage.requests.save(caller, command_text="bench", request=request, state="sending")
                ).id
                assert request_id == first // PER_REQUEST + 1
                posts = []
                for n in range(first, first + PER_REQUEST):
                    due = n < DUE
                    when = now - timedelta(minutes=1) if due else now + timedelta(days=1 + n % FAR_DAYS)
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
            loading = time.perf_counter()
            # In a process of its own, so that this one's memory is the bot's alone.
            loader = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.tracking_cycle",
                "--load",
                database,
                str(written),
                str(tracked),
                utc_text(now) or "",
            )
            if await loader.wait():
                raise RuntimeError("the bulk load failed")
            loaded = time.perf_counter() - loading
            assert await tracked_count(database) == tracked
            CountingTransport.requests = 0
            cpu, wall = time.process_time(), time.perf_counter()
            cycle = await Tracker(runtime.ctx).cycle()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            peak = peak_rss_mb()
            started = time.perf_counter()
            await storage.posts.next_check_time()
            next_check = time.perf_counter() - started
    print(
        json.dumps(
            {
                "requests": CountingTransport.requests,
                "checked": cycle.checked,
                "changed": cycle.changed,
                "cpu": cpu,
                "wall": wall,
                "peak_mb": peak,
                "load_s": loaded,
                "next_check_s": next_check,
            }
        )
    )


if __name__ == "__main__" and sys.argv[1] == "--load":
    _, _, target, first, count, at = sys.argv
    asyncio.run(
        bulk_load(
            target,
            first_request=int(first),
            template_request=int(first),
            tracked=int(count),
            now=from_utc_text(at) or datetime.now(UTC),
        )
    )
elif __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None,
            int(sys.argv[3]) if len(sys.argv) > 3 else TRACKED,
        )
    )
