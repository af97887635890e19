"""Approvals on Slack, through real slack-bolt over HTTP against the fake Slack and the sandbox: /approvals as
Slack escapes it, the announcement's buttons, Approve, and the modals of Request changes and Reject."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.manifest import manifest
from bot.texts import GENERIC_ERROR
from tests.adapters.slack_harness import SlackBot
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack, block_action, running_fake_slack, view_submission

AUTHOR, BYSTANDER, APPROVER, ADMIN = "U1", "U2", "U3", "UADMIN"
DESIGN = "S7"  # the approvers' user group: Carol is in it


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users[AUTHOR] = {
            "id": AUTHOR,
            "name": "alice",
            "tz": "America/New_York",
            "profile": {"display_name": "Alice"},
        }
        fake.users[BYSTANDER] = {"id": BYSTANDER, "name": "bob", "tz": "Europe/Paris", "profile": {"real_name": "Bob"}}
        fake.users[APPROVER] = {"id": APPROVER, "name": "carol", "tz": "UTC", "profile": {"display_name": "Carol"}}
        fake.users[ADMIN] = {"id": ADMIN, "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
        fake.groups[DESIGN] = [APPROVER]
        yield fake


async def ask_for_approval(slack: SlackBot, post: str = "https://e.com/v.mp4 to acc_1 at friday 9am -- Launch") -> str:
    """The channel requires the design group's approval and Alice posts: the ts of the announcement."""
    await slack.command("/approvals", f"required by <!subteam^{DESIGN}|@design>", user=ADMIN)
    await slack.command("/post", post, user=AUTHOR)
    await slack.fake.wait_for(lambda: len(slack.fake.responses) >= 2)

    async def announced() -> Any:
        stored = await slack.runtime.ctx.storage.requests.get(1)
        return stored.announcement.message_id if stored and stored.announcement else None

    ts: str = await slack.fake.wait_for(announced)
    return ts


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def press(slack: SlackBot, action_id: str, *, user: str, ts: str, value: str = "1") -> None:
    await slack.interact(block_action(slack.fake, action_id, value, user=user, block_id="approval", message_ts=ts))


async def last_update(slack: SlackBot, count: int) -> dict[str, Any]:
    """The announcement as the `count`-th chat.update left it."""
    updates = await slack.fake.wait_for(
        lambda: len(slack.fake.of("chat.update")) >= count and slack.fake.of("chat.update")
    )
    update: dict[str, Any] = updates[count - 1]
    return update


def thread(slack: SlackBot, ts: str) -> list[dict[str, Any]]:
    return [m for m in slack.fake.of("chat.postMessage") if m.get("thread_ts") == ts]


def test_the_manifest_asks_slack_to_escape_mentions_for_approvals_only(tmp_path: Path) -> None:
    commands = manifest(make_settings(tmp_path), socket_mode=True)["features"]["slash_commands"]
    escaped = {c["command"] for c in commands if c["should_escape"]}
    assert escaped == {"/approvals"}
    assert {"/approve", "/changes", "/reject", "/edit"} <= {c["command"] for c in commands}


async def test_approvals_takes_people_and_groups_as_slack_escapes_them(slack: SlackBot) -> None:
    await slack.command("/approvals", f"required by <!subteam^{DESIGN}|@design> and <@{BYSTANDER}|bob>", user=ADMIN)
    said = (await slack.reply())["text"]
    assert "wait for approval by group @design, @bob" in said
    await slack.command("/approvals", "", user=AUTHOR)
    assert "wait for approval by group @design, @bob" in (await slack.reply(2))["text"]


async def test_the_announcement_mentions_the_approvers_and_carries_the_three_buttons(slack: SlackBot) -> None:
    await ask_for_approval(slack)
    assert "waits for approval by group @design" in slack.fake.responses[1]["text"]
    assert slack.creates() == []  # nothing goes to Infinipost before an approval
    [announcement] = slack.fake.of("chat.postMessage")
    assert "<@U1> asks to post a video to" in announcement["text"]
    assert f"Waiting for approval by <!subteam^{DESIGN}>" in announcement["text"]  # Slack notifies the group
    approve, changes, reject = buttons(announcement)
    assert [(b["text"]["text"], b.get("style"), b["value"]) for b in (approve, changes, reject)] == [
        ("Approve", "primary", "1"),
        ("Request changes", None, "1"),
        ("Reject", "danger", "1"),
    ]


