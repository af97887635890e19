"""Shared fixtures. Tests never see the developer's environment or `.env`, and never reach past loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.runtime import Runtime, start_runtime
from app.settings import Settings
from sandbox import SandboxServer
from tests import postgres
from tests.fakes.chat import ChatHarness

_PREFIXES = ("BOT_", "DISCORD_", "SLACK_", "INFINIPOST_", "AWS_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell, and no `.env` is found in the working directory."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _loopback(address: Any) -> bool:
    if isinstance(address, tuple):
        host = address[0]
        if host in postgres.SERVER_ADDRESSES:  # named by BOT_TEST_POSTGRES_URL: asked for, wherever it is
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"
    return True  # unix sockets


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test loudly."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    postgres.skip_unless_configured(items)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    postgres.report_skipped(terminalreporter)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """The URL of an empty PostgreSQL database of this test's own, dropped after it (BOT_TEST_POSTGRES_URL)."""
    async with postgres.fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where the test's stores keep their data, once per backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "bot.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


class FakeClock:
    """A clock tests move by hand. Starts at 2026-11-28 10:00 in New York."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 28, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(clock=clock) as server:
        yield server


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": tmp_path / "bot.db",
        "default_timezone": "America/New_York",
        "confirm_posts": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path, sandbox: SandboxServer) -> Settings:
    return make_settings(tmp_path, api_key="sk_test_key", api_url=sandbox.url)


@pytest.fixture
async def runtime(settings: Settings, clock: FakeClock) -> AsyncIterator[Runtime]:
    async with start_runtime(settings, clock=clock, workers=False) as running:
        yield running


@pytest.fixture
async def served(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> AsyncIterator[Runtime]:
    """A runtime whose HTTP server listens on this machine, as the console's does: the calendar has an address."""
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, http_host="127.0.0.1", http_port=0)
    async with start_runtime(settings, clock=clock, workers=False) as runtime, runtime.web:
        yield runtime


@pytest.fixture
def chat(runtime: Runtime) -> ChatHarness:
    return ChatHarness(runtime.core)
