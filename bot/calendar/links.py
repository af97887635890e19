"""Signed links to the calendar page, and the addresses of private feeds.

A page link carries whose view it is (platform, workspace, person, the channels they may see) and when it expires,
signed with HMAC-SHA256: a link whose text was changed, or that expired, opens nothing. A feed's address carries a
random secret instead, which the database knows only by its hash, so that `/calendar ical revoke` can end it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

PAGE_PATH = "/calendar"
FEED_PATH = "/calendar/feed"


@dataclass(frozen=True, kw_only=True)
class PageScope:
    """What a page link shows: a person's view of their workspace, as they could see it when they asked."""

    platform: str
    workspace_id: str
    user_id: str
    channels: tuple[str, ...] | None  # None: every channel of the workspace
    expires: datetime


class CalendarLinks:
    """Makes and reads the calendar's links.

    Args:
        secret: the key links are signed with (BOT_MEDIA_SECRET, or the one the bot keeps beside its database).
        base_url: the address people reach the bot's HTTP server at, when there is one.
        clock: what links expire by.
    """

    def __init__(self, secret: bytes, *, base_url: Callable[[], str | None], clock: Callable[[], datetime]) -> None:
        # A key of its own, derived from the shared secret: a media link's signature can never open a calendar.
        self._key = hmac.new(secret, b"calendar page", hashlib.sha256).digest()
        self._base_url = base_url
        self._clock = clock

    @property
    def base_url(self) -> str | None:
        url = self._base_url()
        return url.rstrip("/") if url else None

    def page_url(self, scope: PageScope) -> str | None:
        base = self.base_url
        if base is None:
            return None
        body = {
            "p": scope.platform,
            "w": scope.workspace_id,
            "u": scope.user_id,
            "c": list(scope.channels) if scope.channels is not None else None,
            "e": int(scope.expires.timestamp()),
        }
        payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{base}{PAGE_PATH}?t={payload}.{self._sign(payload)}"

    def read(self, token: str) -> PageScope | None:
        """The scope of a page link's token; None if it was tampered with, is malformed or has expired."""
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            expires = datetime.fromtimestamp(int(body["e"]), tz=self._clock().tzinfo)
            channels = body["c"]
            scope = PageScope(
                platform=str(body["p"]),
                workspace_id=str(body["w"]),
                user_id=str(body["u"]),
                channels=tuple(map(str, channels)) if channels is not None else None,
                expires=expires,
            )
        except (ValueError, KeyError, TypeError):
            return None
        return scope if scope.expires > self._clock() else None

    def feed_url(self, secret: str) -> str | None:
        base = self.base_url
        return f"{base}{FEED_PATH}/{secret}.ics" if base else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def new_feed_secret() -> tuple[str, str]:
    """A feed's secret (for its address) and the hash the database keeps of it."""
    secret = secrets.token_urlsafe(24)
    return secret, feed_hash(secret)


def feed_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def expires_in(clock: Callable[[], datetime], hours: float) -> datetime:
    return clock() + timedelta(hours=hours)
