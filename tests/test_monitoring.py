"""What an operator's monitoring sees of a running bot over real HTTP: `/metrics` after a few commands,
`/readyz` while the database answers and once it does not, and `/healthz`, which never asks it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.runtime import Runtime, start_runtime
from bot.core import HANDLERS
from bot.model import Command
from bot.probes import DATABASE_SECONDS
from bot.tracking import Tracker
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

# Every label value a scrape may hold: fixed sets, never a person, a channel, a caption or a post.
LABEL_VALUES = {
    "command": {*HANDLERS, "unknown"},
    "outcome": {"ok", "refused", "failed", "created", "unconfirmed"},
    "kind": {"auth", "not_found", "rejected", "rate_limited", "server", "timeout", "connection", "unreadable"},
}


@dataclass
class Bot:
    runtime: Runtime
    chat: ChatHarness
    http: httpx.AsyncClient

    async def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of `/metrics`, by name and labels."""
        response = await self.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")  # Prometheus text format
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }


@pytest.fixture
async def bot(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> AsyncIterator[Bot]:
    settings = make_settings(tmp_path, api_key="sk_test_key", api_url=sandbox.url, http_host="127.0.0.1", http_port=0)
    async with start_runtime(settings, clock=clock, workers=False, api_timeout=1.0, api_backoff=0.01) as runtime:
        chat = ChatHarness(runtime.core)
        async with runtime.web, httpx.AsyncClient(base_url=f"http://127.0.0.1:{runtime.web.port}") as http:
            yield Bot(runtime, chat, http)


def command(name: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("infinipost_bot_commands_total", (("command", name), ("outcome", outcome)))


def create(outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("infinipost_bot_creates_total", (("outcome", outcome),))


def api_error(kind: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("infinipost_bot_api_errors_total", (("kind", kind),))


def gauge(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (f"infinipost_bot_{name}", ())


async def test_metrics_count_commands_creates_and_infinipost_errors(bot: Bot, sandbox: SandboxServer) -> None:
    chat = bot.chat
    assert (await chat.say("/help")).error is False
    assert (await chat.say("/pots")).error  # mistyped: counted as unknown, whatever was typed
    sent = await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour -- our launch caption")
    assert "Scheduled" in sent.text
    for fault in (
        Fault(kind="status", route="create", status=500),  # may have created it: unconfirmed
        Fault(kind="status", route="create", status=429),  # rate limited: refused, nothing created
        Fault(kind="reset", route="create"),  # cut off after sending: unconfirmed
    ):
        sandbox.state.faults = [fault]
        reply = await chat.say(f"/post https://e.com/{fault.kind}{fault.status}.mp4 to acc_1 in 2 hours")
        assert reply.error

    samples = await bot.scrape()

    assert samples[command("help", "ok")] == 1
    assert samples[command("unknown", "refused")] == 1
    assert samples[command("post", "ok")] == 1
    assert samples[command("post", "refused")] == 3
    assert command("post", "failed") not in samples
    assert samples[create("created")] == 1
    assert samples[create("unconfirmed")] == 2
    assert samples[create("refused")] == 1
    assert samples[api_error("server")] == 1
    assert samples[api_error("rate_limited")] == 1
    assert samples[api_error("connection")] == 1
    assert samples[api_error("auth")] == 0  # every kind is there from the start
    assert samples[gauge("database_up")] == 1
    labels = {(label, value) for _, sample_labels in samples for label, value in sample_labels}
    assert all(value in LABEL_VALUES[label] for label, value in labels), labels
    text = (await bot.http.get("/metrics")).text
    for private in ("launch caption", "U1", "user-U1", "acc_1", "sk_test_key", "e.com"):
        assert private not in text


async def test_failed_reads_are_counted_by_kind_each_attempt(bot: Bot, sandbox: SandboxServer) -> None:
    sandbox.state.faults = [
        Fault(kind="timeout_after_create", route="read", seconds=2, times=1),  # no answer: tried again, and
        Fault(kind="malformed", route="read", times=1),  # an answer that is not JSON: not tried again
    ]
    await bot.chat.say("/accounts")
    sandbox.state.faults = [Fault(kind="status", route="read", status=401, times=1)]
    await bot.chat.say("/accounts")

    samples = await bot.scrape()

    assert samples[api_error("timeout")] == 1
    assert samples[api_error("unreadable")] == 1
    assert samples[api_error("auth")] == 1
    assert samples[api_error("server")] == 0


async def test_the_outbox_backlog_and_the_tracker_lag_are_read_at_scrape_time(bot: Bot, clock: FakeClock) -> None:
    core = bot.chat.core
    # Handled without the harness's delivery round, as if the outbox worker were stuck.
    await core.handle(Command(name="post", text="https://e.com/v.mp4 to acc_1 in 1 hour", caller=bot.chat.caller()))
    clock.advance(seconds=90)
    samples = await bot.scrape()
    assert samples[gauge("outbox_backlog")] == 1  # the announcement, not delivered
    assert samples[gauge("outbox_oldest_undelivered_seconds")] == 90
    assert samples[gauge("tracker_lag_seconds")] == 0  # nothing due yet: the post goes out in an hour

    await core.deliver_notices()
    clock.advance(hours=1)  # the post's time came 90 seconds ago, and no tracker has asked about it
    samples = await bot.scrape()
    assert samples[gauge("outbox_backlog")] == 0
    assert samples[gauge("outbox_oldest_undelivered_seconds")] == 0
    assert samples[gauge("tracker_lag_seconds")] == 90
    assert samples[gauge("claims_held")] == 0  # no work under way

    # A round that claimed the due post and has not recorded it yet: this replica's work under way.
    assert len(await bot.runtime.ctx.storage.posts.claim_due(clock(), limit=10)) == 1
    assert (await bot.scrape())[gauge("claims_held")] == 1

    await Tracker(bot.runtime.ctx).cycle()
    samples = await bot.scrape()
    assert samples[gauge("tracker_lag_seconds")] == 0
    assert samples[gauge("claims_held")] == 0  # recorded: the claim is let go


async def test_readyz_answers_while_the_database_does_and_healthz_never_asks_it(bot: Bot) -> None:
    ready = await bot.http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready")

    await bot.runtime.ctx.storage.close()

    not_ready = await bot.http.get("/readyz")
    assert (not_ready.status_code, not_ready.text) == (503, "database not answering")
    health = await bot.http.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    samples = await bot.scrape()  # still served, with what was counted; the database's gauges are left out
    assert samples[gauge("database_up")] == 0
    assert gauge("outbox_backlog") not in samples
    assert gauge("tracker_lag_seconds") not in samples
    assert gauge("claims_held") not in samples
    assert samples[create("created")] == 0


async def test_a_database_that_hangs_makes_probes_answer_in_time_not_hang(bot: Bot) -> None:
    """Another process holds the database's write lock: the bot's next write waits for it (SQLite's busy
    timeout), and everything else queued behind that write waits too. The probes give up in time."""
    blocker = sqlite3.connect(bot.runtime.ctx.settings.database)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        writing = asyncio.create_task(bot.chat.say("/timezone Europe/Paris"))
        await asyncio.sleep(0.5)  # the command's write now waits for the lock
        started = time.monotonic()
        ready, scraped = await asyncio.gather(bot.http.get("/readyz"), bot.scrape())
        assert time.monotonic() - started < DATABASE_SECONDS + 1.5
        assert ready.status_code == 503
        assert scraped[gauge("database_up")] == 0
    finally:
        blocker.rollback()
        blocker.close()
    assert not (await writing).error  # the write went through once the lock was let go
    assert (await bot.http.get("/readyz")).status_code == 200
