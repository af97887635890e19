"""What the sandbox holds: its accounts, its posts (in memory, or in a SQLite file), the faults to inject, the
requests it received, and its clock. Posts settle as time passes, read by read, as the real API shows them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.faults import Fault
from storage.files import DatabaseFile, prepare

RENDER_TIME = timedelta(minutes=3)


def seed_accounts() -> dict[str, dict[str, Any]]:
    """Ready accounts, one per platform plus the one the examples call acc_1, and one still warming up."""
    base = {
        "phoneId": "phone_sandbox",
        "bio": "",
        "warmupDay": 7,
        "profilePicUrl": None,
        "createdAt": "2026-01-05T09:00:00Z",
        "accountStatus": "ready",
    }
    return {
        "acc_123": {
            **base,
            "accountId": "acc_123",
            "platform": "tiktok",
            "name": "Brand TikTok",
            "username": "brand-tiktok",
        },
        "acc_456": {
            **base,
            "accountId": "acc_456",
            "platform": "instagram",
            "name": "Brand Instagram",
            "username": "brand-ig",
        },
        "acc_1": {
            **base,
            "accountId": "acc_1",
            "platform": "tiktok",
            "name": "Demo TikTok",
            "username": "demo",
        },
        "acc_789": {  # a new account in its warm-up: listed, but no post goes to it yet
            **base,
            "accountId": "acc_789",
            "platform": "tiktok",
            "name": "Fresh TikTok",
            "username": "fresh",
            "accountStatus": "warming_up",
            "warmupDay": 3,
        },
    }


@dataclass(frozen=True)
class Received:
    """One request the sandbox received, for tests to assert on."""

    method: str
    path: str
    body: Any
    authorization: str
    at: datetime  # by the sandbox's clock, when it arrived


def state_beside(database: Path) -> DatabaseFile:
    """The sandbox's file beside BOT_DATABASE, where `infinipost-bot run` and the console keep its posts."""
    return DatabaseFile(
        path=database.parent / "sandbox.db",
        name="The sandbox's file beside BOT_DATABASE",
        noun="the sandbox's file",
        fix="move it away, or set BOT_DATABASE to a file in another folder",
        fix_access="let the bot write it, or set BOT_DATABASE to a file in another folder",
    )


def state_option(path: Path) -> DatabaseFile:
    """The sandbox's file as `infinipost-bot sandbox --state` names it."""
    return DatabaseFile(
        path=path,
        name="--state",
        noun="the sandbox's file",
        fix="pass --state a new file or the sandbox's own one",
        fix_access="pass --state a file the sandbox may write",
    )


class PostFile(MutableMapping[str, dict[str, Any]]):
    """The sandbox's posts, kept in a SQLite file: each post is saved when it is created or changes."""

    def __init__(self, file: DatabaseFile) -> None:
        prepare(file)  # refused in one sentence, as BOT_DATABASE is; created private, since posts hold captions
        self._db = sqlite3.connect(file.path, isolation_level=None)  # autocommit: one statement per change
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a sandbox: a power cut may lose the last post, no more
            self._db.execute("CREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY, seq INTEGER, post TEXT NOT NULL)")
            rows = self._db.execute("SELECT id, post FROM posts ORDER BY seq").fetchall()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise file.refusal(exc) from exc
        self._posts: dict[str, dict[str, Any]] = {post_id: json.loads(post) for post_id, post in rows}

    def save(self, post: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO posts (id, seq, post) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM posts), ?) "
            "ON CONFLICT (id) DO UPDATE SET post = excluded.post",
            (post["postId"], json.dumps(post)),
        )

    def close(self) -> None:
        self._db.close()

    def __getitem__(self, post_id: str) -> dict[str, Any]:
        return self._posts[post_id]

    def __setitem__(self, post_id: str, post: dict[str, Any]) -> None:
        self._posts[post_id] = post
        self.save(post)

    def __delitem__(self, post_id: str) -> None:
        del self._posts[post_id]
        self._db.execute("DELETE FROM posts WHERE id = ?", (post_id,))

    def __iter__(self) -> Iterator[str]:
        return iter(self._posts)

    def __len__(self) -> int:
        return len(self._posts)


@dataclass
class SandboxState:
    """All the sandbox knows. Tests read it and set it directly: its accounts, faults and the requests received."""

    clock: Callable[[], datetime]
    accounts: dict[str, dict[str, Any]] = field(default_factory=seed_accounts)
    posts: MutableMapping[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    create_calls: int = 0
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return self.clock() + self.offset

    def settle(self, post: dict[str, Any]) -> dict[str, Any]:
        """Finish a render, and move a due post to its final state; reads see posts as of now."""
        before = post["status"]
        if post["status"] == "pending_render" and parse_time(post["createdAt"]) + RENDER_TIME <= self.now():
            post["status"] = "generated"
        if post["status"] == "generated" and parse_time(post["scheduledTime"]) <= self.now():
            urls = post["contentUrl"] if isinstance(post["contentUrl"], list) else [post["contentUrl"]]
            if any("fail" in url for url in urls):
                post["status"] = "failed"
            elif not any("stuck" in url for url in urls):
                post["status"] = "posted"
                post["postedAt"] = post["scheduledTime"]
        if post["status"] != before:
            self.saved(post)
        return post

    def saved(self, post: dict[str, Any]) -> None:
        """Keep a changed post, where the posts are kept in a file."""
        if isinstance(self.posts, PostFile):
            self.posts.save(post)

    def take_fault(self, route: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.route in (route, "any") and fault.path in (None, path):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None


def parse_time(value: str) -> datetime:
    """An ISO 8601 time that must carry its offset, as the API requires."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed
