"""2. `/post` throughput through the core, with storage in an SQLite file and in PostgreSQL (when the server at
BENCH_POSTGRES_URL answers), and the sandbox in its own process over loopback,
beside the sandbox's own create rate (the ceiling) measured the same way in the same run."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from app.runtime import start_runtime
from bench import postgres
from bench.common import Row, sandbox_process
from bot.config import Settings
from bot.model import Caller, Command

COMMANDS = 2000
CONCURRENCY = 32
BODY = {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4", "caption": "ceiling"}


async def _in_parallel(count: int, work: object) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            await work(n)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


async def _post_rate(url: str, database: Path | str, work: Path) -> float:
    """Commands per second through the core, its storage in `database`."""
    settings = Settings(
        _env_file=None,
        api_key="sk_test_bench",
        api_url=url,
        database=database,
        confirm_posts=False,
        media_dir=work / "media",
    )
    async with start_runtime(settings, workers=False) as runtime:
        caller = Caller(platform="bench", workspace_id="T", channel_id="C", user_id="U", display_name="bench")
        runtime.ctx.places.allow("bench", workspaces=["T"])

        async def post(n: int) -> None:
            reply = await runtime.core.handle(
                Command(name="post", caller=caller, text=f"https://e.com/{n}.mp4 to acc_1 at 9am -- n{n}")
            )
            if reply.error:
                raise RuntimeError(reply.text)

        await post(-1)  # accounts cached, like a bot that has been running
        return await _in_parallel(COMMANDS, post)


async def run() -> list[Row]:
    on_postgres = await postgres.reachable()
    async with sandbox_process() as url:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
            headers = {"Authorization": "Bearer sk_test_bench"}

            async def create(n: int) -> None:
                (await http.post(f"{url}/posts", json=BODY, headers=headers)).raise_for_status()

            ceiling = await _in_parallel(COMMANDS, create)

        with tempfile.TemporaryDirectory() as work:
            rate = await _post_rate(url, Path(work) / "bot.db", Path(work))
        pg_rate = None
        if on_postgres:
            with tempfile.TemporaryDirectory() as work:
                async with postgres.scratch_database() as database:
                    pg_rate = await _post_rate(url, database, Path(work))
    target = f"≥ 200 /s and ≥ {ceiling / 2:.0f} /s (half the ceiling)"
    rows = [
        Row(
            "2. /post throughput through the core (SQLite)",
            f"{rate:.0f} /s",
            target,
            rate >= 200 and rate >= ceiling / 2,
        )
    ]
    if pg_rate is None:
        rows.append(postgres.skipped("2. /post throughput through the core"))
    else:
        rows.append(
            Row(
                "2. /post throughput through the core (PostgreSQL)",
                f"{pg_rate:.0f} /s",
                target,
                pg_rate >= 200 and pg_rate >= ceiling / 2,
            )
        )
    return [*rows, Row("2. Sandbox create rate alone (ceiling)", f"{ceiling:.0f} /s", "baseline", None)]
