"""The Slack adapter through real slack-bolt, over HTTP, against a fake Slack Web API and the sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.slack import SlackAdapter
from bot.config import Settings
from bot.runtime import Runtime, start_runtime
from bot.sandbox import SandboxServer
from bot.web import WebServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    block_action,
    interaction,
    message_shortcut,
    running_fake_slack,
    sign,
    slash_command,
    view_submission,
)


@dataclass
class SlackBot:
    fake: FakeSlack
    sandbox: SandboxServer
    runtime: Runtime
    url: str

    async def send(self, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(sign(body) if headers is None else headers)}
        async with httpx.AsyncClient() as http:
            return await http.post(self.url, content=body, headers=headers)

    async def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        return await self.send(slash_command(self.fake, command, text, **kwargs))

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.send(interaction(payload))

    def creates(self) -> list[Any]:
        return [r.body for r in self.sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]

    async def reply(self, count: int = 1) -> dict[str, Any]:
        """The `count`-th message that arrived at a response_url."""
        await self.fake.wait_for(lambda: len(self.fake.responses) >= count)
        return self.fake.responses[count - 1]


def slack_settings(tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "api_key": "sk_test_key",
        "api_url": sandbox.url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
    }
    values.update(extra)
    return make_settings(tmp_path, **values)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {
            "id": "U1",
            "name": "alice",
            "tz": "America/New_York",
            "profile": {"display_name": "Alice"},
        }
        fake.users["U2"] = {"id": "U2", "name": "bob", "tz": "Europe/Paris", "profile": {"real_name": "Bob"}}
        fake.users["UADMIN"] = {"id": "UADMIN", "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
        yield fake


async def start_bot(settings: Settings, fake: FakeSlack, sandbox: SandboxServer, clock: FakeClock) -> Any:
    """An async context manager: the runtime with its workers, the adapter mounted on a real HTTP server."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def running() -> AsyncIterator[SlackBot]:
        async with start_runtime(settings, clock=clock) as runtime:
            adapter = SlackAdapter(runtime.core, settings)
            server = WebServer(host="127.0.0.1", port=0)
            adapter.mount(server.app)
            async with server:
                yield SlackBot(fake, sandbox, runtime, f"http://127.0.0.1:{server.port}/slack/events")

    return running()


@pytest.fixture
async def slack(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[SlackBot]:
    async with await start_bot(slack_settings(tmp_path, fake_slack, sandbox), fake_slack, sandbox, clock) as bot:
        yield bot


async def test_post_is_acked_at_once_then_scheduled_and_announced(slack: SlackBot) -> None:
    response = await slack.command(
        "/post", "https://e.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Launch <!channel>"
    )
    assert response.status_code == 200
    assert "Checking your post" in response.text
    reply = await slack.reply()
    assert "Scheduled for Sun 29 Nov 2026, 12:00 EST (America/New_York)" in reply["text"]  # Alice's profile zone
    assert reply["response_type"] == "ephemeral"
    assert slack.creates()[0]["scheduledTime"] == "2026-11-29T17:00:00Z"
    [announcement] = await slack.fake.wait_for(lambda: slack.fake.of("chat.postMessage"))
    assert announcement["channel"] == "C1"
    text = announcement["text"]
    assert "<@U1> scheduled a video for <!date^1795971600^{date_short_pretty} at {time}|" in text
    assert "Brand TikTok (@brand-tiktok) on TikTok" in text
    assert "Brand Instagram (@brand-ig) on Instagram" in text
    assert "&lt;!channel&gt;" in text  # user text can never ping the channel

    async def announced() -> Any:
        stored = await slack.runtime.ctx.storage.get_request(1)
        return stored if stored and stored.announcement else None

    stored = await slack.fake.wait_for(announced)
    assert stored.announcement.channel_id == "C1"  # kept for status updates in its thread
    assert stored.announcement.message_id.startswith("1764342000.")
    assert (stored.channel.platform, stored.channel.workspace_id, stored.user_id) == ("slack", "T1", "U1")


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/help", "", "/reschedule"),
        ("/accounts", "", "`acc_123` Brand TikTok"),
        ("/timezone", "", "America/New_York (from your profile)"),
        ("/timezone", "Asia/Tokyo", "Your time zone is now Asia/Tokyo"),
        ("/posts", "", "No posts from this channel yet"),
        ("/cancel", "", "Say which post to cancel"),
        ("/reschedule", "#9 friday 9am", "I have no post `#9`"),
        ("/ip-post", "https://e.com/v.mp4 to acc_1 at 9am", "Scheduled for"),
    ],
)
async def test_each_command_answers_through_the_response_url(
    slack: SlackBot, command: str, text: str, expected: str
) -> None:
    response = await slack.command(command, text)
    assert response.status_code == 200
    reply = await slack.reply()
    assert expected in reply["text"]
    assert reply["blocks"][0]["type"] == "section"


