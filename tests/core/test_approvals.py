"""Approvals, as a channel lives them: settings, a request waiting for its approvers, the three decisions, edits,
races, reminders and expiry, and the history left in the audit log and in `/posts`."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.runtime import Runtime, start_runtime
from bot.texts import COMMAND_EXAMPLES
from bot.tracking import Tracker
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

POST = "/post https://e.com/v.mp4 to acc_1 at tomorrow 9am -- We're live"  # Sun 29 Nov 2026, 09:00 New York


def admin(chat: ChatHarness) -> Any:
    return chat.caller("U9", is_admin=True)


def creates(sandbox: SandboxServer) -> list[Any]:
    return [r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]


def audit(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT user_id, action, detail FROM audit_log WHERE request_id = 1 ORDER BY id")
        return [(str(u), str(a), str(d)) for u, a, d in rows]


async def requiring(chat: ChatHarness, approvers: str = "<@U2>, <!subteam^S7|@design>") -> None:
    reply = await chat.say(f"/approvals required by {approvers}", caller=admin(chat))
    assert not reply.error, reply.text


@pytest.fixture
async def asked(chat: ChatHarness) -> ChatHarness:
    """A channel that requires approval by U2 or the design group, and U1's /post waiting for it."""
    await requiring(chat)
    reply = await chat.say(POST)
    assert not reply.error, reply.text
    return chat


async def test_approval_settings_are_shown_and_only_admins_change_them(chat: ChatHarness) -> None:
    assert "need no approval" in (await chat.say("/approvals")).text
    refused = await chat.say("/approvals required by <@U2>")
    assert refused.error
    assert "Only an admin" in refused.text
    set_up = await chat.say("/approvals required by <@U2|bob> and <!subteam^S7|@design>", caller=admin(chat))
    assert set_up.text.startswith("Posts from this channel now wait for approval by @bob, group @design")
    allowed = await chat.say("/approvals authors-may-approve yes", caller=admin(chat))
    assert "authors may approve their own" in allowed.text
    assert "wait for approval by @bob, group @design" in (await chat.say("/approvals")).text
    off = await chat.say("/approvals off", caller=admin(chat))
    assert off.text == "Posts from this channel need no approval now."


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("/approvals required by bob", "`bob` is not someone I can tell apart"),
        ("/approvals required by", "Write `/approvals required by` and the approvers"),
        ("/approvals required <@U2>", "Write `/approvals required by` and the approvers"),
        ("/approvals authors-may-approve maybe", "`/approvals authors-may-approve yes`"),
        ("/approvals sometimes", "`/approvals` shows this channel's approval settings"),
    ],
)
async def test_bad_approval_settings_say_how_to_write_them(chat: ChatHarness, typed: str, says: str) -> None:
    reply = await chat.say(typed, caller=admin(chat))
    assert reply.error
    assert says in reply.text
    assert "need no approval" in (await chat.say("/approvals")).text


async def test_a_post_in_a_channel_that_requires_approval_waits_and_sends_nothing(
    asked: ChatHarness, sandbox: SandboxServer
) -> None:
    assert not creates(sandbox)
    (announcement,) = asked.channel
    assert announcement.text.startswith("🗳️ <@U1> asks to post a video to Demo TikTok (@demo) on TikTok for ")
    assert "(request #1)" in announcement.text
    assert "Waiting for approval by <@U2>, @design." in announcement.text
    assert announcement.notices[0].asks_for_approval
    listed = (await asked.say("/posts pending")).text
    assert "#1 · Sun 29 November 2026, 09:00 EST" in listed
    assert "waiting for approval" in listed
    assert "asked by user-U1" in listed


async def test_with_a_preview_the_request_waits_once_its_author_confirms(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await requiring(chat)
        preview = await chat.say(POST)
        assert ("Approval", "Needed from @U2, group @design before anything is sent") in preview.fields
        assert not chat.channel
        waiting = await chat.say(f"/confirm {preview.confirm_token}")
        assert waiting.text.startswith("Request #1 waits for approval by @U2")
        assert chat.channel[0].notices[0].asks_for_approval
        assert not creates(sandbox)


async def test_only_an_approver_can_approve_and_the_refusal_names_them(
    asked: ChatHarness, sandbox: SandboxServer
) -> None:
    stranger = await asked.say("/approve #1", caller=asked.caller("U3"))
    assert stranger.error
    assert stranger.text == "Only @U2, group @design can approve request #1."
    own = await asked.say("/approve #1", caller=asked.caller("U1", groups=("S7",)))
    assert own.error
    assert "authors may not approve their own posts here" in own.text
    assert not creates(sandbox)


async def test_an_author_may_approve_their_own_where_the_channel_allows_it(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    await requiring(chat)
    await chat.say("/approvals authors-may-approve yes", caller=admin(chat))
    await chat.say(POST)
    approved = await chat.say("/approve #1", caller=chat.caller("U1", groups=("S7",)))
    assert not approved.error, approved.text
    assert len(creates(sandbox)) == 1


async def test_approval_sends_the_create_and_the_thread_and_announcement_say_who_approved(
    asked: ChatHarness, sandbox: SandboxServer, runtime: Runtime
) -> None:
    approved = await asked.say("/approve #1", caller=asked.caller("U4", groups=("S7",)))
    assert approved.text.startswith("Approved request #1. Scheduled for Sun 29 November 2026, 09:00 EST")
    (create,) = creates(sandbox)
    assert create.body["caption"] == "We're live"
    edit, told = asked.channel[1:]
    assert edit.edits == "m1"
    assert edit.text.startswith("📅 <@U1> scheduled a video for 2026-11-29T14:00Z (request #1):")
    assert "✅ Approved by user-U4 2026-11-28T15:00Z." in edit.text
    assert not edit.notices[0].asks_for_approval  # the buttons are gone
    assert told.thread == "m1"
    assert told.text == "✅ <@U1> user-U4 approved request #1; it is scheduled for 2026-11-29T14:00Z."
    actions = [action for _, action, _ in audit(runtime.ctx.settings.database_file or Path())]
    assert actions == ["ask_approval", "approve", "schedule"]


async def test_two_approvers_pressing_at_once_send_one_create(asked: ChatHarness, sandbox: SandboxServer) -> None:
    first, second = await asyncio.gather(
        asked.say("/approve #1", caller=asked.caller("U2")),
        asked.say("/approve #1", caller=asked.caller("U4", groups=("S7",))),
    )
    assert len(creates(sandbox)) == 1
    assert len(sandbox.state.posts) == 1
    winner, loser = (first, second) if first.text.startswith("Approved") else (second, first)
    assert winner.text.startswith("Approved request #1.")
    assert loser.error
    assert loser.text.startswith("Request #1 was")  # approved by the other, and being sent or already scheduled


@pytest.mark.parametrize(
    ("first", "says"),
    [
        ("/cancel #1", "Request #1 was cancelled by user-U1; nothing was sent."),
        ("/reject #1 Off-brand", "Request #1 was rejected by user-U2 (Off-brand); nothing was sent."),
    ],
)
async def test_approve_after_a_cancel_or_a_reject_is_refused_with_what_happened(
    asked: ChatHarness, sandbox: SandboxServer, first: str, says: str
) -> None:
    done = await asked.say(first, caller=asked.caller("U1" if first.startswith("/cancel") else "U2"))
    assert not done.error, done.text
    late = await asked.say("/approve #1", caller=asked.caller("U4", groups=("S7",)))
    assert late.error
    assert late.text == says
    assert not creates(sandbox)


async def test_a_reject_closes_the_request_and_tells_the_author_why(asked: ChatHarness, runtime: Runtime) -> None:
    refused = await asked.say("/reject #1", caller=asked.caller("U2"))
    assert refused.error
    assert "Give a reason" in refused.text
    rejected = await asked.say("/reject #1 Off-brand colours", caller=asked.caller("U2"))
    assert rejected.text.startswith("Rejected request #1; nothing was sent")
    edit, told = asked.channel[1:]
    assert "🚫 Rejected by user-U2 2026-11-28T15:00Z:\n> Off-brand colours" in edit.text
    assert not edit.notices[0].asks_for_approval
    assert told.thread == "m1"
    assert told.text == "🚫 <@U1> user-U2 rejected request #1; nothing was sent.\n> Off-brand colours"
    assert "rejected by user-U2" in (await asked.say("/posts")).text
    (_, action, detail) = audit(runtime.ctx.settings.database_file or Path())[-1]
    assert (action, detail) == ("reject", '{"note": "Off-brand colours"}')


async def test_changes_go_to_the_author_and_an_edit_goes_back_to_the_approvers(
    asked: ChatHarness, sandbox: SandboxServer
) -> None:
    noted = await asked.say("/changes #1 Shorter caption, please", caller=asked.caller("U2"))
    assert noted.text.startswith("Asked user-U1 for changes to request #1")
    told = asked.channel[-1]
    assert told.thread == "m1"
    assert told.text.startswith("✏️ <@U1> user-U2 asks for changes to request #1:\n> Shorter caption, please")
    waiting = await asked.say("/approve #1", caller=asked.caller("U2"))
    assert waiting.error
    assert "waits for user-U1 to make the changes asked by user-U2" in waiting.text
    stranger = await asked.say("/edit #1 -- Live!", caller=asked.caller("U3"))
    assert stranger.error
    edited = await asked.say("/edit #1 at tomorrow 10am -- Live!")
    assert edited.text.startswith("Edited request #1; it waits for approval by @U2, group @design again.")
    assert "When: Sun 29 November 2026, 10:00 EST" in edited.text
    announcement, thread = asked.channel[-2:]
    assert announcement.edits == "m1"
    assert "> Live!" in announcement.text
    assert announcement.notices[0].asks_for_approval  # the buttons are back
    assert thread.text.startswith("✏️ user-U1 edited request #1: <@U2>, @design, it waits for your approval again")
    assert thread.notices[0].approvers_to_notify
    approved = await asked.say("/approve #1", caller=asked.caller("U2"))
    assert not approved.error, approved.text
    (create,) = creates(sandbox)
    assert (create.body["caption"], create.body["scheduledTime"]) == ("Live!", "2026-11-29T15:00:00Z")
    history = (await asked.say("/posts")).text
    assert "asked by user-U1 Sat 28 Nov 10:00 → changes asked by user-U2 Sat 28 Nov 10:00 (“Shorter caption" in history
    assert "→ edited by user-U1 Sat 28 Nov 10:00 (“time, caption”) → approved by user-U2" in history


async def test_an_edit_of_a_waiting_request_can_change_its_accounts_media_and_sound(asked: ChatHarness) -> None:
    edited = await asked.say("/edit #1 https://e.com/other.mp4 to acc_123 sound https://e.com/a.mp3")
    assert not edited.error, edited.text
    assert "Accounts: Brand TikTok" in edited.text
    assert "Sound: https://e.com/a.mp3" in edited.text
    stored = await asked.core.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.request.media_urls == ("https://e.com/other.mp4",)
    nothing = await asked.say("/edit #1")
    assert nothing.error
    assert "Say what to change" in nothing.text


async def test_approving_after_the_time_asks_for_a_new_time_or_now(
    asked: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    clock.advance(hours=22, minutes=57)  # 08:57, three minutes before the post's time
    late = await asked.say("/approve #1", caller=asked.caller("U2"))
    assert late.error
    assert late.text.startswith("Request #1 is due Sun 29 November 2026, 09:00 EST (America/New_York), which is less")
    assert "`/approve #1 now`" in late.text
    clock.advance(minutes=10)  # past its time, before the tracker's round lets it expire
    passed = await asked.say("/approve #1", caller=asked.caller("U2"))
    assert "which has passed; nothing goes out late on its own" in passed.text
    too_soon = await asked.say("/approve #1 in 2 minutes", caller=asked.caller("U2"))
    assert too_soon.error
    assert not creates(sandbox)
    later = await asked.say("/approve #1 in 1 hour", caller=asked.caller("U2"))
    assert later.text.startswith("Approved request #1. Scheduled for Sun 29 November 2026, 10:07 EST")
    (create,) = creates(sandbox)
    assert create.body["scheduledTime"] == "2026-11-29T15:07:00Z"


async def test_approve_now_sends_it_right_away(asked: ChatHarness, sandbox: SandboxServer, clock: FakeClock) -> None:
    clock.advance(hours=23)
    now = await asked.say("/approve #1 now", caller=asked.caller("U2"))
    assert now.text.startswith("Approved request #1. Scheduled to go out now")
    (create,) = creates(sandbox)
    assert "scheduledTime" not in create.body


async def test_approvers_are_reminded_once_and_a_request_still_waiting_at_its_time_expires_once(
    asked: ChatHarness, sandbox: SandboxServer, clock: FakeClock, runtime: Runtime
) -> None:
    tracker = Tracker(runtime.ctx)
    clock.advance(hours=21, minutes=59)  # 61 minutes before its time: too early
    assert (await tracker.cycle()).approvals == 0
    clock.advance(minutes=1)
    assert (await tracker.cycle()).approvals == 1
    await asked.core.deliver_notices()
    reminder = asked.channel[-1]
    assert reminder.thread == "m1"
    assert reminder.text.startswith("⏰ <@U2>, @design: request #1 by user-U1 is due 2026-11-29T14:00Z")
    clock.advance(minutes=30)
    assert (await tracker.cycle()).approvals == 0  # reminded once
    clock.advance(minutes=30)
    assert (await tracker.cycle()).approvals == 1
    await asked.core.deliver_notices()
    announcement, expired = asked.channel[-2:]
    assert "⌛ Expired 2026-11-29T14:00Z: nobody approved it before its time. Nothing was sent." in announcement.text
    assert not announcement.notices[0].asks_for_approval
    assert expired.text.startswith("⌛ <@U1> request #1 was not approved by its time (2026-11-29T14:00Z)")
    assert "(<@U2>, @design were asked)" in expired.text
    clock.advance(minutes=30)
    assert (await tracker.cycle()).approvals == 0
    await asked.core.deliver_notices()
    assert len(asked.channel) == 4  # the announcement, the reminder, its expiry: said once
    late = await asked.say("/approve #1 now", caller=asked.caller("U2"))
    assert late.text == "Request #1 expired: nobody approved it before its time. Nothing was sent."
    assert not creates(sandbox)
    assert "expired: nobody approved it in time" in (await asked.say("/posts past")).text
    assert [a for _, a, _ in audit(runtime.ctx.settings.database_file or Path())] == [
        "ask_approval",
        "remind",
        "expire",
    ]


async def test_two_rounds_at_once_expire_a_request_once(asked: ChatHarness, clock: FakeClock, runtime: Runtime) -> None:
    clock.advance(days=1)
    counted = await asyncio.gather(Tracker(runtime.ctx).cycle(), Tracker(runtime.ctx).cycle())
    assert sum(c.approvals for c in counted) == 1
    await asked.core.deliver_notices()
    assert len([m for m in asked.channel if m.text.startswith("⌛ <@U1>")]) == 1


async def test_a_scheduled_post_is_edited_through_infinipost(chat: ChatHarness, sandbox: SandboxServer) -> None:
    scheduled = await chat.say(POST)
    assert not scheduled.error, scheduled.text
    edited = await chat.say("/edit #1 at tomorrow 11am -- New caption")
    assert edited.text.startswith("Edited request #1 at Infinipost (`post_")
    (patch,) = [r for r in sandbox.state.received if r.method == "PATCH"]
    assert patch.body["caption"] == "New caption"
    assert patch.body["scheduledTime"], patch.body["timezone"]
    (post,) = sandbox.state.posts.values()
    assert (post["caption"], post["scheduledTime"]) == ("New caption", "2026-11-29T16:00:00Z")
    assert "Sun 29 November 2026, 11:00 EST" in (await chat.say("/posts")).text
    assert chat.channel[-1].edits == "m1"
    assert "> New caption" in chat.channel[-1].text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("/edit #1 to acc_123", "Infinipost cannot change the accounts of a post already scheduled"),
        ("/edit #1 sound https://e.com/a.mp3", "cannot change the sound"),
        ("/edit #1 now", 'cannot change the time to "now"'),
    ],
)
async def test_what_infinipost_cannot_change_in_a_scheduled_post_is_refused_with_the_reason(
    chat: ChatHarness, sandbox: SandboxServer, typed: str, says: str
) -> None:
    await chat.say(POST)
    refused = await chat.say(typed)
    assert refused.error
    assert says in refused.text
    assert "`/cancel #1` and `/post` it again" in refused.text
    assert not [r for r in sandbox.state.received if r.method == "PATCH"]


async def test_approvals_survive_a_restart_of_the_bot(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        await requiring(chat)
        await chat.say(POST)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        approved = await chat.say("/approve #1", caller=chat.caller("U2"))
        assert approved.text.startswith("Approved request #1.")
        assert len(creates(sandbox)) == 1


async def test_every_help_example_of_approvals_works_as_written(chat: ChatHarness, sandbox: SandboxServer) -> None:
    await requiring(chat)
    for number in range(1, 5):
        await chat.say(f"/post https://e.com/{number}.mp4 to acc_1 in {number + 1} hours")
    approver = chat.caller("U2", is_admin=True)
    for name in ("approvals", "approve", "changes", "reject", "edit"):
        for example in COMMAND_EXAMPLES[name]:
            reply = await chat.say(example, caller=chat.caller("U1") if name == "edit" else approver)
            assert not reply.error, (example, reply.text)
    assert len(creates(sandbox)) == 2


async def test_a_note_of_up_to_a_thousand_characters_is_kept_whole_and_a_longer_one_refused(
    asked: ChatHarness,
) -> None:
    too_long = await asked.say(f"/changes #1 {'x' * 1001}", caller=asked.caller("U2"))
    assert too_long.error
    assert "a note or a reason takes at most 1,000" in too_long.text
    kept = await asked.say(f"/changes #1 {'y' * 1000}", caller=asked.caller("U2"))
    assert not kept.error, kept.text
    stored = await asked.core.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.approval is not None
    assert stored.approval.steps[-1].note == "y" * 1000


async def test_an_approval_of_a_version_edited_meanwhile_sends_nothing(
    asked: ChatHarness, sandbox: SandboxServer
) -> None:
    stored = await asked.core.ctx.storage.requests.get(1)
    assert stored is not None
    edited = await asked.say("/edit #1 -- A caption the approver never saw")  # the author edits ...
    assert not edited.error, edited.text
    approvals = asked.core.ctx.storage.requests
    stale = await approvals.transition(  # ... while an approval of what was shown before is being written
        1,
        from_states=("awaiting_approval",),
        to_state="sending",
        approval=stored.approval,
        approval_due=None,
        request_was=stored.request,
    )
    assert stale is None
    assert not creates(sandbox)
    approved = await asked.say("/approve #1", caller=asked.caller("U2"))  # the new version, looked at again
    assert not approved.error, approved.text
    (create,) = creates(sandbox)
    assert create.body["caption"] == "A caption the approver never saw"
