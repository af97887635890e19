"""Slack: the operator's key serves only the workspace of the bot token (or its Enterprise Grid org, for an
org-wide install). A correctly signed request from anywhere else gets one sentence and nothing more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from adapters.slack.blocks import CONFIRM_ACTION
from bot.errors import NotSetUp
from sandbox import SandboxServer
from tests.adapters.slack_harness import SlackBot, slack_settings, start_bot
from tests.conftest import FakeClock
from tests.database import audit_entries
from tests.fakes.slack import FakeSlack, block_action, message_shortcut, running_fake_slack, slash_command
from tests.media.files import MP4


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "is_admin": True, "profile": {}}
        yield fake


def from_team(body: str, team: str, enterprise: str | None = None) -> str:
    """A slash command as another workspace (in an org, when `enterprise` is given) sends it."""
    fields = dict(parse_qsl(body))
    fields["team_id"] = team
    if enterprise:
        fields.update(enterprise_id=enterprise, enterprise_name="Other Org")
    return urlencode(fields)


def touched_nothing(bot: SlackBot) -> None:
    assert bot.creates() == []
    assert [r for r in bot.sandbox.state.received if r.path.startswith("/v1/")] == []  # not even the accounts
    asked = {c.method for c in bot.fake.calls} - {"auth.test"}
    assert asked == set(), asked  # no user looked up, no form opened, nothing posted


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/post", "https://e.com/v.mp4 to acc_1 now"),
        ("/post", ""),  # would open the form with every account
        ("/accounts", ""),
        ("/help", ""),
    ],
)
async def test_a_command_from_another_workspace_gets_one_sentence_and_nothing_more(
    slack: SlackBot, command: str, text: str
) -> None:
    response = await slack.send(from_team(slash_command(slack.fake, command, text), "T2"))
    assert response.status_code == 200
    assert response.json()["text"] == NotSetUp.default_message
    assert response.json()["response_type"] == "ephemeral"
    touched_nothing(slack)
    assert audit_entries(slack.runtime.ctx.settings.database) == []


async def test_a_command_from_another_grid_org_is_refused_too(slack: SlackBot) -> None:
    response = await slack.send(from_team(slash_command(slack.fake, "/post", "https://e.com/v.mp4 now"), "T1", "E9"))
    assert response.status_code == 200
    assert NotSetUp.default_message not in response.text  # the token's own workspace: served
    body = from_team(slash_command(slack.fake, "/post", "https://e.com/v.mp4 to acc_1 now"), "T7", "E9")
    assert (await slack.send(body)).json()["text"] == NotSetUp.default_message


async def test_a_shortcut_or_a_button_from_another_workspace_is_refused_through_its_response_url(
    slack: SlackBot,
) -> None:
    file = slack.fake.add_file("F1", "clip.mp4", MP4, "video/mp4")
    shortcut = message_shortcut(slack.fake, [file])
    shortcut["team"] = {"id": "T2", "domain": "other"}
    shortcut["user"]["team_id"] = "T2"
    assert (await slack.send(urlencode({"payload": json.dumps(shortcut)}))).status_code == 200
    assert (await slack.reply())["text"] == NotSetUp.default_message
    press = block_action(slack.fake, CONFIRM_ACTION, "some-token")
    press["team"] = {"id": "T2", "domain": "other"}
    press["user"]["team_id"] = "T2"
    assert (await slack.send(urlencode({"payload": json.dumps(press)}))).status_code == 200
    assert (await slack.reply(2))["text"] == NotSetUp.default_message
    touched_nothing(slack)
    assert slack.fake.downloads == []


async def test_an_org_wide_install_serves_every_workspace_of_its_org_and_no_other(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    fake_slack.identity.update(team_id="", enterprise_id="E1", is_enterprise_install=True)
    async with start_bot(slack_settings(tmp_path, fake_slack, sandbox), fake_slack, sandbox, clock) as bot:
        inside = from_team(slash_command(fake_slack, "/post", "https://e.com/v.mp4 to acc_1 now -- hi"), "T5", "E1")
        assert (await bot.send(inside)).status_code == 200
        assert "Scheduled" in (await bot.reply())["text"]
        assert len(bot.creates()) == 1
        outside = from_team(slash_command(fake_slack, "/post", "https://e.com/v.mp4 to acc_1 now"), "T5", "E2")
        assert (await bot.send(outside)).json()["text"] == NotSetUp.default_message
        lone = from_team(slash_command(fake_slack, "/help", ""), "T5")
        assert (await bot.send(lone)).json()["text"] == NotSetUp.default_message
        assert len(bot.creates()) == 1
