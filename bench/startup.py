"""5. Start-up: `infinipost-bot run` from process start to its HTTP port answering, and its memory when idle."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import Row
from tests.fakes.slack import running_fake_slack
from tests.processes import BotProcess, rss_mb


async def run() -> list[Row]:
    starts, idle = [], []
    async with running_fake_slack() as fake:
        for _ in range(3):
            with tempfile.TemporaryDirectory() as work:
                bot = BotProcess.on_slack(Path(work), slack_api_url=fake.base_url, BOT_LOG_LEVEL="WARNING")
                started = time.perf_counter()
                await bot.start()
                starts.append(time.perf_counter() - started)
                await asyncio.sleep(2)
                assert bot.process is not None
                idle.append(rss_mb(bot.process.pid))
                await bot.stop()
    best = min(starts)
    return [
        Row("5. Start-up to ready (HTTP answering), best of 3", f"{best * 1000:.0f} ms", "informational", None),
        Row("5. Resident memory, idle", f"{max(idle):.0f} MB", "informational", None),
    ]
