"""The Home tab on Slack, through real slack-bolt over HTTP against the fake Slack and the sandbox: the calendar
published on `app_home_opened`, who sees which channel's posts, Cancel and Reschedule from the tab, the refresh
after a change, and Block Kit's limits with many posts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.blocks import notice_message
from adapters.slack.manifest import manifest
from bot.model import Caller, Command, PostStatus
from bot.notices import Digest, DigestAccount, DigestFailure, Notice
from sandbox import SandboxServer
from tests.adapters.slack_harness import SlackBot, slack_settings, start_bot
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack import (
    FakeSlack,
    block_kit_problems,
    home_action,
    home_opened,
    private_channel,
    public_channel,
    running_fake_slack,
    view_submission,
)

AUTHOR, BYSTANDER, ADMIN = "U1", "U2", "UADMIN"
REFRESH = 0.2  # seconds between two refreshes of the tabs, instead of 30


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
        fake.users[ADMIN] = {"id": ADMIN, "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
        fake.channels["C2"] = public_channel("C2", "launches")
        fake.channels["G1"] = private_channel("G1", "secret-plans")
        fake.members["G1"] = [AUTHOR, ADMIN]
        yield fake


@pytest.fixture
async def slack(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[SlackBot]:
    """The bot on Slack, its Home tabs refreshed every REFRESH seconds."""
    settings = slack_settings(tmp_path, fake_slack, sandbox)
    async with start_bot(settings, fake_slack, sandbox, clock, home_refresh_seconds=REFRESH) as bot:
        yield bot


async def schedule(slack: SlackBot, text: str, *, user: str = AUTHOR, channel: str = "C1") -> None:
    """A /post, answered and announced in its channel."""
    before = len(slack.fake.responses)
    await slack.command("/post", text, user=user, channel=channel)
    said = (await slack.reply(before + 1))["text"]
    assert "Scheduled for" in said, said
    await slack.fake.wait_for(lambda: all_announced(slack))


async def all_announced(slack: SlackBot) -> bool:
    number = 1
    while (stored := await slack.runtime.ctx.storage.requests.get(number)) is not None:
        if stored.announcement is None:
            return False
        number += 1
    return True


async def open_home(slack: SlackBot, user: str = AUTHOR) -> dict[str, Any]:
    """The tab Slack shows `user` once they open it."""
    before = len(published(slack, user))
    response = await slack.event(home_opened(user=user))
    assert response.status_code == 200
    views = await slack.fake.wait_for(lambda: len(published(slack, user)) > before and published(slack, user))
    view: dict[str, Any] = views[-1]
    assert block_kit_problems(view) == []
    return view


def published(slack: SlackBot, user: str) -> list[dict[str, Any]]:
    views = [c["view"] for c in slack.fake.of("views.publish") if c["user_id"] == user]
    return [json.loads(v) if isinstance(v, str) else v for v in views]


def texts(view: dict[str, Any]) -> str:
    """Everything the tab says, one block a line."""
    lines = []
    for block in view["blocks"]:
        if "text" in block:
            lines.append(block["text"]["text"])
        lines += [e["text"] for e in block.get("elements") or () if e.get("type") in ("mrkdwn", "plain_text")]
    return "\n".join(lines)


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    return found + [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def labelled(view: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return [b for b in buttons(view) if b["text"]["text"] == label]


async def modal(slack: SlackBot, count: int) -> dict[str, Any]:
    """The `count`-th view the bot wrote into a modal with views.update."""
    updates = await slack.fake.wait_for(
        lambda: len(slack.fake.of("views.update")) >= count and slack.fake.of("views.update")
    )
    view = updates[count - 1]["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_the_manifest_enables_the_home_tab_its_event_and_the_channel_scopes(tmp_path: Path) -> None:
    app = manifest(make_settings(tmp_path), socket_mode=True)
    assert app["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in app["settings"]["event_subscriptions"]["bot_events"]
    assert {"channels:read", "groups:read"} <= set(app["oauth_config"]["scopes"]["bot"])


async def test_opening_home_publishes_the_days_posts_counts_and_calendar_link(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1, acc_123 at tomorrow 9am -- Launch <!channel> day")
    await schedule(slack, "https://e.com/b.mp4 to acc_1 at dec 3 3pm -- Teaser", channel="C2")
    view = await open_home(slack)
    said = texts(view)
    assert view["type"] == "home"
    assert view["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Posts in the next 14 days", "emoji": True},
    }
    assert "*3 posts* you can see · times in America/New_York" in said
    assert "• Demo TikTok (@demo) on TikTok: 2" in said
    assert "• Brand TikTok (@brand-tiktok) on TikTok: 1" in said
    [calendar] = labelled(view, "Open the web calendar")
    assert calendar["url"].startswith(f"{slack.url.removesuffix('/slack/events')}/calendar?t=")
    assert "Today · Sat 28 Nov: nothing scheduled" in said
    assert "Tomorrow · Sun 29 Nov" in said
    assert "Mon 30 Nov – Wed 2 Dec: nothing scheduled" in said  # quiet days together, in one line
    assert "Thu 3 Dec" in said
    assert "Fri 4 Dec – Fri 11 Dec: nothing scheduled" in said
    assert (
        "*09:00*  Demo TikTok (@demo) on TikTok · _scheduled_\n“Launch &lt;!channel&gt; day” · <#C1> · <@U1> · #1"
        in said
    )
    assert "*15:00*  Demo TikTok (@demo) on TikTok · _scheduled_\n“Teaser” · <#C2> · <@U1> · #2" in said
    stored = await slack.runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.announcement is not None
    ts = stored.announcement.message_id
    opens = labelled(view, "Open in channel")
    assert f"https://slack.com/archives/C1/p{ts.replace('.', '')}" in {b["url"] for b in opens}
    assert len(labelled(view, "Cancel")) == 3
    assert {b["value"] for b in labelled(view, "Reschedule")} == {"1 C1", "2 C2"}


async def test_a_post_from_a_private_channel_is_shown_to_its_members_only(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Open")
    await schedule(slack, "https://e.com/b.mp4 to acc_1 at tomorrow 10am -- Hush", channel="G1")
    assert "Hush" in texts(await open_home(slack, AUTHOR))
    outsider = texts(await open_home(slack, BYSTANDER))
    assert "Open" in outsider
    assert "Hush" not in outsider
    assert "*1 post* you can see" in outsider  # nor counted
    infos = slack.fake.of("conversations.info")
    assert {c["channel"] for c in infos} == {"C1", "G1"}
    assert len(infos) == 2  # kept a minute, for every reader
    assert [c["channel"] for c in slack.fake.of("conversations.members")] == ["G1"]  # asked of private ones only


async def test_a_channel_slack_will_not_describe_is_seen_by_nobody(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Gone", channel="C404")
    view = await open_home(slack)
    assert "Gone" not in texts(view)
    assert "Nothing you can see is scheduled in the next 14 days." in texts(view)


async def test_a_reader_who_is_neither_author_nor_admin_gets_no_cancel_or_reschedule(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Mine")
    other = await open_home(slack, BYSTANDER)
    assert "Mine" in texts(other)
    assert "*15:00*" in texts(other)  # in their own zone (Paris)
    assert [b["text"]["text"] for b in buttons(other)] == ["Open the web calendar", "Open in channel"]
    admin = await open_home(slack, ADMIN)
    assert len(labelled(admin, "Cancel")) == len(labelled(admin, "Reschedule")) == 1


async def test_cancel_from_home_runs_cancel_and_shows_the_answer_in_a_modal(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Going")
    view = await open_home(slack)
    [cancel] = labelled(view, "Cancel")
    assert cancel["confirm"]["confirm"]["text"] == "Cancel the post"  # Slack asks "are you sure?" first
    response = await slack.interact(home_action(cancel["action_id"], cancel["value"]))
    assert response.status_code == 200
    answer = await modal(slack, 1)
    [opened] = slack.fake.of("views.open")
    assert "Cancelling request #1" in json.dumps(opened["view"])
    assert answer["title"]["text"] == "Cancel a post"
    [post_id] = await post_ids(slack, 1)
    assert f"Cancelled `{post_id}` (Demo TikTok (@demo) on TikTok)." in texts(answer)
    after = await slack.fake.wait_for(
        lambda: "cancelled" in texts(published(slack, AUTHOR)[-1]) and published(slack, AUTHOR)[-1]
    )
    assert "_cancelled_" in texts(after)
    assert labelled(after, "Cancel") == []  # gone out of reach


async def test_cancel_of_several_posts_asks_the_cores_question_in_the_modal(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1, acc_123 at tomorrow 9am -- Both")
    view = await open_home(slack)
    cancel = labelled(view, "Cancel")[0]
    await slack.interact(home_action(cancel["action_id"], cancel["value"]))
    question = await modal(slack, 1)
    assert "Cancel these 2 posts of request #1?" in texts(question)
    yes, no = buttons(question)
    assert (yes["text"]["text"], no["text"]["text"]) == ("Cancel them", "Keep them")
    assert len(slack.sandbox.state.posts) == 2  # nothing cancelled before the answer
    await slack.interact(
        home_action(
            yes["action_id"],
            yes["value"],
            view_id="V1",
            view_type="modal",
            private_metadata=question["private_metadata"],
        )
    )
    answer = await modal(slack, 2)
    assert texts(answer).count("Cancelled `") == 2
    stored = await slack.runtime.ctx.storage.posts.of_requests([1])
    assert {p.status for p in stored[1]} == {PostStatus.CANCELLED}


async def test_someone_else_pressing_cancel_is_told_the_cores_refusal(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Mine")
    await slack.interact(home_action("home_cancel", "1 C1", user=BYSTANDER, view_id="VHOMEU2"))
    answer = await modal(slack, 1)
    assert "Only Alice, who scheduled it, or an admin can cancel request #1." in texts(answer)


async def post_ids(slack: SlackBot, request: int) -> list[str]:
    return [p.id for p in (await slack.runtime.ctx.storage.posts.of_requests([request]))[request]]


def when(text: str) -> dict[str, Any]:
    return {"when": {"when": {"type": "plain_text_input", "value": text}}}


async def open_reschedule(slack: SlackBot) -> dict[str, Any]:
    view = await open_home(slack)
    [reschedule] = labelled(view, "Reschedule")
    await slack.interact(home_action(reschedule["action_id"], reschedule["value"]))
    opened = await slack.fake.wait_for(lambda: slack.fake.of("views.open"))
    form = opened[-1]["view"]
    return json.loads(form) if isinstance(form, str) else form


async def test_reschedule_from_home_moves_the_post_and_shows_the_answer(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Moving")
    form = await open_reschedule(slack)
    assert form["callback_id"] == "home_reschedule_form"
    [field] = [b for b in form["blocks"] if b["type"] == "input"]
    assert field["element"]["type"] == "plain_text_input"
    assert "tomorrow 9am, friday 17:30, in 2 hours" in field["hint"]["text"]
    response = await slack.interact(
        view_submission(when("dec 2 4pm"), form["private_metadata"], callback_id=form["callback_id"])
    )
    assert response.status_code == 200
    assert response.json()["response_action"] == "update"  # the form says it is moving the post
    answer = await modal(slack, 1)
    [post_id] = await post_ids(slack, 1)
    assert f"Moved `{post_id}` (Demo TikTok (@demo) on TikTok) to Wed 2 December 2026, 16:00 EST" in texts(answer)
    moved = await slack.fake.wait_for(
        lambda: "Wed 2 Dec" in texts(published(slack, AUTHOR)[-1]) and published(slack, AUTHOR)[-1]
    )
    assert "*16:00*" in texts(moved)


async def test_a_time_that_cannot_be_read_is_shown_under_the_field(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Moving")
    form = await open_reschedule(slack)
    response = await slack.interact(
        view_submission(when("whenever"), form["private_metadata"], callback_id=form["callback_id"])
    )
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"when"}
    assert "`" not in answer["errors"]["when"]
    assert slack.fake.of("views.update") == []  # the form stays as it was, with what was typed
    [post] = (await slack.runtime.ctx.storage.posts.of_requests([1]))[1]
    assert post.scheduled_time is not None
    assert post.scheduled_time.astimezone(UTC).hour == 14  # not moved: still 9:00 in New York


async def test_the_tab_is_published_again_after_a_change_within_the_refresh(slack: SlackBot) -> None:
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- First")
    await open_home(slack)
    await open_home(slack, BYSTANDER)
    await schedule(slack, "https://e.com/b.mp4 to acc_1 at tomorrow 11am -- Second", user=BYSTANDER)
    changed = time.monotonic()

    def shows_second(user: str) -> dict[str, Any] | None:
        view = published(slack, user)[-1]
        return view if "Second" in texts(view) and len(labelled(view, "Open in channel")) == 2 else None

    fresh = await slack.fake.wait_for(lambda: shows_second(AUTHOR), timeout=5)
    assert time.monotonic() - changed < 2  # a few refreshes of REFRESH seconds, not Slack's next app_home_opened
    assert "*2 posts*" in texts(fresh)
    await slack.fake.wait_for(lambda: shows_second(BYSTANDER), timeout=5)
    count = len(published(slack, AUTHOR))
    await asyncio.sleep(REFRESH * 5)
    assert len(published(slack, AUTHOR)) == count  # nothing changed since: nothing published (nor a new link)


async def test_two_hundred_posts_fit_slacks_limits_and_the_rest_are_counted(slack: SlackBot, clock: FakeClock) -> None:
    """Made through the core, not /post over HTTP, to be quick: the tab is what is tested."""
    assert "Nothing you can see is scheduled" in texts(await open_home(slack))  # and the bot has learnt its workspace
    caller = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id=AUTHOR, display_name="Alice")
    start = clock().replace(hour=14, minute=0, second=0, microsecond=0)
    for n in range(100):  # two accounts each
        at = start + timedelta(days=1 + n % 13, minutes=3 * n)
        text = f"https://e.com/{n}.mp4 to acc_1, acc_123 at {at:%b} {at.day} {at:%H:%M} -- Post {n} {'&<x>' * 540}"
        reply = await slack.runtime.core.handle(Command(name="post", text=text, caller=caller))
        assert "Scheduled for" in reply.text, reply.text
    view = await open_home(slack)
    assert len(view["blocks"]) <= 100
    assert block_kit_problems(view) == []
    said = texts(view)
    assert "*200 posts* you can see" in said
    shown = said.count("· <@U1> ·")
    assert 0 < shown < 200
    more = view["blocks"][-1]
    assert more["text"]["text"] == f"…and {200 - shown} more posts: open the web calendar to see them all."
    assert more["accessory"]["url"].startswith("http://127.0.0.1:")


async def test_a_workspace_the_bot_does_not_serve_gets_no_tab(slack: SlackBot) -> None:
    response = await slack.event(home_opened(user="U9", team="T9"))
    assert response.status_code == 200  # acknowledged, and nothing more
    await open_home(slack)  # an event from the served workspace, handled after it
    assert published(slack, "U9") == []


def test_a_digest_links_each_failure_to_its_announcement_on_slack() -> None:
    failure = DigestFailure(request_id=12, post_id="post_12", channel_id="C1", message_id="1700000000.000200")
    digest = Digest(
        week="Mon 2 Nov",
        zone="America/New_York",
        workspace_id="T1",
        past=(DigestAccount(account="Brand <TikTok>", counts=(("failed", 1), ("live", 3)), failures=(failure,)),),
        days=(),
        empty=("Mon 2 Nov",),
    )
    notice = Notice.of_digest(digest)
    text = notice_message([notice])["text"]
    assert (
        "• Brand &lt;TikTok&gt;: 1 failed, 3 live (failed: <https://slack.com/archives/C1/p1700000000000200|#12>)"
        in text
    )


async def test_a_guest_sees_only_the_public_channels_they_are_in(slack: SlackBot) -> None:
    guest = "U7"
    slack.fake.users[guest] = {"id": guest, "name": "gus", "tz": "UTC", "profile": {}, "is_restricted": True}
    slack.fake.members["C1"] = [AUTHOR, guest]
    await schedule(slack, "https://e.com/a.mp4 to acc_1 at tomorrow 9am -- Open")
    await schedule(slack, "https://e.com/b.mp4 to acc_1 at tomorrow 10am -- Elsewhere", channel="C2")
    seen = texts(await open_home(slack, guest))
    assert "Open" in seen  # a public channel they are in
    assert "Elsewhere" not in seen  # one they are not in, public or not
    assert "Elsewhere" in texts(await open_home(slack, BYSTANDER))  # a full member reads every public channel
