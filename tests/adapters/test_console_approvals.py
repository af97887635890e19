"""Approvals as a person tries them in the console: several people at one terminal (`/as <name>`), one thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import console


def test_a_request_waits_for_its_approvers_gets_changes_and_is_approved(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/approvals required by alice, bob",
        "/post https://e.com/v.mp4 to acc_1 in 2 hours -- Launch",
        "yes",
        "/as carol",
        "/approve #1",
        "/as alice",
        "/changes #1 Say what launches",
        "/approve #1",
        "/as",
        "/edit #1 -- Our spring line launches today",
        "/as bob",
        "/approve #1",
        "/approve #1",
        "/posts",
    )
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "[sandbox] Posts from this channel now wait for approval by @alice, @bob before anything is sent" in out
    assert "Approval: Needed from @alice, @bob before anything is sent" in out
    assert "[sandbox] Request #1 waits for approval by @alice, @bob. Nothing is sent until" in out
    assert "asks to post a video to Demo TikTok (@demo) on TikTok for " in out
    assert "Waiting for approval by @alice, @bob." in out
    assert "[sandbox] Only @alice, @bob can approve request #1." in out  # carol
    assert "↳ in thread of message 1: [sandbox] ✏️ @" in out  # the author is told, in the thread, with the note
    assert "> Say what launches" in out
    assert "waits for " in out
    assert "to make the changes asked by alice (Say what launches)" in out
    assert "[sandbox] Edited request #1; it waits for approval by @alice, @bob again." in out
    assert "it waits for your approval again" in out
    assert "[sandbox] Approved request #1. Scheduled for" in out
    assert "[sandbox] Request #1 was already approved by bob and scheduled." in out
    assert "✅ Approved by bob" in out
    assert "→ approved by bob" in out  # the history in /posts
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        (state,) = db.execute("SELECT state FROM requests WHERE id = 1").fetchone()
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log WHERE request_id = 1 ORDER BY id")]
        caption = db.execute("SELECT json_extract(request_json, '$.caption') FROM requests").fetchone()[0]
    assert state == "sent"
    assert caption == "Our spring line launches today"
    assert actions == ["ask_approval", "request_changes", "edit", "approve", "schedule"]


def test_a_rejected_or_cancelled_request_sends_nothing_and_says_why(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/approvals required by alice",
        "/post https://e.com/a.mp4 to acc_1 in 2 hours -- first",
        "yes",
        "/post https://e.com/b.mp4 to acc_1 in 3 hours -- second",
        "yes",
        "/as alice",
        "/reject #1",
        "/reject #1 Off-brand",
        "/as",
        "/cancel #2",
        "/as alice",
        "/approve #2",
        "/posts past",
    )
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "Give a reason: `/reject #1 <reason>`" in out
    assert "[sandbox] Rejected request #1; nothing was sent" in out
    assert "🚫 Rejected by alice" in out
    assert "[sandbox] Cancelled request #2; nothing was sent." in out
    assert "Request #2 was cancelled by " in out
    assert "rejected: nothing was sent" in out
    assert "cancelled before approval: nothing was sent" in out
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        states = [row[0] for row in db.execute("SELECT state FROM requests ORDER BY id")]
    assert states == ["rejected", "withdrawn"]
    assert "[sandbox] Scheduled" not in out
