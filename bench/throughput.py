"""2. `/post` throughput through the core, with storage on disk and the sandbox in its own process over loopback,
beside the sandbox's own create rate (the ceiling) measured the same way in the same run."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Row
from bot.config import Settings
from bot.model import Caller, Command
from bot.runtime import start_runtime
from tests.processes import clean_env, free_port

COMMANDS = 2000
CONCURRENCY = 32
BODY = {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4", "caption": "ceiling"}


async def _sandbox_process() -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        str(port),
        env=clean_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.get(f"{url}/accounts", headers={"Authorization": "Bearer sk_test_bench"})
                return process, url
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the sandbox never came up")


async def _in_parallel(count: int, work: object) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            await work(n)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


async def run() -> list[Row]:
    sandbox, url = await _sandbox_process()
    try:
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

                async def post(n: int) -> None:
                    reply = await runtime.core.handle(
                        Command(name="post", caller=caller, text=f"https://e.com/{n}.mp4 to acc_1 at 9am -- n{n}")
                    )
                    if reply.error:
                        raise RuntimeError(reply.text)

                await post(-1)  # accounts cached, like a bot that has been running
                rate = await _in_parallel(COMMANDS, post)
    finally:
        sandbox.terminate()
        await sandbox.wait()
    return [
        Row(
            "2. /post throughput through the core",
            f"{rate:.0f} /s",
            f"≥ 200 /s and ≥ {ceiling / 2:.0f} /s (half the ceiling)",
            rate >= 200 and rate >= ceiling / 2,
        ),
        Row("2. Sandbox create rate alone (ceiling)", f"{ceiling:.0f} /s", "baseline", None),
    ]
