"""Slack's refusals, read one way wherever a call fails, whatever shape Slack's answer had.

slack_sdk raises SlackApiError for an `ok: false` answer, but also for an answer that is not JSON at all (a
`502 text/plain` from a proxy or an outage page): its `response` is then a string-bodied response, or aiohttp's own,
and has no error code to `.get`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError


def answer(exc: SlackApiError) -> Mapping[str, Any]:
    """Slack's JSON answer to the refused call; empty when the answer was not JSON."""
    data = getattr(exc.response, "data", None)
    return data if isinstance(data, dict) else {}


def error_code(exc: SlackApiError) -> str:
    """The error Slack gave (`not_in_channel`), or `http_<status>` when its answer said none."""
    code = answer(exc).get("error")
    if isinstance(code, str) and code:
        return code
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
    return f"http_{status}" if status else "unknown"


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait, if it did."""
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return float(str(headers.get("Retry-After")))
    except ValueError:
        return None