async def test_approve_by_an_approver_sends_once_answers_privately_and_the_buttons_go(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    await press(slack, "approval_approve", user=APPROVER, ts=ts)
    answer = await slack.reply(3)
    assert answer["text"].startswith("Approved request #1. Scheduled for")
    assert (answer["response_type"], answer["replace_original"]) == ("ephemeral", False)  # the announcement stays
    assert len(slack.creates()) == 1
    update = await last_update(slack, 1)
    assert update["ts"] == ts
    assert "Approved by Carol" in update["text"]
    assert buttons(update) == []
    told = await slack.fake.wait_for(lambda: thread(slack, ts))
    assert "<@U1> Carol approved request #1" in told[0]["text"]

    await press(slack, "approval_approve", user=APPROVER, ts=ts)  # pressed again, or by a second approver
    again = await slack.reply(4)
    assert "already approved by Carol" in again["text"]
    assert again["replace_original"] is False
    assert len(slack.creates()) == 1


async def test_approve_by_anyone_else_is_refused_privately_naming_the_approvers(slack: SlackBot) -> None:
    slack.fake.groups[DESIGN].append(AUTHOR)  # Alice is a designer too, but not for her own posts
    ts = await ask_for_approval(slack)
    await press(slack, "approval_approve", user=BYSTANDER, ts=ts)
    refused = await slack.reply(3)
    assert refused["text"] == "Only group @design can approve request #1."
    assert (refused["response_type"], refused["replace_original"]) == ("ephemeral", False)
    await press(slack, "approval_approve", user=AUTHOR, ts=ts)
    assert "authors may not approve their own posts here" in (await slack.reply(4))["text"]
    assert slack.creates() == []
    assert slack.fake.of("chat.update") == []  # the announcement still waits, buttons and all


async def test_an_approver_is_not_recognised_while_slack_cannot_list_the_groups(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    slack.fake.fail_plain("usergroups.list")
    await press(slack, "approval_approve", user=APPROVER, ts=ts)
    said = (await slack.reply(3))["text"]
    assert said == "Only group @design can approve request #1."
    assert GENERIC_ERROR not in said
    await press(slack, "approval_approve", user=APPROVER, ts=ts)  # asked again, not cached as "no groups"
    assert (await slack.reply(4))["text"].startswith("Approved request #1.")


async def test_approving_too_close_to_the_time_asks_for_a_new_time_or_now(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack, "https://e.com/v.mp4 to acc_1 in 3 minutes")
    await press(slack, "approval_approve", user=APPROVER, ts=ts)
    said = (await slack.reply(3))["text"]
    assert "nothing goes out late on its own" in said
    assert "`/approve #1 now`" in said
    assert slack.creates() == []
    await slack.command("/approve", "#1 now", user=APPROVER)  # a typed /approve knows the groups too
    assert (await slack.reply(4))["text"].startswith("Approved request #1.")
    assert len(slack.creates()) == 1


def note(text: str) -> dict[str, Any]:
    return {"note": {"note": {"type": "plain_text_input", "value": text}}}


async def open_note_form(slack: SlackBot, action_id: str, *, user: str, ts: str) -> dict[str, Any]:
    """The modal a button opened from its own trigger_id, once the bot filled it in."""
    before = len(slack.fake.of("views.update"))
    await press(slack, action_id, user=user, ts=ts)
    updated = await slack.fake.wait_for(
        lambda: len(slack.fake.of("views.update")) > before and slack.fake.of("views.update")
    )
    [opened] = slack.fake.of("views.open")[before:]  # at once, from the press's own trigger_id
    assert opened["trigger_id"].startswith("1337.")
    view = updated[-1]["view"]
    return json.loads(view) if isinstance(view, str) else view


async def submit(slack: SlackBot, view: dict[str, Any], text: str, *, user: str) -> None:
    response = await slack.interact(
        view_submission(note(text), view["private_metadata"], user=user, callback_id=view["callback_id"])
    )
    assert (response.status_code, response.text) == (200, "")  # the modal closes


async def said_privately(slack: SlackBot, count: int) -> dict[str, Any]:
    told = await slack.fake.wait_for(
        lambda: len(slack.fake.of("chat.postEphemeral")) >= count and slack.fake.of("chat.postEphemeral")
    )
    message: dict[str, Any] = told[count - 1]
    return message


async def test_request_changes_asks_for_a_note_that_reaches_the_author_in_the_thread(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    view = await open_note_form(slack, "approval_changes", user=APPROVER, ts=ts)
    assert view["title"]["text"] == "Request changes"
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert (field["label"]["text"], field["optional"]) == ("What should change?", False)
    assert (field["element"]["type"], field["element"]["multiline"]) == ("plain_text_input", True)
    assert json.loads(view["private_metadata"]) == {"action": "changes", "request": "1", "channel": "C1"}

    await submit(slack, view, "Shorter caption, and tag the brand", user=APPROVER)
    private = await said_privately(slack, 1)
    assert (private["channel"], private["user"]) == ("C1", APPROVER)
    assert "Asked Alice for changes to request #1" in private["text"]
    told = await slack.fake.wait_for(lambda: thread(slack, ts))
    assert "<@U1> Carol asks for changes to request #1" in told[0]["text"]
    assert "Shorter caption, and tag the brand" in told[0]["text"]
    update = await last_update(slack, 1)
    assert "Carol asked for changes" in update["text"]
    assert buttons(update) == []
    assert slack.creates() == []

    await slack.command("/edit", "#1 -- Shorter", user=AUTHOR)  # back to the approvers, buttons and all
    await slack.reply(3)
    edited = await last_update(slack, 2)
    assert [b["text"]["text"] for b in buttons(edited)] == ["Approve", "Request changes", "Reject"]


async def test_reject_asks_for_a_reason_and_the_author_is_told_it(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    view = await open_note_form(slack, "approval_reject", user=APPROVER, ts=ts)
    assert view["title"]["text"] == "Reject"
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    longest = "Off-brand: wrong colours." + " And more." * 100  # as long as the field takes, then cut by it
    await submit(slack, view, longest[: field["element"]["max_length"]], user=APPROVER)
    private = await said_privately(slack, 1)
    assert "Rejected request #1; nothing was sent" in private["text"]
    told = await slack.fake.wait_for(lambda: thread(slack, ts))
    assert "<@U1> Carol rejected request #1; nothing was sent." in told[0]["text"]
    assert "Off-brand: wrong colours" in told[0]["text"]
    update = await last_update(slack, 1)
    assert "Rejected by Carol" in update["text"]
    assert buttons(update) == []

    await press(slack, "approval_approve", user=APPROVER, ts=ts)  # a stale announcement's button, still shown
    assert "was rejected by Carol" in (await slack.reply(3))["text"]
    assert slack.creates() == []


async def test_a_non_approver_is_refused_before_writing_a_note(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    view = await open_note_form(slack, "approval_reject", user=BYSTANDER, ts=ts)
    assert "Only group @design can reject request #1." in json.dumps(view["blocks"])
    assert [b for b in view["blocks"] if b["type"] == "input"] == []  # no field to fill in for nothing
    assert "submit" not in view


async def test_a_note_sent_after_someone_else_decided_is_refused_privately(slack: SlackBot) -> None:
    slack.fake.groups[DESIGN].append(ADMIN)
    ts = await ask_for_approval(slack)
    view = await open_note_form(slack, "approval_changes", user=APPROVER, ts=ts)
    await press(slack, "approval_approve", user=ADMIN, ts=ts)  # while Carol is still typing
    assert (await slack.reply(3))["text"].startswith("Approved request #1.")
    await submit(slack, view, "Shorter caption", user=APPROVER)
    refused = await said_privately(slack, 1)
    assert (refused["channel"], refused["user"]) == ("C1", APPROVER)
    assert "was already approved by root" in refused["text"]
    assert len(slack.creates()) == 1


async def test_a_note_form_slack_will_not_open_says_what_to_type(slack: SlackBot) -> None:
    ts = await ask_for_approval(slack)
    slack.fake.fail("views.open", "expired_trigger_id")
    await press(slack, "approval_changes", user=APPROVER, ts=ts)
    said = await slack.reply(3)
    assert "Type `/changes #1 <note>` instead" in said["text"]
    assert said["replace_original"] is False
