"""The Slack adapter through real slack-bolt, over HTTP, against a fake Slack Web API and the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.texts import GENERIC_ERROR
from bot.tracking import Tracker
from sandbox import Fault, SandboxServer
from tests.adapters.slack_harness import SlackBot, posted_notice, slack_settings, start_bot
from tests.conftest import FakeClock
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
from tests.media.files import MP4


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


async def test_post_is_acked_at_once_then_scheduled_and_announced(slack: SlackBot) -> None:
    response = await slack.command(
        "/post", "https://e.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Launch <!channel>"
    )
    assert response.status_code == 200
    assert "Checking your post" in response.text
    reply = await slack.reply()
    assert "Scheduled for Sun 29 November 2026, 12:00 EST (America/New_York)" in reply["text"]  # Alice's profile zone
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
        stored = await slack.runtime.ctx.storage.requests.get(1)
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
        ("/cancel", "", "`/cancel` takes one post ID or request number"),
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
    # The move's edit goes out before the cancel is asked for: an edit still waiting when a newer one comes is
    # replaced by it, and only the newer is sent.
    await slack.fake.wait_for(lambda: slack.fake.of("chat.update"))
    await slack.command("/cancel", "#1")
    assert "Cancelled" in (await slack.reply(3))["text"]
    updates = await slack.fake.wait_for(lambda: len(slack.fake.of("chat.update")) >= 2 and slack.fake.of("chat.update"))
    assert "cancelled" in updates[-1]["text"]
    stored = await slack.runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.announcement is not None
    assert {u["ts"] for u in updates} == {stored.announcement.message_id}


async def test_numeric_dates_are_read_in_the_order_of_each_users_slack_locale(slack: SlackBot) -> None:
    slack.fake.users["U1"]["locale"] = "en-GB"  # users.info sends it only when asked with include_locale
    slack.fake.users["U2"]["locale"] = "en-US"
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 3/12 9am", user="U1")
    assert "Scheduled for Thu 3 December 2026, 09:00 EST" in (await slack.reply())["text"]
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 3/12 9am", user="U2")
    assert "Thu 12 March 2026 has already passed this year" in (await slack.reply(2))["text"]
    asked = [c for c in slack.fake.calls if c.method == "users.info"]
    assert asked
    assert all(c.params.get("include_locale") in ("true", "1", True) for c in asked)


async def test_post_without_text_opens_the_form_before_anything_slow(slack: SlackBot) -> None:
    admin = await slack.command("/accounts", "default acc_456", user="UADMIN")
    assert admin.status_code == 200
    await slack.reply()
    slack.fake.users["U9"] = {"id": "U9", "name": "new", "profile": {}}
    before = len(slack.fake.calls)
    response = await slack.command("/post", user="U9")
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
    assert metadata["response_url"].endswith("/respond/post-U9")
    calls = [c.method for c in slack.fake.calls[before:]]
    assert calls[0] == "views.open"  # before anything slow: not even who the user is
    assert calls.index("views.open") < calls.index("users.info") < calls.index("views.update")


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
    assert "Scheduled for Sun 29 November 2026, 09:00 EST" in reply["text"]
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
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
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
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
        await bot.command("/post", "https://e.com/v.mp4 to acc_1 at friday 9am")
        token = next(b for b in (await bot.reply())["blocks"] if b["type"] == "actions")["elements"][1]["value"]
        await bot.interact(block_action(fake_slack, "post_discard", token))
        assert "Nothing was sent" in (await bot.reply(2))["text"]
        assert bot.creates() == []


async def test_a_replayed_request_is_refused(slack: SlackBot) -> None:
    body = slash_command(slack.fake, "/post", "https://e.com/v.mp4 to acc_1 at 9am")
    headers = sign(body)
    assert (await slack.send(body, headers)).status_code == 200
    assert (await slack.send(body, headers)).status_code == 401
    await slack.reply()
    assert len(slack.creates()) == 1


async def test_a_signature_is_remembered_as_long_as_its_timestamp_lets_a_replay_pass(slack: SlackBot) -> None:
    """A timestamp up to five minutes in the future is valid, so a signature is kept until the request's own
    timestamp plus that window, not for a fixed time after it arrived."""
    body = slash_command(slack.fake, "/help", "")
    stamp = int(time.time()) + 290  # a clock running ahead of ours, within what Slack's check allows
    headers = sign(body, timestamp=stamp)
    assert (await slack.send(body, headers)).status_code == 200
    replay_still_passes = datetime.fromtimestamp(stamp + 299, UTC)  # nearly ten minutes after it arrived
    gone = datetime.fromtimestamp(stamp + 3600, UTC)
    storage = slack.runtime.ctx.storage
    key = f"slack:{headers['X-Slack-Signature']}"
    assert not await storage.once_keys.remember(key, until=gone, now=replay_still_passes)
    assert await storage.once_keys.remember(key, until=gone, now=gone)  # forgotten once no replay could pass


@pytest.mark.parametrize("header", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
async def test_a_signing_header_given_twice_gets_401(slack: SlackBot, header: str) -> None:
    """The replay of a signed request, with a bogus copy of a signing header placed before the real one."""
    body = slash_command(slack.fake, "/post", "https://e.com/v.mp4 to acc_1 at 9am")
    signed = sign(body)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await slack.send(body, signed)).status_code == 200
    await slack.reply()
    bogus = {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=" + "0" * 64}[header]
    async with httpx.AsyncClient() as http:
        replayed = await http.post(slack.url, content=body, headers=[*form.items(), (header, bogus), *signed.items()])
        fresh = slash_command(slack.fake, "/post", "https://e.com/w.mp4 to acc_1 at 9am")
        doubled = await http.post(
            slack.url, content=fresh, headers=[*form.items(), *sign(fresh).items(), (header, sign(fresh)[header])]
        )
    assert replayed.status_code == 401
    assert doubled.status_code == 401  # even a first sighting, and even with the same value twice
    assert len(slack.creates()) == 1


MALFORMED = {
    "not UTF-8": (b"command=/post&text=caf\xe9", "application/x-www-form-urlencoded"),
    "payload not JSON": (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
    "payload a list": (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "JSON body a list": (b"[1, 2]", "application/json"),
    "view_submission without view.type": (
        interaction(
            {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "post_form", "id": "V1"}}
        ).encode(),
        "application/x-www-form-urlencoded",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_signed_but_malformed_requests_get_400_in_one_log_line(
    slack: SlackBot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = MALFORMED[case]
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    async with httpx.AsyncClient() as http:
        response = await http.post(slack.url, content=body, headers=headers)
    assert response.status_code == 400
    complaints = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in complaints] == [complaints[0].getMessage()]
    assert "refused a Slack request whose body Slack would not send" in complaints[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []  # bolt checks its token first


async def test_a_timestamp_of_5000_digits_gets_401(slack: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    body = slash_command(slack.fake, "/help", "")
    response = await slack.send(body, {"X-Slack-Request-Timestamp": "1" * 5000, "X-Slack-Signature": "v0=00"})
    assert response.status_code == 401
    assert all(r.exc_info is None for r in caplog.records)
    assert slack.fake.calls == []


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


async def test_uploads_in_the_form_become_a_link_serving_the_same_bytes(slack: SlackBot) -> None:
    uploaded = slack.fake.add_file("F9", "clip.mp4", MP4, "video/mp4")  # as the submission describes it
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "when": {"when": {"value": "in 3 hours"}},
        "files": {"files": {"type": "file_input", "files": [uploaded]}},
    }
    metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("f")})
    await slack.interact(view_submission(values, metadata))
    reply = await slack.reply()
    assert "Scheduled for" in reply["text"], reply["text"]
    assert [c.method for c in slack.fake.calls if c.method == "files.info"] == []  # the submission said where
    assert slack.fake.downloads == [("/files-pri/T1-F9/download/clip.mp4", f"Bearer {BOT_TOKEN}")]
    [body] = slack.creates()
    assert body["contentUrl"].startswith(f"http://127.0.0.1:{slack.runtime.web.port}/media/")
    async with httpx.AsyncClient() as http:
        assert (await http.get(body["contentUrl"])).content == MP4


async def test_a_form_with_an_unreadable_time_stays_open_with_the_problem_under_the_field(slack: SlackBot) -> None:
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "when": {"when": {"value": "friday"}},
        "links": {"links": {"value": "https://e.com/v.mp4"}},
    }
    metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("w")})
    response = await slack.interact(view_submission(values, metadata, view_id="V7"))
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            "when": "friday has no time of day; add one, or write a duration such as in 2 hours. "
            "Try friday 9am or friday 3pm."
        },
    }
    values["when"]["when"]["value"] = "friday 9am"  # fixed in the form that stayed open, and sent again
    fixed = await slack.interact(view_submission(values, metadata, view_id="V7"))
    assert fixed.status_code == 200
    assert not fixed.content
    reply = await slack.reply()
    assert "Scheduled for Fri 4 December 2026, 09:00 EST" in reply["text"], reply["text"]
    assert len(slack.fake.responses) == 1  # nothing was said of the refused submission
    assert len(slack.creates()) == 1


async def test_a_form_submitted_again_after_a_slow_answer_is_not_sent_twice(slack: SlackBot) -> None:
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "when": {"when": {"value": "in 2 hours"}},
        "links": {"links": {"value": "https://e.com/v.mp4"}},
    }
    metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("twice")})
    await slack.interact(view_submission(values, metadata, view_id="V8"))
    assert "Scheduled for" in (await slack.reply())["text"]
    again = await slack.interact(view_submission(values, metadata, view_id="V8"))  # Slack said it had trouble
    assert again.status_code == 200
    await slack.interact(view_submission(values, metadata))  # a new form is a new post
    await slack.reply(2)
    assert len(slack.creates()) == 2


async def test_a_form_submitted_again_after_a_restart_is_not_sent_twice(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = slack_settings(tmp_path, fake_slack, sandbox)
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "when": {"when": {"value": "in 2 hours"}},
        "links": {"links": {"value": "https://e.com/v.mp4"}},
    }
    metadata = json.dumps({"channel": "C1", "response_url": fake_slack.response_url("restart")})
    async with start_bot(settings, fake_slack, sandbox, clock) as slack:
        await slack.interact(view_submission(values, metadata, view_id="V9"))
        assert "Scheduled for" in (await slack.reply())["text"]
    async with start_bot(settings, fake_slack, sandbox, clock) as restarted:
        again = await restarted.interact(view_submission(values, metadata, view_id="V9"))
        assert (again.status_code, again.content) == (200, b"")  # the form closes, and nothing more
        await restarted.interact(view_submission(values, metadata))  # a new form is a new post
        await restarted.reply(2)
        assert len(restarted.creates()) == 2


async def test_without_a_public_url_uploads_are_refused_before_anything_is_downloaded(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = slack_settings(tmp_path, fake_slack, sandbox, public_url=None)
    async with start_bot(settings, fake_slack, sandbox, clock) as slack:
        slack.fake.add_file("F9", "clip.mp4", MP4, "video/mp4")
        values = {
            "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
            "files": {"files": {"type": "file_input", "files": [{"id": "F9", "name": "clip.mp4"}]}},
        }
        metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("f")})
        await slack.interact(view_submission(values, metadata))
        assert "Uploads need BOT_PUBLIC_URL" in (await slack.reply())["text"]
    assert slack.fake.downloads == []
    assert slack.creates() == []


async def test_message_shortcut_files_are_scheduled(slack: SlackBot) -> None:
    slack.fake.add_file("F1", "launch.mp4", MP4, "video/mp4")
    metadata = json.dumps({"channel": "C1", "response_url": slack.fake.response_url("s"), "files": ["F1"]})
    values = {"accounts": {"accounts": {"selected_options": [{"value": "acc_123"}]}}, "when": {"when": {"value": ""}}}
    await slack.interact(view_submission(values, metadata))
    assert "Scheduled to go out now" in (await slack.reply())["text"]
    [body] = slack.creates()
    async with httpx.AsyncClient() as http:
        assert (await http.get(body["contentUrl"])).content == MP4


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        (
            {"error": "file_not_found"},
            "could not read the Slack file gone.mp4: it was deleted, or it is in a channel I am not in. Invite me",
        ),
        (
            {"error": "missing_scope", "needed": "files:read", "provided": "commands,chat:write"},
            "could not read the Slack file gone.mp4: the app lacks the `files:read` permission",
        ),
    ],
)
async def test_a_file_slack_will_not_give_is_a_clear_message(
    slack: SlackBot, refusal: dict[str, str], says: str
) -> None:
    """A file the submission gives no link to (a Slack Connect stub) is asked about with files.info."""
    slack.fake.fail("files.info", **refusal)
    stub = {"id": "F404", "name": "gone.mp4", "file_access": "check_file_info"}
    values = {"files": {"files": {"type": "file_input", "files": [stub]}}}
    await slack.interact(
        view_submission(values, json.dumps({"channel": "C1", "response_url": slack.fake.response_url("g")}))
    )
    reply = await slack.reply()
    assert says in reply["text"]
    assert slack.creates() == []


async def test_lifecycle_notices_reach_the_announcement_thread(slack: SlackBot, clock: FakeClock) -> None:
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- soon")
    await slack.reply()
    [announcement] = await slack.fake.wait_for(lambda: slack.fake.of("chat.postMessage"))
    stored = await slack.fake.wait_for(lambda: _announced(slack))
    clock.advance(hours=1)
    await Tracker(slack.runtime.ctx).cycle()
    live = await slack.fake.wait_for(lambda: [m for m in slack.fake.of("chat.postMessage") if "Live now" in m["text"]])
    assert live[0]["thread_ts"] == stored.announcement.message_id
    edits = await slack.fake.wait_for(lambda: slack.fake.of("chat.update"))
    assert "✅ live" in edits[-1]["text"]
    assert announcement["channel"] == "C1"


async def _announced(slack: SlackBot) -> Any:
    stored = await slack.runtime.ctx.storage.requests.get(1)
    return stored if stored and stored.announcement else None


async def test_failures_go_to_the_channel_and_the_alerts_channel(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = slack_settings(tmp_path, fake_slack, sandbox, alerts_channel="CALERTS")
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
        await bot.command("/post", "https://e.com/fail.mp4 to acc_1 in 10 minutes")
        await bot.reply()
        clock.advance(minutes=10)
        await Tracker(bot.runtime.ctx).cycle()
        failed = await fake_slack.wait_for(
            lambda: (
                len(m := [x for x in fake_slack.of("chat.postMessage") if "failed at Infinipost" in x["text"]]) >= 2
                and m
            )
        )
        assert {m["channel"] for m in failed} == {"C1", "CALERTS"}
        assert all(m["text"].startswith("❌ <@U1>") for m in failed)


async def test_a_late_post_and_an_unconfirmed_create_on_slack(slack: SlackBot, clock: FakeClock) -> None:
    slack.sandbox.state.faults = [Fault(kind="missing_fields", route="create")]
    await slack.command("/post", "https://e.com/stuck.mp4 to acc_1 in 5 minutes")
    assert "did not confirm whether it created the post" in (await slack.reply())["text"]
    clock.advance(minutes=1)
    await Tracker(slack.runtime.ctx).cycle()
    adopted = await slack.fake.wait_for(
        lambda: [m for m in slack.fake.of("chat.postMessage") if "after all" in m["text"]]
    )
    assert adopted[0]["thread_ts"]
    clock.advance(minutes=15)
    await Tracker(slack.runtime.ctx).cycle()
    late = await slack.fake.wait_for(
        lambda: [m for m in slack.fake.of("chat.postMessage") if "not live yet" in m["text"]]
    )
    assert late[0]["thread_ts"] == adopted[0]["thread_ts"]


async def test_a_burst_going_live_in_one_channel_is_one_message(slack: SlackBot, clock: FakeClock) -> None:
    accounts = slack.sandbox.state.accounts
    for n in range(10, 20):
        accounts[f"acc_{n}"] = {
            **accounts["acc_1"],
            "accountId": f"acc_{n}",
            "name": f"Team {n}",
            "username": f"team{n}",
        }
    slack.runtime.ctx.accounts.forget()
    names = ", ".join(f"acc_{n}" for n in range(10, 20))
    for n in range(4):
        await slack.command("/post", f"https://e.com/{n}.mp4 to {names} at 11:00")
        await slack.reply(n + 1)
    await slack.fake.wait_for(lambda: len(slack.fake.of("chat.postMessage")) == 4)
    clock.advance(hours=2)
    await Tracker(slack.runtime.ctx).cycle()
    await slack.fake.wait_for(lambda: len(slack.fake.of("chat.update")) == 4)
    messages = slack.fake.of("chat.postMessage")
    assert len(messages) == 5
    assert messages[-1]["text"].startswith("✅ 40 posts are live now:")


async def test_who_may_post_and_who_is_an_admin(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    fake_slack.groups["S1"] = ["U3"]
    fake_slack.users["U3"] = {"id": "U3", "name": "carol", "profile": {}}
    fake_slack.users["U5"] = {"id": "U5", "name": "eve", "profile": {}}
    settings = slack_settings(tmp_path, fake_slack, sandbox, slack_poster_users="U2,S1", slack_admin_users="U5")
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
        answers = []
        for user, command, text in [
            ("U1", "/post", "https://e.com/v.mp4 to acc_1 at 9am"),  # not a poster
            ("U2", "/post", "https://e.com/v.mp4 to acc_1 at 9am"),  # a listed user
            ("U3", "/post", "https://e.com/w.mp4 to acc_1 at 9am"),  # in a listed user group
            ("UADMIN", "/post", "https://e.com/x.mp4 to acc_1 at 9am"),  # a workspace admin
            ("U2", "/accounts", "default acc_1"),  # not an admin
            ("U5", "/accounts", "default acc_1"),  # an admin by SLACK_ADMIN_USERS
            ("U3", "/cancel", "#1"),  # not the author
            ("U5", "/cancel", "#1"),  # an admin may
        ]:
            await bot.command(command, text, user=user)
            answers.append((await bot.reply(len(answers) + 1))["text"])
        assert "not allowed to schedule posts here" in answers[0]
        assert all("Scheduled for" in a for a in answers[1:4])
        assert "Only an admin" in answers[4]
        assert answers[5] == "Posts from this channel go to `acc_1` unless they say `to`."
        assert "Only Bob, who scheduled it, or an admin" in answers[6]
        assert "Cancelled" in answers[7]
        assert len(bot.creates()) == 3


async def test_find_looks_in_the_thread_and_then_the_channel(slack: SlackBot) -> None:
    from bot.model import ChannelRef, MessageRef

    messenger = slack.runtime.ctx.outbox.messengers["slack"]
    channel = ChannelRef(platform="slack", workspace_id="T1", channel_id="C1")
    notice = posted_notice()
    announcement = await messenger.send(channel, [notice], thread=None, ids=[1])
    in_thread = await messenger.send(channel, [notice], thread=announcement, ids=[2])
    coalesced = await messenger.send(channel, [notice, notice], thread=None, ids=[3, 4])
    assert await messenger.find(channel, 2, thread=announcement) == in_thread
    assert await messenger.find(channel, 4, thread=announcement) == coalesced  # went out in the channel
    assert await messenger.find(channel, 9, thread=announcement) is None
    assert isinstance(announcement, MessageRef)


async def test_the_events_url_answers_slacks_challenge_and_hears_an_uninstall(
    slack: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    challenge = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    response = await slack.send(challenge, {"Content-Type": "application/json", **sign(challenge)})
    assert response.status_code == 200
    assert "abc123" in response.text
    event = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": 1764342000,
            "event": {"type": "app_uninstalled"},
        }
    )
    response = await slack.send(event, {"Content-Type": "application/json", **sign(event)})
    assert response.status_code == 200
    assert "app_uninstalled for workspace T1" in caplog.text


async def test_notices_carry_metadata_slack_documents(slack: SlackBot) -> None:
    """Slack takes strings, numbers, booleans, objects and arrays of objects as metadata values; not a list of
    numbers (the fake refuses one, as `invalid_metadata_format`)."""
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    [announcement] = await slack.fake.wait_for(lambda: slack.fake.of("chat.postMessage"))
    metadata = announcement["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata == {"event_type": "infinipost_notice", "event_payload": {"notices": "1"}}


async def test_an_error_slack_does_not_say_will_pass_is_given_up_after_a_few_tries_with_an_alert(
    slack: SlackBot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail("chat.postMessage", "channel_type_not_supported", times=3)
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    await slack.reply()
    for _ in range(6):  # well past every backoff of the outbox's usual twelve tries
        await slack.fake.wait_for(lambda: [c for c in slack.fake.calls if c.method == "chat.postMessage"])
        clock.advance(minutes=1)
        slack.runtime.ctx.outbox.wake()
        await asyncio.sleep(0.1)
    tries = [c for c in slack.fake.calls if c.method == "chat.postMessage" and c.params["channel"] == "C1"]
    assert len(tries) == 3
    dm = await slack.fake.wait_for(lambda: [m for m in slack.fake.of("chat.postMessage") if m["channel"] == "U1"])
    assert "could not announce it in <#C1>: Slack refused it (channel_type_not_supported)" in dm[0]["text"]
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR and "gave up delivering" in r.getMessage()]
    assert len(alerts) == 1
    assert "slack channel C1 after 3 attempt(s)" in alerts[0].getMessage()


def _form(files: list[dict[str, Any]] | None = None, **metadata: Any) -> dict[str, Any]:
    values = {
        "accounts": {"accounts": {"selected_options": [{"value": "acc_1"}]}},
        "when": {"when": {"value": "in 3 hours"}},
        "links": {"links": {"value": "" if files else "https://e.com/v.mp4"}},
        "files": {"files": {"type": "file_input", "files": files or []}},
    }
    return view_submission(values, json.dumps({"channel": "C1", **metadata}))


async def _plain_users_info(slack: SlackBot, clock: FakeClock) -> str:
    await slack.command("/timezone")
    return str((await slack.reply())["text"])


async def _plain_files_info(slack: SlackBot, clock: FakeClock) -> str:
    stub = {"id": "F7", "name": "stub.mp4", "file_access": "check_file_info"}
    await slack.interact(_form([stub], response_url=slack.fake.response_url("f")))
    return str((await slack.reply())["text"])


async def _plain_views(slack: SlackBot, clock: FakeClock) -> str:
    await slack.command("/post")
    return str((await slack.reply())["text"])


async def _plain_ephemeral(slack: SlackBot, clock: FakeClock) -> str:
    await slack.interact(_form())  # no response_url: answered ephemerally, else by direct message
    dms = await slack.fake.wait_for(lambda: [m for m in slack.fake.of("chat.postMessage") if m["channel"] == "U1"])
    return str(dms[0]["text"])


async def _plain_post_message(slack: SlackBot, clock: FakeClock) -> str:
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    await slack.reply()
    await slack.fake.wait_for(lambda: [c for c in slack.fake.calls if c.method == "chat.postMessage"])
    slack.runtime.ctx.outbox.wake()
    return str((await _taken(slack, clock, "chat.postMessage"))["text"])


async def _plain_update(slack: SlackBot, clock: FakeClock) -> str:
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
    await slack.reply()
    await slack.fake.wait_for(lambda: _announced(slack))
    await slack.command("/cancel", "#1")
    await slack.reply(2)
    return str((await _taken(slack, clock, "chat.update"))["text"])


async def _taken(slack: SlackBot, clock: FakeClock, method: str) -> dict[str, Any]:
    """The call of `method` Slack took, once the outbox has tried again (seconds later on its clock)."""
    for _ in range(50):
        if slack.fake.of(method):
            return slack.fake.of(method)[0]
        clock.advance(seconds=5)
        slack.runtime.ctx.outbox.wake()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{method} was never taken")


async def _plain_history(slack: SlackBot, clock: FakeClock) -> str:
    from bot.model import ChannelRef

    messenger = slack.runtime.ctx.outbox.messengers["slack"]
    found = await messenger.find(ChannelRef(platform="slack", workspace_id="T1", channel_id="C1"), 1, thread=None)
    return f"found {found}"


PLAIN_ERRORS = {
    "users.info": (_plain_users_info, "Your times are read in America/New_York (the bot's default)"),
    "files.info": (_plain_files_info, "I could not read the Slack file stub.mp4 (http_502). Share it again"),
    "views.open": (_plain_views, "I could not open the form in time."),
    "views.update": (_plain_views, "I could not open the form in time."),
    "chat.postEphemeral": (_plain_ephemeral, "Scheduled for"),
    "chat.postMessage": (_plain_post_message, "scheduled a video"),
    "chat.update": (_plain_update, "cancelled"),
    "conversations.history": (_plain_history, "found None"),
}


@pytest.mark.parametrize("method", PLAIN_ERRORS)
async def test_a_slack_error_that_is_not_json_keeps_the_specific_outcome(
    slack: SlackBot, clock: FakeClock, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A `502 text/plain` (a proxy, an outage page) where Slack's JSON error was expected: each call still ends
    as its designed fallback says, never in the generic apology."""
    scenario, expected = PLAIN_ERRORS[method]
    slack.fake.fail_plain(method)
    said = await scenario(slack, clock)
    assert expected in said
    assert GENERIC_ERROR not in said
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_a_user_group_slack_cannot_list_is_not_a_crash(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> None:
    fake_slack.fail_plain("usergroups.users.list")
    settings = slack_settings(tmp_path, fake_slack, sandbox, slack_poster_users="S1")
    async with start_bot(settings, fake_slack, sandbox, clock) as bot:
        await bot.command("/post", "https://e.com/v.mp4 to acc_1 at 9am")
        assert "not allowed to schedule posts here" in (await bot.reply())["text"]


async def test_cancelling_several_posts_is_asked_with_buttons(slack: SlackBot) -> None:
    await slack.command("/post", "https://e.com/v.mp4 to acc_123, acc_456 at friday 9am")
    await slack.reply()
    await slack.command("/cancel", "#1")
    question = await slack.reply(2)
    assert question["text"].startswith("Cancel these 2 posts of request #1?")
    actions = next(b for b in question["blocks"] if b["type"] == "actions")
    yes, no = actions["elements"]
    assert (yes["text"]["text"], no["text"]["text"]) == ("Cancel them", "Keep them")
    assert len(slack.sandbox.state.posts) == 2
    await slack.interact(block_action(slack.fake, "post_confirm", yes["value"]))
    done = await slack.reply(3)
    assert done["text"].count("Cancelled `post_") == 2
    assert slack.sandbox.state.posts == {}


async def test_a_long_queue_ends_with_a_more_button(slack: SlackBot) -> None:
    for day in range(1, 13):
        await slack.command("/post", f"https://e.com/v{day}.mp4 to acc_1 in {day} days -- day-{day}")
        await slack.reply(day)
    await slack.command("/posts", "upcoming")
    page = await slack.reply(13)
    assert "…and 2 more: `/posts more` shows them." in page["text"]
    [actions] = [b for b in page["blocks"] if b["type"] == "actions"]
    [more] = actions["elements"]
    assert more["text"]["text"] == "More"
    await slack.interact(block_action(slack.fake, "posts_more", more["value"]))
    second = await slack.reply(14)
    assert second["replace_original"] is True  # the page turns in place
    assert "“day-11”" in second["text"]
    assert "“day-12”" in second["text"]
    assert "“day-1”" not in second["text"]


SHEET = "\ufeffmedia;accounts;when;caption\r\n" + "\r\n".join(
    f"https://e.com/{n}.mp4;acc_123;2026-12-0{n}T09:00;From the sheet {n}" for n in range(1, 4)
)


async def test_schedule_as_post_on_a_message_with_a_csv_previews_its_import(slack: SlackBot) -> None:
    sheet = slack.fake.add_file("F9", "posts.csv", SHEET.encode(), "text/csv")
    await slack.interact(message_shortcut(slack.fake, [sheet]))
    preview = await slack.reply()
    assert "Import 3 posts from `posts.csv`?" in preview["text"]
    assert slack.fake.of("views.open") == []  # no form: the file says it all
    actions = next(b for b in preview["blocks"] if b["type"] == "actions")
    schedule, _ = actions["elements"]
    assert schedule["text"]["text"] == "Schedule"
    assert slack.creates() == []
    await slack.interact(block_action(slack.fake, "post_confirm", schedule["value"]))
    done = await slack.reply(2)
    assert "Imported `posts.csv`: 3 of 3 posts scheduled." in done["text"]
    assert [c["caption"] for c in slack.creates()] == ["From the sheet 1", "From the sheet 2", "From the sheet 3"]


async def test_a_csv_in_the_post_forms_file_field_is_imported(slack: SlackBot) -> None:
    sheet = slack.fake.add_file("F8", "week.csv", SHEET.encode(), "text/csv")
    values = {"files": {"files": {"type": "file_input", "files": [sheet]}}}
    await slack.interact(
        view_submission(values, json.dumps({"channel": "C1", "response_url": slack.fake.response_url("i")}))
    )
    assert "Import 3 posts from `week.csv`?" in (await slack.reply())["text"]
    assert slack.creates() == []
