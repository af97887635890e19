"""`/posts export` on Slack through real slack-bolt and slack_sdk, against the fake Slack Web API and the sandbox:
the CSV goes up in Slack's three steps (files.getUploadURLExternal, the bytes to the URL it gives,
files.completeUploadExternal) and is shared in the person's direct messages with the bot, else in the channel."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import pytest

from bot.exporting import COLUMNS
from bot.texts import FILE_IN_CHANNEL, FILE_IN_DIRECT_MESSAGES
from tests.adapters.slack_harness import SlackBot
from tests.fakes.slack import FakeSlack, running_fake_slack

EXPORT_NAME = "posts-C1-20261128-1000.csv"  # the clock: Saturday 28 November 2026, 10:00 in New York


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "America/New_York", "profile": {"display_name": "Alice"}}
        yield fake


async def exported(slack: SlackBot) -> str:
    """Schedule a post, export the channel, and return the answer's text."""
    await slack.command("/post", "https://e.com/v.mp4 to acc_1 at tomorrow noon -- =SUM(A1:A9) launch")
    assert "Scheduled" in (await slack.reply())["text"]
    await slack.command("/posts", "export")
    return str((await slack.reply(2))["text"])


def rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def test_the_export_is_uploaded_in_three_steps_to_the_persons_direct_messages(slack: SlackBot) -> None:
    text = await exported(slack)

    assert text.endswith(FILE_IN_DIRECT_MESSAGES)
    assert "1 request, one row each" in text
    fake = slack.fake
    [asked] = fake.of("files.getUploadURLExternal")
    [upload] = fake.uploads.values()
    assert (asked["filename"], int(asked["length"])) == (EXPORT_NAME, len(upload.content or b""))
    [completed] = fake.of("files.completeUploadExternal")
    assert json.loads(completed["files"]) == [{"id": upload.file_id, "title": EXPORT_NAME}]
    assert completed["channel_id"] == "DU1"  # the direct message's ID: Slack refuses a user's
    [shared] = fake.shared
    assert (shared.name, shared.channel_id) == (EXPORT_NAME, "DU1")
    [row] = rows(shared.content)
    assert (row["caption"], row["accounts"], row["author"]) == ("'=SUM(A1:A9) launch", "acc_1", "Alice")
    introduction, file_message = fake.messages["DU1"]
    assert str(introduction["text"]).startswith("From <#C1>: ")
    assert file_message["files"][0]["name"] == EXPORT_NAME
    order = [c.method for c in fake.calls if c.method.startswith("files.") or c.params.get("channel") == "U1"]
    assert order == ["chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal"]
    assert not any("files" in message for message in fake.messages.get("C1", []))  # nothing in the channel


async def test_a_direct_message_slack_will_not_take_leaves_the_file_in_the_channel(slack: SlackBot) -> None:
    slack.fake.fail("files.completeUploadExternal", "channel_not_found")

    text = await exported(slack)

    assert text.endswith(FILE_IN_CHANNEL)
    assert len(slack.fake.of("files.getUploadURLExternal")) == 2  # uploaded again for the channel
    [shared] = slack.fake.shared
    assert shared.channel_id == "C1"
    assert str(shared.initial_comment).startswith("From <#C1>: ")
    assert len(rows(shared.content)) == 1


async def test_an_app_without_files_write_says_what_an_admin_must_add(slack: SlackBot) -> None:
    slack.fake.fail(
        "files.getUploadURLExternal", "missing_scope", needed="files:write", provided="commands,chat:write,files:read"
    )

    text = await exported(slack)

    assert "Slack refused the file (`missing_scope`), so it could not be sent." in text
    assert "An admin adds the `files:write` scope to the app and reinstalls it." in text
    assert slack.fake.of("files.completeUploadExternal") == []
    assert slack.fake.shared == []
