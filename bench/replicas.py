"""7. Replicas on one PostgreSQL database: Slack acknowledgement with one `infinipost-bot run` and with two, the
load spread over both, and what each replica costs (memory, CPU, database connections).

As in `slack_ack`: 500 signed `/post` commands, 50 at a time, while the sandbox answers each create after 2
seconds. Three rounds each, alternating: a round against one replica, then the second replica is started, a round
spread over both (odd commands to one, even to the other), and it is stopped again. Memory and connections are
sampled every half second from the start of a round until every command's reply has arrived; CPU is the
replica's user + system time over that span.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import postgres
from bench.common import Row, median, percentile
from bench.slack_ack import COMMANDS, CONCURRENCY, load
from sandbox import Fault, SandboxServer
from tests.fakes.slack import FakeSlack, running_fake_slack, slash_command
from tests.processes import BotProcess, rss_mb

ROUNDS = 3
SAMPLE_EVERY = 0.5


@dataclass
class Usage:
    """What one replica was seen to use, over every round of one kind."""

    idle_mb: list[float] = field(default_factory=list)
    load_mb: list[float] = field(default_factory=list)
    idle_connections: list[int] = field(default_factory=list)
    load_connections: list[int] = field(default_factory=list)
    cpu_per_100: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pid(bot: BotProcess) -> int:
    assert bot.process is not None
    return bot.process.pid


async def _round(
    fake: FakeSlack, database: str, bots: Sequence[BotProcess], usage: Sequence[Usage], tag: str
) -> list[float]:
    """One round of COMMANDS spread over `bots`; returns the acknowledgement latencies."""
    pids = [_pid(bot) for bot in bots]
    await asyncio.sleep(2)  # idle: start-up's work done
    idle_connections = await postgres.connections_by_pid(database, pids)
    for pid, seen in zip(pids, usage, strict=True):
        seen.idle_mb.append(rss_mb(pid))
        seen.idle_connections.append(idle_connections[pid])
    text = "https://e.com/{tag}{n}.mp4 to acc_1 now -- {tag} {n}"
    bodies = [
        slash_command(fake, "/post", text.format(tag=tag, n=n), user=f"U{n % CONCURRENCY}") for n in range(COMMANDS)
    ]
    expected = len(fake.responses) + COMMANDS
    peak_mb = dict.fromkeys(pids, 0.0)
    peak_connections = dict.fromkeys(pids, 0)
    cpu = {pid: cpu_seconds(pid) for pid in pids}

    async def sample() -> None:
        while True:
            held = await postgres.connections_by_pid(database, pids)
            for pid in pids:
                peak_mb[pid] = max(peak_mb[pid], rss_mb(pid))
                peak_connections[pid] = max(peak_connections[pid], held[pid])
            await asyncio.sleep(SAMPLE_EVERY)

    sampler = asyncio.create_task(sample())
    try:
        latencies, failures = await load([f"http://127.0.0.1:{bot.port}/slack/events" for bot in bots], bodies)
        for _ in range(600):  # every command's 2-second create done and its reply sent
            if len(fake.responses) >= expected:
                break
            await asyncio.sleep(0.1)
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
    if failures or len(fake.responses) < expected:
        raise RuntimeError(f"{failures} commands not acked with 200, {expected - len(fake.responses)} not answered")
    for pid, seen in zip(pids, usage, strict=True):
        seen.load_mb.append(peak_mb[pid])
        seen.load_connections.append(peak_connections[pid])
        seen.cpu_per_100.append((cpu_seconds(pid) - cpu[pid]) / (COMMANDS / len(pids)) * 100)
    return latencies


def _spread(latencies: list[float]) -> str:
    return " / ".join(f"{percentile(latencies, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99)) + " ms"


def _range(values: Sequence[float], unit: str, digits: int = 0) -> str:
    """The median, and the spread over the rounds."""
    unit = f" {unit}" if unit else ""
    return f"{median(list(values)):.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def _usage_rows(label: str, seen: Usage) -> list[Row]:
    return [
        Row(
            f"8. {label}: memory idle / under load",
            f"{_range(seen.idle_mb, 'MB')} / {_range(seen.load_mb, 'MB')}",
            "informational",
            None,
        ),
        Row(f"8. {label}: CPU per 100 commands", _range(seen.cpu_per_100, "s", 2), "informational", None),
        Row(
            f"8. {label}: PostgreSQL connections idle / peak under load",
            f"{_range(seen.idle_connections, '')} / {_range(seen.load_connections, '')}",
            "informational",
            None,
        ),
    ]


async def run() -> list[Row]:
    if not await postgres.reachable():
        return [postgres.skipped("7. Slack ack with two replicas")]
    one, two = [], []
    alone, first, second = Usage(), Usage(), Usage()
    async with running_fake_slack() as fake, SandboxServer() as sandbox, postgres.scratch_database() as database:
        for n in range(CONCURRENCY):
            fake.users[f"U{n}"] = {"id": f"U{n}", "name": f"user{n}", "tz": "UTC", "profile": {}}
        sandbox.state.faults = [Fault(kind="latency", route="create", seconds=2.0, times=None)]
        with tempfile.TemporaryDirectory() as work:
            bots = []
            for n in (1, 2):
                folder = Path(work) / f"replica-{n}"
                folder.mkdir()
                bots.append(
                    BotProcess.on_slack(
                        folder,
                        slack_api_url=fake.base_url,
                        api_url=sandbox.url,
                        BOT_DATABASE=database,
                        BOT_REPLICA_ID=f"replica-{n}",
                        BOT_CONFIRM_POSTS="false",
                        BOT_LOG_LEVEL="WARNING",
                    )
                )
            await bots[0].start()
            try:
                for round_ in range(ROUNDS):
                    one += await _round(fake, database, bots[:1], [alone], f"one{round_}-")
                    await bots[1].start()
                    try:
                        two += await _round(fake, database, bots, [first, second], f"two{round_}-")
                    finally:
                        await bots[1].stop()
            finally:
                await bots[0].stop()
    p99_one, p99_two = percentile(one, 0.99), percentile(two, 0.99)
    return [
        Row("7. Slack ack p50 / p95 / p99, one replica on PostgreSQL", _spread(one), "p99 < 200 ms", p99_one < 0.2),
        Row(
            "7. Slack ack p50 / p95 / p99, two replicas on PostgreSQL, load spread",
            _spread(two),
            "p99 < 200 ms (the single-replica bound)",
            p99_two < 0.2,
        ),
        Row("7. Slack ack p99, two replicas / one", f"{p99_two / p99_one:.2f}×", "informational", None),
        *_usage_rows("One replica alone", alone),
        *_usage_rows("Each of two replicas (first)", first),
        *_usage_rows("Each of two replicas (second)", second),
    ]
