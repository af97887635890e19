"""Misbehaviour injected into the sandbox, through `/_sandbox/faults` or `SandboxState.faults`, to test the bot's
answers to a failing API: error statuses, latency, resets, lost answers and bodies the docs do not describe."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.bodies import json_response

logger = logging.getLogger(__name__)

FAULT_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}


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
    after: int = 0  # let this many matching requests through first (the 5th create of a batch fails: after=4)


def inject_faults(take_fault: Callable[[str, str], Fault | None]) -> Middleware:
    """The middleware that applies to each API request the fault `take_fault(route, path)` hands it, if any."""

    @web.middleware
    async def faults(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        route = "create" if (request.method, request.path) == ("POST", "/v1/posts") else "read"
        fault = take_fault(route, request.path) if request.path.startswith("/v1/") else None
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
            return json_response({"error": {"code": code, "message": "Injected fault"}}, fault.status, headers)
        if fault.kind == "unknown_shape":  # a 200 whose body the docs do not describe
            return json_response({"result": "ok", "items": "none"})
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
            return json_response(body, response.status)
        return response

    return faults