async def test_cancel_and_reschedule_update_the_announcement(slack: SlackBot) -> None:
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at friday 9am")
    await slack.reply()
    await slack.fake.wait_for(lambda: slack.fake.of("chat.postMessage"))
    post_id = next(iter(slack.sandbox.state.posts))
    await slack.command("/reschedule", f"{post_id} saturday 10am")
    assert "Moved" in (await slack.reply(2))["text"]
    await slack.command("/cancel", "#1")
    assert "Cancelled" in (await slack.reply(3))["text"]
    updates = await slack.fake.wait_for(lambda: len(slack.fake.of("chat.update")) >= 2 and slack.fake.of("chat.update"))
    assert "cancelled" in updates[-1]["text"]
    stored = await slack.runtime.ctx.storage.get_request(1)
    assert stored is not None
    assert stored.announcement is not None
    assert {u["ts"] for u in updates} == {stored.announcement.message_id}


async def test_post_without_text_opens_the_form_before_anything_slow(slack: SlackBot) -> None:
    admin = await slack.command("/accounts", "default acc_456", user="UADMIN")
    assert admin.status_code == 200
    await slack.reply()
    response = await slack.command("/post")
    assert response.status_code == 200
    opened = await slack.fake.wait_for(lambda: slack.fake.of("views.open"))
    assert opened[0]["trigger_id"] == "1337.42.abc"
    [updated] = await slack.fake.wait_for(lambda: slack.fake.of("views.update"))
    view = json.loads(updated["view"]) if isinstance(updated["view"], str) else updated["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    accounts = blocks["accounts"]["element"]
    assert [o["value"] for o in accounts["options"]] == ["acc_123", "acc_456", "acc_1"]
    assert [o["value"] for o in accounts["initial_options"]] == ["acc_456"]
    assert blocks["files"]["element"]["type"] == "file_input"
    assert blocks["files"]["element"]["max_files"] == 10
    metadata = json.loads(view["private_metadata"])
    assert metadata["channel"] == "C1"
    assert metadata["response_url"].endswith("/respond/post-U1")
    calls = [c.method for c in slack.fake.calls]
    assert calls.index("views.open") < calls.index("views.update")


async def test_form_submission_schedules_and_answers_privately(slack: SlackBot) -> None:
    metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("form")})
    values = {
        "accounts": {"accounts": {"type": "multi_static_select", "selected_options": [{"value": "acc_123"}]}},
        "caption": {"caption": {"type": "plain_text_input", "value": "From the form"}},
        "when": {"when": {"type": "plain_text_input", "value": "tomorrow 9am"}},
        "slides": {"slides": {"type": "static_select", "selected_option": None}},
        "sound": {"sound": {"type": "url_text_input", "value": None}},
        "links": {"links": {"type": "plain_text_input", "value": "https://e.com/1.jpg\nhttps://e.com/2.jpg"}},
        "files": {"files": {"type": "file_input", "files": []}},
    }
    response = await slack.interact(view_submission(values, metadata))
    assert response.status_code == 200
    assert response.text == ""  # the modal closes
    reply = await slack.reply()
    assert "Scheduled for Sun 29 Nov 2026, 09:00 EST" in reply["text"]
    assert slack.creates() == [
        {
            "accountIds": ["acc_123"],
            "contentType": "slideshow",
            "contentUrl": ["https://e.com/1.jpg", "https://e.com/2.jpg"],
            "caption": "From the form",
            "scheduledTime": "2026-11-29T14:00:00Z",
        }
    ]


