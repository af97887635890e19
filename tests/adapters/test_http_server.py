"""The bot's own HTTP server under attack, as a real `infinipost-bot run` process in Slack's HTTP mode: slow
clients, floods of connections and oversized bodies must neither starve Slack's requests nor eat the memory."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.web import ACCEPT_EXHAUSTED, BODY_SECONDS, HEADER_SECONDS, WebServer
from sandbox import SandboxServer
from tests.fakes.slack import FakeSlack, running_fake_slack, sign, slash_command
from tests.processes import (
    SLOW_BODY,
    SLOW_HEADERS,
    BotProcess,
    open_slow_connections,
    post_oversized_bodies,
    rss_mb,
)

COMMON_FILE_LIMIT = 1024  # the usual default of `ulimit -n`
SLACK_DEADLINE = 3.0  # seconds Slack waits for an acknowledgement
TEN_MB = 10 * 1024 * 1024
SLOW_CLIENTS = 1500  # more than the bot may have files open


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "profile": {"display_name": "Alice"}}
        yield fake


@pytest.fixture
async def bot(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[BotProcess]:
    async with SandboxServer() as sandbox:
        process = BotProcess.on_slack(
            tmp_path, slack_api_url=fake_slack.base_url, api_url=sandbox.url, open_files=COMMON_FILE_LIMIT
        )
        await process.start()
        try:
            yield process
        finally:
            await process.stop()
        assert b"Traceback" not in process.stderr


@pytest.fixture
async def clients() -> AsyncIterator[list[asyncio.StreamWriter]]:
    """The test's own connections, closed after it."""
    writers: list[asyncio.StreamWriter] = []
    yield writers
    for writer in writers:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def connect(
    bot: BotProcess, clients: list[asyncio.StreamWriter], opening: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    clients.append(writer)
    writer.write(opening)
    await writer.drain()
    return reader, writer


async def acknowledge(bot: BotProcess, fake_slack: FakeSlack) -> httpx.Response:
    """A signed slash command, given Slack's three seconds (an httpx timeout fails the test)."""
    body = slash_command(fake_slack, "/help", "")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    async with httpx.AsyncClient(timeout=SLACK_DEADLINE) as http:
        return await http.post(f"http://127.0.0.1:{bot.port}/slack/events", content=body, headers=headers)


async def test_a_signed_command_is_acknowledged_while_more_slow_clients_than_files_hold_connections(
    bot: BotProcess, fake_slack: FakeSlack, clients: list[asyncio.StreamWriter]
) -> None:
    """1,500 connections that never finish their headers or their body, against a process that may have 1,024
    files open: without a cap, accept() fails for want of files and Slack's request is never taken in."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SLOW_CLIENTS + 200:  # this test's own side of the connections
        if hard != resource.RLIM_INFINITY and hard < SLOW_CLIENTS + 200:
            pytest.skip(f"this test needs {SLOW_CLIENTS + 200} open files; the hard limit here is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (SLOW_CLIENTS + 200, hard))
    clients += await open_slow_connections(bot.port, SLOW_CLIENTS)
    response = await acknowledge(bot, fake_slack)
    assert response.status_code == 200
    reply = await fake_slack.wait_for(lambda: fake_slack.responses)
    assert "/post" in reply[0]["text"]
    await bot.stop()
    log = bot.stderr.decode()
    assert log.count("holds its cap of") == 1  # logged once a minute at most, not per connection
    assert "out of open files" not in log  # the cap keeps accept() from running out of files


async def test_headers_or_a_body_that_do_not_arrive_in_time_end_the_connection(
    bot: BotProcess, clients: list[asyncio.StreamWriter]
) -> None:
    (no_headers, _), (no_body, _) = [await connect(bot, clients, opening) for opening in (SLOW_HEADERS, SLOW_BODY)]
    limit = max(HEADER_SECONDS, BODY_SECONDS) + 5.0
    assert await asyncio.wait_for(no_headers.read(), limit) == b""  # closed without an answer
    answer = await asyncio.wait_for(no_body.read(), limit)
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_an_oversized_body_is_refused_from_its_content_length_before_it_is_read(
    bot: BotProcess, clients: list[asyncio.StreamWriter]
) -> None:
    head = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: %d\r\n\r\n" % TEN_MB
    reader, _ = await connect(bot, clients, head)  # not a byte of the body sent
    answer = await asyncio.wait_for(reader.read(), 5.0)  # answered, and closed, without waiting for it
    assert answer.startswith(b"HTTP/1.1 413 ")
    chunked = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\n"
    reader, writer = await connect(bot, clients, chunked)
    writer.write(b"%x\r\n%s\r\n" % (2 * 1024 * 1024, b"a" * 2 * 1024 * 1024))  # no length to judge it by
    try:
        answer = await asyncio.wait_for(reader.read(), 5.0)
    except ConnectionResetError:
        answer = b"HTTP/1.1 413 "  # closed on the unread rest of the body, before its answer could be read
    assert answer.startswith(b"HTTP/1.1 413 ")


async def test_memory_stays_flat_under_two_thousand_ten_megabyte_posts(bot: BotProcess) -> None:
    assert bot.process is not None
    before = rss_mb(bot.process.pid)
    await post_oversized_bodies(bot.port, count=2000, megabytes=10)
    assert rss_mb(bot.process.pid) - before < 50


async def test_running_out_of_files_is_logged_once_a_minute_without_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncio reports every accept() that fails for want of files, with a traceback: hundreds of megabytes of log
    under a flood. While the server runs, those reports are one line a minute."""
    loop = asyncio.get_running_loop()
    async with WebServer(host="127.0.0.1", port=0):
        for _ in range(500):
            loop.call_exception_handler({"message": ACCEPT_EXHAUSTED, "exception": OSError(24, "Too many open files")})
    said = [r for r in caplog.records if "out of open files" in r.getMessage()]
    assert len(said) == 1
    assert all(r.exc_info is None for r in caplog.records)
