"""`/infinipost connect` on Slack: the key typed in a modal only the admin sees, through real slack-bolt against
the fake Slack, and then used for the workspace's posts at the sandbox."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from sandbox import SandboxServer
from tests.adapters.slack_harness import SlackBot, slack_settings, start_bot
from tests.conftest import FakeClock
from tests.fakes.slack import FakeSlack, running_fake_slack, view_submission

KEY = "sk_live_slackWorkspaceKey7Q2w"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "UTC", "profile": {"display_name": "Alice"}}
        fake.users["UADMIN"] = {"id": "UADMIN", "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
        fake.users["UOWNER"] = {"id": "UOWNER", "name": "own", "tz": "UTC", "is_owner": True, "profile": {}}
        yield fake


@pytest.fixture
async def sealed_slack(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[SlackBot]:
    settings = slack_settings(tmp_path, fake_slack, sandbox, encryption_key=Fernet.generate_key().decode())
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
        yield bot


def _view(params: dict[str, Any]) -> dict[str, Any]:
    view = params["view"]
    return json.loads(view) if isinstance(view, str) else view


def key_submission(key: str, metadata: dict[str, Any], *, user: str) -> dict[str, Any]:
    values = {"key": {"key": {"type": "plain_text_input", "value": key}}}
    payload = view_submission(values, json.dumps(metadata), user=user)
    payload["view"]["callback_id"] = "infinipost_key"
    return payload


async def test_an_admin_connects_a_key_in_the_modal_and_the_workspaces_posts_use_it(
    sealed_slack: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack = sealed_slack
    response = await slack.command("/infinipost", "connect", user="UADMIN")
    assert response.status_code == 200
    assert KEY not in response.text
    [opened] = await slack.fake.wait_for(lambda: slack.fake.of("views.open"))
    assert opened["trigger_id"] == "1337.42.abc"
    [updated] = await slack.fake.wait_for(lambda: slack.fake.of("views.update"))
    form = _view(updated)
    assert form["callback_id"] == "infinipost_key"
    assert [b["block_id"] for b in form["blocks"]] == ["key"]
    metadata = json.loads(form["private_metadata"])
    assert metadata["channel"] == "C1"

    submitted = await slack.interact(key_submission(KEY, metadata, user="UADMIN"))
    assert submitted.status_code == 200
    assert submitted.text == ""  # the modal closes
    answer = await slack.reply()
    assert "own Infinipost key (…7Q2w)" in answer["text"]
    assert answer["response_type"] == "ephemeral"

    await slack.command("/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- with its own key", user="U1")
    await slack.reply(2)
    creates = [r for r in slack.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
    assert [r.authorization for r in creates] == [f"Bearer {KEY}"]

    await slack.command("/infinipost", "", user="U1")  # anyone may ask which key is used
    status = await slack.reply(3)
    assert "its own Infinipost key (…7Q2w)" in status["text"]
    await slack.command("/infinipost", "disconnect", user="UOWNER")  # a workspace owner is an admin too
    gone = await slack.reply(4)
    assert "default key" in gone["text"]
    await slack.command("/post", "https://e.com/w.mp4 to acc_1 in 1 hour -- with the default key", user="U1")
    await slack.reply(5)
    creates = [r for r in slack.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
    assert creates[-1].authorization == "Bearer sk_test_key"

    said = json.dumps(slack.fake.responses) + json.dumps([c.params for c in slack.fake.calls])
    assert KEY not in said
    assert KEY not in caplog.text


async def test_a_member_gets_no_form_and_a_typed_key_is_not_read(sealed_slack: SlackBot) -> None:
    slack = sealed_slack
    await slack.command("/infinipost", "connect", user="U1")
    [updated] = await slack.fake.wait_for(lambda: slack.fake.of("views.update"))
    view = _view(updated)
    assert "submit" not in view
    assert "Only a workspace or server admin" in json.dumps(view["blocks"])

    await slack.command("/infinipost", f"connect {KEY}", user="UADMIN")
    answer = await slack.reply()
    assert "Don't type the key in the command" in answer["text"]
    assert KEY not in answer["text"]
    assert len(slack.fake.of("views.open")) == 1  # no form for a key typed inline
    assert await slack.runtime.ctx.storage.workspace_keys.get("slack", "T1") is None
    # A member who got past the form anyway (a submission crafted by hand) is refused by the core.
    await slack.interact(
        key_submission(KEY, {"channel": "C1", "response_url": slack.fake.response_url("k")}, user="U1")
    )
    refused = await slack.reply(2)
    assert "Only a workspace or server admin" in refused["text"]
    assert await slack.runtime.ctx.storage.workspace_keys.get("slack", "T1") is None


async def test_without_an_encryption_key_the_form_says_so(slack: SlackBot) -> None:
    slack.fake.users["UADMIN"] = {"id": "UADMIN", "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
    await slack.command("/infinipost", "connect", user="UADMIN")
    [updated] = await slack.fake.wait_for(lambda: slack.fake.of("views.update"))
    assert "BOT_ENCRYPTION_KEY" in json.dumps(_view(updated)["blocks"])