async def test_message_shortcut_opens_the_form_with_the_messages_files(slack: SlackBot) -> None:
    video = slack.fake.add_file("F1", "launch.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    response = await slack.interact(message_shortcut(slack.fake, [video]))
    assert response.status_code == 200
    [updated] = await slack.fake.wait_for(lambda: slack.fake.of("views.update"))
    view = json.loads(updated["view"]) if isinstance(updated["view"], str) else updated["view"]
    assert json.loads(view["private_metadata"])["files"] == ["F1"]
    assert "Posting the 1 file of the message" in json.dumps(view["blocks"])
    assert "links" not in {b.get("block_id") for b in view["blocks"]}


async def test_message_shortcut_on_a_message_without_files_explains(slack: SlackBot) -> None:
    await slack.interact(message_shortcut(slack.fake, []))
    reply = await slack.reply()
    assert "That message has no files" in reply["text"]
    assert slack.fake.of("views.open") == []


async def test_confirm_buttons_send_once_and_only_for_the_author(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = slack_settings(tmp_path, fake_slack, sandbox, confirm_posts=True)
    async with await start_bot(settings, fake_slack, sandbox, clock) as bot:
        await bot.command("/post", "https://e.com/v.mp4 to acc_1 at friday 9am -- Ready?")
        preview = await bot.reply()
        actions = next(b for b in preview["blocks"] if b["type"] == "actions")
        schedule, cancel = actions["elements"]
        assert (schedule["text"]["text"], cancel["text"]["text"]) == ("Schedule", "Cancel")
        assert bot.creates() == []
        await bot.interact(block_action(fake_slack, "post_confirm", schedule["value"], user="U2"))
        assert "Only Alice can confirm" in (await bot.reply(2))["text"]
        await bot.interact(block_action(fake_slack, "post_confirm", schedule["value"]))
        done = await bot.reply(3)
        assert done["replace_original"] is True
        assert "Scheduled for" in done["text"]
        await bot.interact(block_action(fake_slack, "post_confirm", schedule["value"]))
        assert "already scheduled" in (await bot.reply(4))["text"]
        assert len(bot.creates()) == 1


async def test_cancel_button_drops_the_preview(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = slack_settings(tmp_path, fake_slack, sandbox, confirm_posts=True)
    async with await start_bot(settings, fake_slack, sandbox, clock) as bot:
        await bot.command("/post", "https://e.com/v.mp4 to acc_1 at friday 9am")
        token = next(b for b in (await bot.reply())["blocks"] if b["type"] == "actions")["elements"][1]["value"]
        await bot.interact(block_action(fake_slack, "post_discard", token))
        assert "Nothing was sent" in (await bot.reply(2))["text"]
        assert bot.creates() == []


SIGNATURES = {
    "forged": lambda body: {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    "body changed after signing": lambda body: sign(body.replace("acc_1", "acc_2")),
    "wrong secret": lambda body: sign(body, secret="wrong-secret"),
    "stale timestamp": lambda body: sign(body, timestamp=int(time.time()) - 600),
    "unsigned": lambda body: {},
}


@pytest.mark.parametrize("case", SIGNATURES)
async def test_bad_or_stale_signatures_get_401_and_nothing_happens(slack: SlackBot, case: str) -> None:
    body = slash_command(slack.fake, "/post", "https://e.com/v.mp4 to acc_1 now")
    response = await slack.send(body, SIGNATURES[case](body))
    assert response.status_code == 401
    assert slack.creates() == []
    assert slack.fake.responses == []
    assert slack.fake.calls == []


async def test_announcement_refused_by_slack_is_told_to_the_author(slack: SlackBot) -> None:
    slack.fake.fail("chat.postMessage", "not_in_channel")
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    await slack.reply()
    dms = await slack.fake.wait_for(lambda: [m for m in slack.fake.of("chat.postMessage") if m["channel"] == "U1"])
    assert "could not announce it in <#C1>" in dms[0]["text"]
    assert "invite it with /invite" in dms[0]["text"]


async def test_form_answer_falls_back_when_the_channel_refuses(slack: SlackBot) -> None:
    slack.fake.fail("chat.postEphemeral", "channel_not_found")
    values = {"links": {"links": {"type": "plain_text_input", "value": "https://e.com/v.mp4"}}}
    await slack.interact(view_submission(values, json.dumps({"channel": "C9"})))
    dm = await slack.fake.wait_for(lambda: [m for m in slack.fake.of("chat.postMessage") if m["channel"] == "U1"])
    assert "Say which accounts to post to" in dm[0]["text"]


async def test_infinipost_error_reaches_the_user(slack: SlackBot) -> None:
    await slack.runtime.ctx.accounts.all()
    del slack.sandbox.state.accounts["acc_1"]
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    reply = await slack.reply()
    assert reply["text"] == "Nothing was scheduled. Infinipost refused it: Account acc_1 not found."


async def test_uploads_in_the_form_are_fetched_with_the_bot_token(slack: SlackBot) -> None:
    slack.fake.add_file("F9", "clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4")
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "files": {"files": {"type": "file_input", "files": [{"id": "F9", "name": "clip.mp4"}]}},
    }
    await slack.interact(
        view_submission(values, json.dumps({"channel": "C1", "response_url": slack.fake.response_url("f")}))
    )
    reply = await slack.reply()
    assert slack.fake.of("files.info")[0]["file"] == "F9"
    assert reply["text"]
