"""PostgreSQL for tests, only when asked for. `BOT_TEST_POSTGRES_URL` names a server and a database to connect to
while creating others; it is read once, when the test session imports this module, before each test's
environment is cleaned. Each test that needs PostgreSQL gets an empty database of its own, dropped afterwards.

Without the variable those tests are skipped, and the run says so in one line. With it, a server that does not
answer fails them: asking for PostgreSQL and silently not testing it would be worse than not asking.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from storage.sql import Storage

URL_VARIABLE = "BOT_TEST_POSTGRES_URL"
EXAMPLE_URL = "postgresql://postgres@127.0.0.1:5432/test"
SERVER_URL = os.environ.get(URL_VARIABLE) or None
CONNECT_TIMEOUT = 5.0  # seconds: a server that does not answer fails the test, it does not hang the run

MARKER = "postgres"
_SKIP_REASON = f"set {URL_VARIABLE} to run PostgreSQL tests"


async def open_storage(target: Path | str, **options: Any) -> Storage:
    """Open the bot's store on a SQLite file or a PostgreSQL URL: the one place tests name the storage class."""
    store = await Storage.open(target, **options)
    if "://" in str(target):
        try:
            await _assert_migrated(str(target))
        except BaseException:
            await store.close()
            raise
    return store


async def _assert_migrated(url: str) -> None:
    """A storage that took the URL for a file name would pass every test on SQLite: check the tables are there."""
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    finally:
        await connection.close()
    assert tables, f"the store opened on {_shown(url)} created no table there: is PostgreSQL supported yet?"


def _server_addresses(url: str | None) -> frozenset[str]:
    """The addresses of the configured server, which tests may reach even when it is not on loopback."""
    if url is None:
        return frozenset()
    parts = urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname or "localhost", parts.port or 5432, type=socket.SOCK_STREAM)
    except OSError:
        return frozenset()
    return frozenset(str(info[4][0]) for info in found)


SERVER_ADDRESSES = _server_addresses(SERVER_URL)


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{parts.hostname}:{parts.port or 5432}{parts.path}"


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


async def _connect(url: str) -> asyncpg.Connection:
    """A connection to the configured server, or one line saying why there is none."""
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise ConnectionError(f"PostgreSQL at {_shown(url)} ({URL_VARIABLE}) cannot be used: {exc!r}") from exc


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty database on the configured server, yield its URL, and drop it (and its connections)."""
    if SERVER_URL is None:
        pytest.skip(_SKIP_REASON)
    problem = None
    try:
        admin = await _connect(SERVER_URL)
    except ConnectionError as exc:
        problem = str(exc)
    if problem:  # failed out of the `except`, so that the report is this one line and not a chain of tracebacks
        pytest.fail(problem, pytrace=False)
    name = f"bot_test_{uuid.uuid4().hex[:16]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(SERVER_URL, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def skip_unless_configured(items: Sequence[pytest.Item]) -> None:
    """Mark the tests that use a PostgreSQL database, and skip them when none is configured."""
    for item in items:
        if "postgres_url" in item.fixturenames:
            item.add_marker(MARKER)
        if SERVER_URL is None and item.get_closest_marker(MARKER):
            item.add_marker(pytest.mark.skip(reason=_SKIP_REASON))


def report_skipped(reporter: Any) -> None:
    """One line at the end of the run: how many tests were skipped for want of PostgreSQL, and how to run them."""
    count = sum(_SKIP_REASON in str(report.longrepr) for report in reporter.stats.get("skipped", []))
    if count:
        reporter.write_line(f"PostgreSQL tests skipped ({count}): set {URL_VARIABLE}={EXAMPLE_URL} to run them")


async def _check() -> int:
    if SERVER_URL is None:
        print(f"{URL_VARIABLE} is not set", file=sys.stderr)
        return 1
    try:
        await (await _connect(SERVER_URL)).close()
    except ConnectionError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # `python -m tests.postgres`: whether the configured server answers, before a long run
    sys.exit(asyncio.run(_check()))
