"""6. The HTTP server under attack: Slack acknowledgements while 1,500 slow clients hold connections against a
process allowed 1,024 open files (the usual `ulimit -n`), and memory after 2,000 unauthenticated 10 MB POSTs.

The acknowledgement time is measured as in benchmark 1, one signed command at a time, with the slow clients
connected before the first and left open until the last.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import Row, ms, percentile
from sandbox import SandboxServer
from tests.fakes.slack import FakeSlack, running_fake_slack, sign, slash_command
from tests.processes import BotProcess, open_slow_connections, post_oversized_bodies, rss_mb

SLOW_CLIENTS = 1500
OPEN_FILES = 1024
COMMANDS = 50
DEADLINE = 3.0
FLOOD = 2000  # 10 MB bodies


async def run() -> list[Row]:
    async with running_fake_slack() as fake, SandboxServer() as sandbox:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "profile": {}}
        with tempfile.TemporaryDirectory() as work:
            bot = BotProcess.on_slack(
                Path(work),
                slack_api_url=fake.base_url,
                api_url=sandbox.url,
                open_files=OPEN_FILES,
                BOT_LOG_LEVEL="WARNING",
            )
            await bot.start()
            assert bot.process is not None
            try:
                latencies, failures = await _acks_among_slow_clients(bot, fake)
                before = rss_mb(bot.process.pid)
                started = time.perf_counter()
                await post_oversized_bodies(bot.port, count=FLOOD)
                flood_seconds = time.perf_counter() - started
                grown = rss_mb(bot.process.pid) - before
            finally:
                await bot.stop()
    worst = max(latencies)
    return [
        Row(
            f"6. Slack ack p50 / max with {SLOW_CLIENTS:,} slow clients connected ({OPEN_FILES:,} open files)",
            f"{ms(percentile(latencies, 0.5))} / {ms(worst)}",
            "max < 3000 ms",
            worst < DEADLINE,
        ),
        Row(
            "6. Those commands acked with 200",
            f"{COMMANDS - failures} of {COMMANDS}",
            f"{COMMANDS}",
            failures == 0,
        ),
        Row(
            f"6. Memory growth after {FLOOD:,} unauthenticated 10 MB POSTs",
            f"{grown:+.1f} MB (in {flood_seconds:.1f} s)",
            "< 50 MB",
            grown < 50,
        ),
    ]


async def _acks_among_slow_clients(bot: BotProcess, fake: FakeSlack) -> tuple[list[float], int]:
    slow = await open_slow_connections(bot.port, SLOW_CLIENTS)
    latencies: list[float] = []
    failures = 0
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        # A new connection per command, as Slack opens them: each must get past the crowd.
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)) as http:
            for n in range(COMMANDS):
                body = slash_command(fake, "/help", "", channel=f"C{n}")  # each its own request, not a replay
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                started = time.perf_counter()
                try:
                    async with http.post(f"http://127.0.0.1:{bot.port}/slack/events", data=body, headers=headers) as r:
                        await r.read()
                        failures += r.status != 200
                except aiohttp.ClientError:
                    failures += 1
                latencies.append(time.perf_counter() - started)
    finally:
        for writer in slow:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    return latencies, failures
