"""The sandbox's HTTP face: the Infinipost API's routes under /v1/, answered as infinipost-api.md describes, and
the test controls under /_sandbox/.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from sandbox.bodies import error_response, json_response, read_json
from sandbox.faults import Fault, inject_faults
from sandbox.state import Received, SandboxState, parse_time

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

STATE = web.AppKey("state", SandboxState)


def build_app(state: SandboxState) -> web.Application:
    app = web.Application(middlewares=[_json_errors, _record, inject_faults(state.take_fault), _auth])
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
            web.get("/_sandbox/requests", _admin_requests),
            web.post("/_sandbox/faults", _admin_faults),
            web.post("/_sandbox/clock", _admin_clock),
        ]
    )
    return app


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE]


@web.middleware
async def _json_errors(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Unknown paths and methods under /v1/ answer in the API's error shape, as every other error does."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/v1/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "invalid_request")
        return error_response(exc.status, code, exc.reason)
    return response


@web.middleware
async def _record(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        body = await read_json(request) if request.can_read_body else None
        _state(request).received.append(
            Received(
                request.method, request.path_qs, body, request.headers.get("Authorization", ""), _state(request).now()
            )
        )
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _auth(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return error_response(401, "unauthorized", "No API key provided")
        if not header[7:].startswith(("sk_test_", "sk_live_")):
            return error_response(401, "invalid_api_key", "The API key provided is invalid")
    response: web.StreamResponse = await handler(request)
    return response


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
    body = await read_json(request)
    if not isinstance(body, dict):
        return error_response(400, "invalid_request", "The request body must be a JSON object")
    account_ids = body.get("accountIds")
    if not isinstance(account_ids, list) or not account_ids or not all(isinstance(a, str) for a in account_ids):
        return error_response(400, "missing_required_fields", "accountIds is required and must be a non-empty array")
    content_type = body.get("contentType")
    if content_type is None or body.get("contentUrl") is None:
        return error_response(400, "missing_required_fields", "contentType and contentUrl are required")
    if content_type not in ("video", "slideshow"):
        return error_response(400, "invalid_content_type", "contentType must be video or slideshow")
    url = body["contentUrl"]
    if content_type == "video" and not isinstance(url, str):
        return error_response(400, "invalid_content_url", "contentUrl must be a URL string for a video")
    if content_type == "slideshow" and (
        not isinstance(url, list) or not url or not all(isinstance(u, str) for u in url)
    ):
        return error_response(400, "invalid_content_url", "contentUrl must be a non-empty array of image URLs")
    duration = body.get("slideDuration")
    if duration is not None and duration not in (4, 6, 8):
        return error_response(400, "invalid_slide_duration", "slideDuration must be 4, 6 or 8")
    if duration is not None and content_type != "slideshow":
        return error_response(400, "invalid_slide_duration", "slideDuration only applies to slideshows")
    now = state.now()
    scheduled = now
    if body.get("scheduledTime") is not None:
        try:
            scheduled = parse_time(str(body["scheduledTime"]))
        except ValueError:
            return error_response(400, "invalid_scheduled_time", "scheduledTime must be ISO 8601 with a UTC offset")
        if scheduled < now - PAST_TOLERANCE:
            return error_response(400, "invalid_scheduled_time", "scheduledTime is in the past")
    for account_id in account_ids:
        account = state.accounts.get(account_id)
        if account is None:
            return error_response(404, "not_found", f"Account {account_id} not found")
        if account["accountStatus"] != "ready":
            return error_response(400, "account_not_ready", f"Account {account_id} is not ready for posting")
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
    return json_response({"posts": created})


async def _get_post(request: web.Request) -> web.Response:
    state = _state(request)
    post = state.posts.get(request.match_info["post_id"])
    if post is None:
        return error_response(404, "not_found", f"Post {request.match_info['post_id']} not found")
    return json_response(_public(state.settle(post)))


async def _list_posts(request: web.Request) -> web.Response:
    state = _state(request)
    query = request.query
    try:
        limit = min(100, max(1, int(query.get("limit", "50"))))
        start = int(query.get("cursor", "0"))
    except ValueError:
        return error_response(400, "invalid_request", "limit and cursor must be numbers")
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
    return json_response({"data": page, "hasMore": more, "nextCursor": str(start + limit) if more else None})


async def _delete(request: web.Request) -> web.Response:
    state = _state(request)
    body = await read_json(request)
    ids = body.get("postIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        return error_response(400, "missing_required_fields", "postIds is required and must be a non-empty array")
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
    return json_response({"deleted": deleted, "failed": failed, "deletedAt": _iso(state.now())})


async def _edit(request: web.Request) -> web.Response:
    state = _state(request)
    post = state.posts.get(request.match_info["post_id"])
    if post is None:
        return error_response(404, "not_found", f"Post {request.match_info['post_id']} not found")
    if state.settle(post)["status"] not in ("generated", "pending_render"):
        return error_response(400, "post_not_editable", f"Post is already {post['status']} and cannot be edited")
    body = await read_json(request)
    if not isinstance(body, dict):
        return error_response(400, "invalid_request", "The request body must be a JSON object")
    changes: dict[str, Any] = {}
    if "scheduledTime" in body:
        zone_name = body.get("timezone")
        if zone_name not in EDIT_ZONES:
            return error_response(
                400, "invalid_timezone", "timezone is required with scheduledTime and must be supported"
            )
        try:
            local = datetime.strptime(str(body["scheduledTime"]), "%Y-%m-%dT%H:%M")
        except ValueError:
            return error_response(400, "invalid_scheduled_time", "scheduledTime must be YYYY-MM-DDTHH:MM")
        when = local.replace(tzinfo=ZoneInfo(str(zone_name)))
        if when < state.now() - PAST_TOLERANCE:
            return error_response(400, "invalid_scheduled_time", "scheduledTime is in the past")
        changes |= {"scheduledTime": _iso(when), "timezone": zone_name}
    if "contentUrl" in body or "contentType" in body:
        content_type, url = body.get("contentType"), body.get("contentUrl")
        if content_type not in ("video", "slides") or url is None:
            return error_response(400, "missing_required_fields", "contentType and contentUrl go together")
        changes |= {"contentType": "slideshow" if content_type == "slides" else "video", "contentUrl": url}
    if "caption" in body:
        changes["caption"] = str(body["caption"])
    post.update(changes)  # all or nothing, as a validating API does
    state.saved(post)
    return json_response(_public(post))


async def _list_accounts(request: web.Request) -> web.Response:
    accounts = list(_state(request).accounts.values())
    return json_response({"data": accounts, "hasMore": False, "nextCursor": None})


async def _get_account(request: web.Request) -> web.Response:
    account = _state(request).accounts.get(request.match_info["account_id"])
    if account is None:
        return error_response(404, "not_found", f"Account {request.match_info['account_id']} not found")
    return json_response(account)


async def _admin_posts(request: web.Request) -> web.Response:
    state = _state(request)
    posts = [_public(state.settle(p)) for p in state.posts.values()]
    return json_response({"posts": posts, "createCalls": state.create_calls, "now": _iso(state.now())})


async def _admin_requests(request: web.Request) -> web.Response:
    """What the API was asked, in order, for a test that runs the sandbox as a process of its own: each call's
    method, path (with its query) and arrival time, to the microsecond. Never the keys or the bodies."""
    received = [
        {"method": r.method, "path": r.path, "at": r.at.astimezone(UTC).isoformat()} for r in _state(request).received
    ]
    return json_response({"requests": received})


async def _admin_faults(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("faults"), list):
        return error_response(400, "invalid_request", 'Send {"faults": [{"kind": ..., "route": ...}]}')
    try:
        _state(request).faults = [Fault(**item) for item in body["faults"]]
    except TypeError as exc:
        return error_response(400, "invalid_request", str(exc))
    return json_response({"faults": len(body["faults"])})


async def _admin_clock(request: web.Request) -> web.Response:
    body = await read_json(request)
    state = _state(request)
    if not isinstance(body, dict) or not isinstance(body.get("advanceSeconds"), int | float):
        return error_response(400, "invalid_request", 'Send {"advanceSeconds": 3600}')
    state.offset += timedelta(seconds=float(body["advanceSeconds"]))
    return json_response({"now": _iso(state.now())})
