"""2. `/post` throughput through the core, with storage on disk and the sandbox in its own process over loopback,
beside the sandbox's own create rate (the ceiling) measured the same way in the same run."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from app.runtime import start_runtime
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


async def run() -> list[Row]:
    async with sandbox_process() as url:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
            headers = {"Authorization": "Bearer sk_test_bench"}

            async def create(n: int) -> None:
                (await http.post(f"{url}/posts", json=BODY, headers=headers)).raise_for_status()

            ceiling = await _in_parallel(COMMANDS, create)

        with tempfile.TemporaryDirectory() as work:
            settings = Settings(
                _env_file=None,
                api_key="sk_test_bench",
                api_url=url,
                database=Path(work) / "bot.db",
                confirm_posts=False,
                media_dir=Path(work) / "media",
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
                rate = await _in_parallel(COMMANDS, post)
    return [
        Row(
            "2. /post throughput through the core",
            f"{rate:.0f} /s",
            f"≥ 200 /s and ≥ {ceiling / 2:.0f} /s (half the ceiling)",
            rate >= 200 and rate >= ceiling / 2,
        ),
        Row("2. Sandbox create rate alone (ceiling)", f"{ceiling:.0f} /s", "baseline", None),
    ]
