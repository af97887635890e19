"""JSON bodies in and out, in the shapes the Infinipost API uses, for the routes and the injected faults."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json", headers=headers)


def error_response(status: int, code: str, message: str) -> web.Response:
    """The API's nested error shape, `{"error": {"code", "message"}}`."""
    return json_response({"error": {"code": code, "message": message}}, status)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or None when it is not JSON: the handlers answer that in the API's words."""
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
