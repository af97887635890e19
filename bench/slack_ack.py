"""1. Slack HTTP acknowledgement under load, for `infinipost-bot run` and for a bare bolt app, in the same run.

500 signed `/post` commands, 50 at a time, while the sandbox answers each create after 2 seconds; three such
rounds per app, alternating, so that a single noisy round does not decide. The time is from sending the request
to its HTTP response, as Slack measures its 3-second deadline.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import httpx

from bench.common import Row, percentile
from sandbox import Fault, SandboxServer
from tests.fakes.slack import running_fake_slack, sign, slash_command
from tests.processes import BotProcess, clean_env, free_port

COMMANDS = 500
CONCURRENCY = 50
ROUNDS = 3  # each app gets three rounds of 500; the percentiles pool all 1,500
DEADLINE = 3.0


async def load(urls: str | Sequence[str], bodies: list[str]) -> tuple[list[float], int]:
    """Send every body, CONCURRENCY at a time, the n-th to the n-th of `urls` in turn; return each latency and how
    many were not answered 200.

    aiohttp's client, being lighter than httpx's, leaves more of the two cores to the servers measured.
    """
    targets = [urls] if isinstance(urls, str) else list(urls)
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def one(url: str, body: str) -> None:
            nonlocal failures
            async with gate:
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                failures += response.status != 200

        await asyncio.gather(*(one(targets[n % len(targets)], body) for n, body in enumerate(bodies)))
    return latencies, failures


def _spread(latencies: list[float]) -> str:
    return " / ".join(f"{percentile(latencies, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99)) + " ms"


async def _wait_up(port: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the bare app never came up")


async def run() -> list[Row]:
    async with running_fake_slack() as fake, SandboxServer() as sandbox:
        for n in range(CONCURRENCY):
            fake.users[f"U{n}"] = {"id": f"U{n}", "name": f"user{n}", "tz": "UTC", "profile": {}}
        sandbox.state.faults = [Fault(kind="latency", route="create", seconds=2.0, times=None)]

        def bodies(tag: str) -> list[str]:
            text = "https://e.com/{tag}{n}.mp4 to acc_1 now -- {tag} {n}"
            return [
                slash_command(fake, "/post", text.format(tag=tag, n=n), user=f"U{n % CONCURRENCY}")
                for n in range(COMMANDS)
            ]

        bare_port = free_port()
        bare = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bare_slack",
            str(bare_port),
            fake.base_url,
            env=clean_env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        with tempfile.TemporaryDirectory() as work:
            port = free_port()
            bot = BotProcess.on_slack(
                Path(work),
                slack_api_url=fake.base_url,
                api_url=sandbox.url,
                port=port,
                BOT_CONFIRM_POSTS="false",
                BOT_LOG_LEVEL="WARNING",
            )
            await bot.start()
            bare_latencies, latencies, failures = [], [], 0
            try:
                await _wait_up(bare_port)
                # Rounds alternate between the two apps, so that both see the machine in the same state.
                for round_ in range(ROUNDS):
                    bare_latencies += (await load(f"http://127.0.0.1:{bare_port}/slack/events", bodies(f"b{round_}")))[
                        0
                    ]
                    measured, failed = await load(f"http://127.0.0.1:{port}/slack/events", bodies(f"r{round_}"))
                    latencies += measured
                    failures += failed
                    # The bot's work (a 2-second create per command) finishes before the next round.
                    for _ in range(600):
                        if len(fake.responses) >= COMMANDS * (round_ + 1):
                            break
                        await asyncio.sleep(0.1)
            finally:
                await bot.stop()
                bare.terminate()
                await bare.wait()
        answered = len(fake.responses)

    p99, bare_p99 = percentile(latencies, 0.99), percentile(bare_latencies, 0.99)
    within = sum(latency < DEADLINE for latency in latencies) / len(latencies)
    sent = COMMANDS * ROUNDS
    return [
        Row("1. Slack ack p50 / p95 / p99 (bot)", _spread(latencies), "p99 < 3000 ms", p99 < DEADLINE),
        Row("1. Slack ack p50 / p95 / p99 (bare bolt app)", _spread(bare_latencies), "baseline", None),
        Row("1. Slack ack p99 (bot) within the aim", f"{p99 * 1000:.0f} ms", "< 200 ms", p99 < 0.2),
        Row("1. Slack ack p99, bot / bare", f"{p99 / bare_p99:.2f}×", "≤ 1.5×", p99 <= 1.5 * bare_p99),
        Row(
            "1. Slack commands acked within 3 s",
            f"{within:.1%} ({failures} not 200)",
            "100 %",
            within == 1.0 and not failures,
        ),
        Row("1. Slack commands answered after their 2-s create", f"{answered} of {sent}", f"{sent}", answered == sent),
    ]


def _spread(latencies: list[float]) -> str:
    return " / ".join(f"{percentile(latencies, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99)) + " ms"
