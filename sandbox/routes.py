"""A local stand-in for the Infinipost API, faithful to infinipost-api.md.

Used by the console and `infinipost-bot run` when no INFINIPOST_API_KEY is set, by `infinipost-bot sandbox` as
a standalone server, and by the tests. Posts move from scheduled to posted when their time comes (to failed when
their content URL contains "fail"; never, when it contains "stuck"); one whose content URL contains "render" is
`pending_render` for RENDER_TIME first. It starts with ready accounts for the README's examples.

Given a file, the sandbox keeps its posts there (SQLite), so that a restart of the bot finds them as it left
them, as the real API would; without one they live in memory (the tests). Paths under `/_sandbox/` are for
tests: inspect posts, move the clock, inject faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web import start_site
from storage.files import DatabaseFile, prepare

logger = logging.getLogger(__name__)

SANDBOX_KEY = "sk_test_sandbox"
EDIT_ZONES = {
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Paris",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
}
PAST_TOLERANCE = timedelta(seconds=60)
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


@dataclass
class Fault:
    """One injected misbehaviour; `times=None` keeps it until cleared."""

    # status | latency | reset | timeout_after_create | malformed | missing_fields | unknown_status | unknown_shape
    kind: str
    route: str = "any"  # create | read | any
    path: str | None = None  # only requests to this path, e.g. "/v1/accounts"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    times: int | None = 1
    fields: tuple[str, ...] = ("id", "postId")  # what missing_fields leaves out of each post
    items: int | None = None  # missing_fields: answer with only this many of the posts


@dataclass(frozen=True)
class Received:
    """One request the sandbox received, for tests to assert on."""

    method: str
    path: str
    body: Any
    authorization: str


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
        if post["status"] == "pending_render" and _parse_time(post["createdAt"]) + RENDER_TIME <= self.now():
            post["status"] = "generated"
        if post["status"] == "generated" and _parse_time(post["scheduledTime"]) <= self.now():
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
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None


class SandboxServer:
    """The sandbox as an aiohttp server on loopback. `async with SandboxServer() as sandbox: sandbox.url`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        state_file: DatabaseFile | None = None,
    ) -> None:
        self._file = PostFile(state_file) if state_file else None
        posts: MutableMapping[str, dict[str, Any]] = self._file if self._file is not None else {}
        self.state = SandboxState(clock=clock or (lambda: datetime.now(UTC)), posts=posts)
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The API base URL, as INFINIPOST_API_URL takes it."""
        return f"http://{self._host}:{self.port}/v1"

    async def __aenter__(self) -> Self:
        self._runner, self.port = await start_site(build_app(self.state), host=self._host, port=self._port)
        logger.info("Infinipost sandbox listening on %s", self.url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._file is not None:
            self._file.close()


STATE = web.AppKey("state", SandboxState)
FAULT_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}


def build_app(state: SandboxState) -> web.Application:
    app = web.Application(middlewares=[_json_errors, _record, _faults, _auth])
    app[STATE] = state
    app.add_routes(
        [
            web.post("/v1/posts", _create),
            web.get("/v1/posts", _list_posts),
            web.delete("/v1/posts", _delete),
            web.get("/v1/posts/{post_id}", _get_post),
            web.patch("/v1/posts/{post_id}", _edit),
            web.get("/v1/accounts", _list_accounts),
            web.get("/v1/accounts/{account_id}", _get_account),
            web.get("/_sandbox/posts", _admin_posts),
            web.post("/_sandbox/faults", _admin_faults),
            web.post("/_sandbox/clock", _admin_clock),
        ]
    )
    return app


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json", headers=headers)


def _error(status: int, code: str, message: str) -> web.Response:
    return _json({"error": {"code": code, "message": message}}, status)


@web.middleware
async def _json_errors(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Unknown paths and methods under /v1/ answer in the API's error shape, as every other error does."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/v1/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "invalid_request")
        return _error(exc.status, code, exc.reason)
    return response


@web.middleware
async def _record(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        body = await _body(request) if request.can_read_body else None
        _state(request).received.append(
            Received(request.method, request.path_qs, body, request.headers.get("Authorization", ""))
        )
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _auth(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return _error(401, "unauthorized", "No API key provided")
        if not header[7:].startswith(("sk_test_", "sk_live_")):
            return _error(401, "invalid_api_key", "The API key provided is invalid")
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _faults(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    state = _state(request)
    route = "create" if (request.method, request.path) == ("POST", "/v1/posts") else "read"
    fault = state.take_fault(route, request.path) if request.path.startswith("/v1/") else None
    if fault is None:
        response: web.StreamResponse = await handler(request)
        return response
    logger.info("sandbox fault %s on %s %s", fault.kind, request.method, request.path)
    if fault.kind == "latency":
        await asyncio.sleep(fault.seconds)
        delayed: web.StreamResponse = await handler(request)
        return delayed
    if fault.kind == "status":
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        code = FAULT_CODES.get(fault.status, "internal" if fault.status >= 500 else "invalid_request")
        return _json({"error": {"code": code, "message": "Injected fault"}}, fault.status, headers)
    if fault.kind == "unknown_shape":  # a 200 whose body the docs do not describe
        return _json({"result": "ok", "items": "none"})
    if fault.kind == "reset":
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError
    response = await handler(request)
    if fault.kind == "timeout_after_create":
        await asyncio.sleep(fault.seconds or 3600)  # the work is done; the answer never comes
        return response
    if fault.kind == "malformed":
        return web.Response(text='{"posts": [', status=200, content_type="application/json")
    if fault.kind in ("missing_fields", "unknown_status") and isinstance(response, web.Response):
        body = json.loads(response.text or "{}")
        items = body.get("posts") or body.get("data") or ([body] if "postId" in body else [])
        for item in items:
            if fault.kind == "missing_fields":
                for name in fault.fields:
                    item.pop(name, None)
            else:
                item["status"] = "queued_for_review"
        if fault.kind == "missing_fields" and fault.items is not None and isinstance(body.get("posts"), list):
            del body["posts"][fault.items :]
        return _json(body, response.status)
    return response


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(post: dict[str, Any]) -> dict[str, Any]:
    """The post object of GET/list/edit: `postId`, and `slides` where create said `slideshow`."""
    data = {key: value for key, value in post.items() if not key.startswith("_")}
    data["contentType"] = "slides" if post["contentType"] == "slideshow" else post["contentType"]
    return data


async def _create(request: web.Request) -> web.Response:
    state = _state(request)
    state.create_calls += 1
    body = await _body(request)
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The request body must be a JSON object")
    account_ids = body.get("accountIds")
    if not isinstance(account_ids, list) or not account_ids or not all(isinstance(a, str) for a in account_ids):
        return _error(400, "missing_required_fields", "accountIds is required and must be a non-empty array")
    content_type = body.get("contentType")
    if content_type is None or body.get("contentUrl") is None:
        return _error(400, "missing_required_fields", "contentType and contentUrl are required")
    if content_type not in ("video", "slideshow"):
        return _error(400, "invalid_content_type", "contentType must be video or slideshow")
    url = body["contentUrl"]
    if content_type == "video" and not isinstance(url, str):
        return _error(400, "invalid_content_url", "contentUrl must be a URL string for a video")
    if content_type == "slideshow" and (
        not isinstance(url, list) or not url or not all(isinstance(u, str) for u in url)
    ):
        return _error(400, "invalid_content_url", "contentUrl must be a non-empty array of image URLs")
    duration = body.get("slideDuration")
    if duration is not None and duration not in (4, 6, 8):
        return _error(400, "invalid_slide_duration", "slideDuration must be 4, 6 or 8")
    if duration is not None and content_type != "slideshow":
        return _error(400, "invalid_slide_duration", "slideDuration only applies to slideshows")
    now = state.now()
    scheduled = now
    if body.get("scheduledTime") is not None:
        try:
            scheduled = _parse_time(str(body["scheduledTime"]))
        except ValueError:
            return _error(400, "invalid_scheduled_time", "scheduledTime must be ISO 8601 with a UTC offset")
        if scheduled < now - PAST_TOLERANCE:
            return _error(400, "invalid_scheduled_time", "scheduledTime is in the past")
    for account_id in account_ids:
        account = state.accounts.get(account_id)
        if account is None:
            return _error(404, "not_found", f"Account {account_id} not found")
        if account["accountStatus"] != "ready":
            return _error(400, "account_not_ready", f"Account {account_id} is not ready for posting")
    rendering = any("render" in u for u in ([url] if isinstance(url, str) else url))
    created = []
    for account_id in account_ids:
        post_id = f"post_{secrets.token_hex(6)}"
        post = {
            "postId": post_id,
            "accountId": account_id,
            "platform": state.accounts[account_id]["platform"],
            "contentType": content_type,
            "contentUrl": url,
            "thumbnailUrl": None,
            "caption": body.get("caption") or "",
            "soundId": None,
            "soundUrl": body.get("soundUrl"),
            "slideDuration": duration or (4 if content_type == "slideshow" else None),
            "timezone": "UTC",
            "scheduledTime": _iso(scheduled),
            "status": "pending_render" if rendering else "generated",
            "postedAt": None,
            "createdAt": _iso(now),
        }
        state.posts[post_id] = post
        created.append(
            {
                "id": post_id,
                "accountId": account_id,
                "platform": post["platform"],
                "contentType": content_type,
                "status": "pending_render" if rendering else "scheduled",
                "scheduledTime": post["scheduledTime"],
                "createdAt": post["createdAt"],
            }
        )
    return _json({"posts": created})


async def _get_post(request: web.Request) -> web.Response:
    state = _state(request)
    post = state.posts.get(request.match_info["post_id"])
    if post is None:
        return _error(404, "not_found", f"Post {request.match_info['post_id']} not found")
    return _json(_public(state.settle(post)))


async def _list_posts(request: web.Request) -> web.Response:
    state = _state(request)
    query = request.query
    try:
        limit = min(100, max(1, int(query.get("limit", "50"))))
        start = int(query.get("cursor", "0"))
    except ValueError:
        return _error(400, "invalid_request", "limit and cursor must be numbers")
    wanted = {
        "status": query.get("status"),
        "platform": query.get("platform"),
        "contentType": query.get("contentType"),
        "accountId": query.get("accountId"),
    }
    posts = [_public(state.settle(p)) for p in reversed(list(state.posts.values()))]
    posts = [p for p in posts if all(v is None or p.get(k) == v for k, v in wanted.items())]
    page = posts[start : start + limit]
    more = start + limit < len(posts)
    return _json({"data": page, "hasMore": more, "nextCursor": str(start + limit) if more else None})


async def _delete(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    ids = body.get("postIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        return _error(400, "missing_required_fields", "postIds is required and must be a non-empty array")
    deleted, failed = [], []
    for post_id in ids:
        post = state.posts.get(str(post_id))
        if post is None:
            failed.append({"postId": post_id, "reason": "Post not found"})
        elif state.settle(post)["status"] not in ("generated", "pending_render"):
            failed.append({"postId": post_id, "reason": f"Post is already {post['status']}"})
        else:
            del state.posts[post_id]
            deleted.append(post_id)
    return _json({"deleted": deleted, "failed": failed, "deletedAt": _iso(state.now())})


async def _edit(request: web.Request) -> web.Response:
    state = _state(request)
    post = state.posts.get(request.match_info["post_id"])
    if post is None:
        return _error(404, "not_found", f"Post {request.match_info['post_id']} not found")
    if state.settle(post)["status"] not in ("generated", "pending_render"):
        return _error(400, "post_not_editable", f"Post is already {post['status']} and cannot be edited")
    body = await _body(request)
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The request body must be a JSON object")
    changes: dict[str, Any] = {}
    if "scheduledTime" in body:
        zone_name = body.get("timezone")
        if zone_name not in EDIT_ZONES:
            return _error(400, "invalid_timezone", "timezone is required with scheduledTime and must be supported")
        try:
            local = datetime.strptime(str(body["scheduledTime"]), "%Y-%m-%dT%H:%M")
        except ValueError:
            return _error(400, "invalid_scheduled_time", "scheduledTime must be YYYY-MM-DDTHH:MM")
        when = local.replace(tzinfo=ZoneInfo(str(zone_name)))
        if when < state.now() - PAST_TOLERANCE:
            return _error(400, "invalid_scheduled_time", "scheduledTime is in the past")
        changes |= {"scheduledTime": _iso(when), "timezone": zone_name}
    if "contentUrl" in body or "contentType" in body:
        content_type, url = body.get("contentType"), body.get("contentUrl")
        if content_type not in ("video", "slides") or url is None:
            return _error(400, "missing_required_fields", "contentType and contentUrl go together")
        changes |= {"contentType": "slideshow" if content_type == "slides" else "video", "contentUrl": url}
    if "caption" in body:
        changes["caption"] = str(body["caption"])
    post.update(changes)  # all or nothing, as a validating API does
    state.saved(post)
    return _json(_public(post))


async def _list_accounts(request: web.Request) -> web.Response:
    accounts = list(_state(request).accounts.values())
    return _json({"data": accounts, "hasMore": False, "nextCursor": None})


async def _get_account(request: web.Request) -> web.Response:
    account = _state(request).accounts.get(request.match_info["account_id"])
    if account is None:
        return _error(404, "not_found", f"Account {request.match_info['account_id']} not found")
    return _json(account)


async def _admin_posts(request: web.Request) -> web.Response:
    state = _state(request)
    posts = [_public(state.settle(p)) for p in state.posts.values()]
    return _json({"posts": posts, "createCalls": state.create_calls, "now": _iso(state.now())})


async def _admin_faults(request: web.Request) -> web.Response:
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("faults"), list):
        return _error(400, "invalid_request", 'Send {"faults": [{"kind": ..., "route": ...}]}')
    try:
        _state(request).faults = [Fault(**item) for item in body["faults"]]
    except TypeError as exc:
        return _error(400, "invalid_request", str(exc))
    return _json({"faults": len(body["faults"])})


async def _admin_clock(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    if not isinstance(body, dict) or not isinstance(body.get("advanceSeconds"), int | float):
        return _error(400, "invalid_request", 'Send {"advanceSeconds": 3600}')
    state.offset += timedelta(seconds=float(body["advanceSeconds"]))
    return _json({"now": _iso(state.now())})
