"""Fixtures the adapter tests share. Each Slack test module brings its own `fake_slack` (its own people)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import SandboxServer
from tests.adapters.slack_harness import SlackBot, slack_settings, start_bot
from tests.conftest import FakeClock
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def slack(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[SlackBot]:
    """The bot on Slack in HTTP mode, with its workers, against the module's fake Slack and the sandbox."""
    async with start_bot(slack_settings(tmp_path, fake_slack, sandbox), fake_slack, sandbox, clock) as bot:
        yield bot
