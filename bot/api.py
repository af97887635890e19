"""The Infinipost API client: the only network code in the core that talks to Infinipost.

Every call goes through `_request`, which adds the Bearer key, maps both error shapes (nested
`{"error": {"code", "message"}}` and flat `{"error": "..."}`) to the one exception tree, and retries only what
is safe to repeat. `create_posts` is never repeated once the request may have reached the server: a repeat can
publish the same video twice, so an ambiguous outcome is raised as ApiUnconfirmed for the caller to store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

import httpx

from bot.dates import to_utc_iso
from bot.errors import (
    ApiAuthError,
    ApiError,
    ApiNotFound,
    ApiProtocolError,
    ApiRejected,
    ApiUnavailable,
    ApiUnconfirmed,
)
from bot.metrics import ApiErrorKind, Metrics
from bot.model import Account, ContentType, PostRequest, PostStatus, RemotePost

logger = logging.getLogger(__name__)

# Edits take a local `YYYY-MM-DDTHH:MM` in one of eleven zones. Tokyo has no daylight saving, so an instant
# converts to it and back exactly.
EDIT_ZONE = ZoneInfo("Asia/Tokyo")
MAX_RETRY_AFTER = 30.0
PAGE_LIMIT = 100
# Calls in flight at once. More wait on our own semaphore, not in httpcore's pool, whose queue costs
# O(queued × connections) on every change: hundreds of slow creates would eat the CPU that acks need.
MAX_IN_FLIGHT = 64

_ERROR_CODES: dict[str, type[ApiError]] = {
    "unauthorized": ApiAuthError,
    "unauthenticated": ApiAuthError,
    "invalid_api_key": ApiAuthError,
    "expired_api_key": ApiAuthError,
    "not_found": ApiNotFound,
    "missing_required_fields": ApiRejected,
    "internal": ApiUnavailable,
    "rate_limited": ApiUnavailable,
}


@dataclass(frozen=True, kw_only=True)
class DeleteResult:
    deleted: tuple[str, ...]
    failed: Mapping[str, str]  # post ID -> reason


class InfinipostClient:
    """A typed client for the endpoints the bot uses.

    Args:
        base_url: e.g. `https://api.infinipost.co/v1`.
        api_key: the Bearer key; never logged.
        transport: an httpx transport, for tests (`httpx.MockTransport`).
        attempts: how many times a call that is safe to repeat is tried.
        sleep: how to wait between attempts (tests pass a fake).
        metrics: where failed calls are counted, by kind.
        auth_message: what a refusal of the key says in chat (default: ask the operator to check
            INFINIPOST_API_KEY); a workspace's own key says whose it is.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
        auth_message: str | None = None,
    ) -> None:
        self._auth_message = auth_message
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "infinipost-bot"},
            timeout=httpx.Timeout(timeout, connect=5.0, pool=None),
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT),
            transport=transport,
            follow_redirects=False,
        )
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._metrics = metrics or Metrics()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # Posts

    async def create_posts(self, request: PostRequest) -> list[RemotePost]:
        """`POST /posts`: one post per account. Raises ApiUnconfirmed when the outcome is unknown."""
        body: dict[str, Any] = {
            "accountIds": [account.id for account in request.accounts],
            "contentType": request.content_type,
            "contentUrl": request.media_urls[0] if request.content_type == "video" else list(request.media_urls),
        }
        if request.caption:
            body["caption"] = request.caption
        if request.sound_url:
            body["soundUrl"] = request.sound_url
        if request.scheduled_time is not None:
            body["scheduledTime"] = to_utc_iso(request.scheduled_time)
        if request.slide_duration is not None:
            body["slideDuration"] = request.slide_duration
        data = await self._request("POST", "posts", json=body, repeatable=False)
        try:
            posts = [_post(item) for item in data["posts"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._unreadable(ApiUnconfirmed()) from exc
        if not posts:
            raise self._unreadable(ApiUnconfirmed())
        return posts

    async def check_key(self) -> None:
        """Ask for one post, which any working key may do; raises ApiAuthError when the key is refused."""
        await self._request("GET", "/posts", params={"limit": "1"})

    async def get_post(self, post_id: str) -> RemotePost:
        data = await self._request("GET", f"posts/{post_id}")
        try:
            return _post(data.get("post", data) if isinstance(data, dict) else data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._unreadable(ApiProtocolError()) from exc

    async def list_posts(self, **filters: str) -> AsyncIterator[RemotePost]:
        """`GET /posts`, every page, newest first as the API orders them."""
        async for item in self._pages("posts", filters):
            try:
                yield _post(item)
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("skipping a post Infinipost listed in an unknown shape: %s", exc)

    async def delete_posts(self, post_ids: list[str]) -> DeleteResult:
        """`DELETE /posts` with a `postIds` body. Only posts not yet posted can be deleted."""
        # Not repeated once it may have arrived: a second delete would report the first one's posts as missing.
        data = await self._request("DELETE", "posts", json={"postIds": post_ids}, repeatable=False)
        if not isinstance(data, dict):
            raise self._unreadable(ApiProtocolError())
        deleted = tuple(str(x) for x in data.get("deleted") or ())
        failed: dict[str, str] = {}
        for entry in data.get("failed") or ():
            if isinstance(entry, dict):
                key = str(entry.get("postId") or entry.get("id") or "")
                _, message = _code_and_message(entry)
                reason = entry.get("reason") or message
                failed[key] = _clean(reason) if isinstance(reason, str) and reason.strip() else "refused"
            else:
                failed[str(entry)] = "refused"
        return DeleteResult(deleted=deleted, failed=failed)

    async def edit_post(
        self,
        post_id: str,
        *,
        scheduled_time: datetime | None = None,
        caption: str | None = None,
        content: tuple[ContentType, tuple[str, ...]] | None = None,
    ) -> RemotePost:
        """`PATCH /posts/{id}`. Only posts not yet posted can be edited."""
        body: dict[str, Any] = {}
        if content is not None:
            content_type, urls = content
            body["contentType"] = "slides" if content_type == "slideshow" else "video"
            body["contentUrl"] = list(urls) if content_type == "slideshow" else urls[0]
        if caption is not None:
            body["caption"] = caption
        if scheduled_time is not None:
            body["scheduledTime"] = scheduled_time.astimezone(EDIT_ZONE).strftime("%Y-%m-%dT%H:%M")
            body["timezone"] = EDIT_ZONE.key
        data = await self._request("PATCH", f"posts/{post_id}", json=body)
        try:
            return _post(data.get("post", data) if isinstance(data, dict) else data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._unreadable(ApiProtocolError()) from exc

    # Accounts

    async def list_accounts(self) -> list[Account]:
        """`GET /accounts`, which the docs only imply exists. ApiProtocolError: an answer of unknown shape."""
        try:
            return [_account(item) async for item in self._pages("accounts", {})]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._unreadable(ApiProtocolError()) from exc

    async def get_account(self, account_id: str) -> Account:
        data = await self._request("GET", f"accounts/{account_id}")
        try:
            return _account(data.get("account", data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._unreadable(ApiProtocolError()) from exc

    # The chokepoint

    async def _pages(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            query = {**params, "limit": str(PAGE_LIMIT)} | ({"cursor": cursor} if cursor else {})
            data = await self._request("GET", path, params=query)
            if isinstance(data, list):
                items: Any = data
                data = {}
            else:
                items = data.get("data", data.get(path)) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise self._unreadable(ApiProtocolError())
            for item in items:
                if isinstance(item, dict):
                    yield item
            cursor = data.get("nextCursor")
            if not data.get("hasMore") or not cursor:
                return

    def _unreadable(self, error: ApiError) -> ApiError:
        """An answer whose shape the endpoint cannot read: counted, then raised by the caller."""
        self._metrics.api_error("unreadable")
        return error

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        repeatable: bool = True,
    ) -> Any:
        for attempt in range(1, self._attempts + 1):
            started = time.monotonic()
            try:
                async with self._in_flight:
                    response = await self._http.request(method, path, json=json, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server, so even a create may be tried again.
                self._metrics.api_error("connection")
                error: ApiError = ApiUnavailable()
                error.__cause__ = exc
            except httpx.TransportError as exc:
                logger.warning("%s /%s: %s after sending", method, path, type(exc).__name__)
                self._metrics.api_error("timeout" if isinstance(exc, httpx.TimeoutException) else "connection")
                if not repeatable:
                    raise ApiUnconfirmed() from exc
                error = ApiUnavailable()
                error.__cause__ = exc
            else:
                logger.info(
                    "%s /%s -> %s in %.0f ms",
                    method,
                    path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                if response.is_success:
                    try:
                        return _json(response, repeatable=repeatable)
                    except ApiError:
                        self._metrics.api_error("unreadable")
                        raise
                error = _error_from(response, auth_message=self._auth_message)
                self._metrics.api_error(_kind(error))
                if not repeatable and response.status_code >= 500:
                    raise ApiUnconfirmed(status=response.status_code) from error
                if not repeatable or not isinstance(error, ApiUnavailable):
                    raise error  # a refused create is the user's to send again, once they know why
            if attempt == self._attempts or (error.retry_after or 0) > MAX_RETRY_AFTER:
                raise error
            await self._sleep(error.retry_after or self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _kind(error: ApiError) -> ApiErrorKind:
    """The kind an error answer is counted as; the status tells an overloaded Infinipost from a broken one."""
    if isinstance(error, ApiAuthError):
        return "auth"
    if isinstance(error, ApiNotFound):
        return "not_found"
    if error.status == 429 or error.code == "rate_limited":
        return "rate_limited"
    if isinstance(error, ApiUnavailable):
        return "server"
    return "rejected"


def _json(response: httpx.Response, *, repeatable: bool) -> Any:
    if response.status_code == 204 or not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        # A create that answered 2xx did something; we just cannot read what.
        raise (ApiProtocolError() if repeatable else ApiUnconfirmed()) from exc


def _error_from(response: httpx.Response, *, auth_message: str | None = None) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = _code_and_message(body)
    status = response.status_code
    kind = _ERROR_CODES.get(str(code)) if code else None
    if kind is None:
        if status in (401, 403):
            kind = ApiAuthError
        elif status == 404:
            kind = ApiNotFound
        elif status == 429 or status >= 500:
            kind = ApiUnavailable
        else:
            kind = ApiRejected
    retry_after = _retry_after(response.headers.get("Retry-After"))
    text = None
    if kind is ApiAuthError:
        text = auth_message
    elif kind in (ApiRejected, ApiNotFound) and isinstance(message, str) and message.strip():
        text = f"Infinipost refused it: {_clean(message)}."
    elif kind is ApiNotFound and code is None:
        text = (
            "Infinipost answered “not found” without saying what: the post may have been deleted there, or, if "
            "this keeps happening, INFINIPOST_API_URL may be wrong."
        )
    elif kind is ApiUnavailable and status == 429:
        wait = f" in {retry_after:.0f} s" if retry_after else " in a minute"
        text = f"Infinipost is rate limiting the bot; try again{wait}."
    return kind(text, status=status, code=str(code) if code else None, retry_after=retry_after)


def _code_and_message(body: Any) -> tuple[Any, Any]:
    """Both error shapes: `{"error": {"code", "message"}}` and `{"error": "...", "message": "..."}`."""
    if not isinstance(body, dict):
        return None, None
    code, message, error = None, None, body.get("error")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
    elif isinstance(error, str):
        message = body.get("message") or error  # `error` may be a code ("already_posted") beside the words
    return code, message or body.get("message")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _clean(message: str) -> str:
    """An API message fit for chat: one line, no markup, bounded, with no closing full stop."""
    text = " ".join(message.replace("`", "'").replace("<", "‹").replace(">", "›").split())
    return text[:300].rstrip(".")


def _time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _post(item: Any) -> RemotePost:
    if not isinstance(item, dict):
        raise TypeError("a post is not an object")
    post_id = item.get("id") or item.get("postId")
    if not post_id or not isinstance(post_id, str):
        raise ValueError("post without an id")
    urls = item.get("contentUrl")
    status = item.get("status")
    return RemotePost(
        id=post_id,
        account_id=str(item.get("accountId") or ""),
        status=PostStatus.from_api(status),
        raw_status=str(status or ""),
        platform=str(item.get("platform") or ""),
        scheduled_time=_time(item.get("scheduledTime")),
        posted_at=_time(item.get("postedAt")),
        caption=item.get("caption") if isinstance(item.get("caption"), str) else None,
        content_urls=tuple(urls) if isinstance(urls, list) else ((urls,) if isinstance(urls, str) else ()),
    )


def _account(item: Any) -> Account:
    if not isinstance(item, dict):
        raise TypeError("an account is not an object")
    account_id = item.get("accountId") or item.get("id")
    if not account_id:
        raise ValueError("account without an id")
    return Account(
        id=str(account_id),
        platform=str(item.get("platform") or ""),
        name=str(item.get("name") or ""),
        username=str(item.get("username") or ""),
        status=str(item.get("accountStatus") or item.get("status") or "ready"),
        warmup_day=item["warmupDay"] if isinstance(item.get("warmupDay"), int) else None,
    )
