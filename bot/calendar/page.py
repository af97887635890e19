"""The calendar page and the iCal feeds, served by the bot's own HTTP server.

`GET /calendar?t=<signed token>` is one server-rendered page: the posts its link may show (six weeks back, three
months ahead) as JSON inside the page, drawn by a small script in the browser's own zone as a week or a month, with
filters by account, status and channel. Captions are only ever set as text, and a Content-Security-Policy lets no
script run but the page's own. A tampered or expired link gets a plain 403 page.

`GET /calendar/feed/<secret>.ics` is a private feed, until `/calendar ical revoke`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import datetime, timedelta
from importlib.resources import files

from aiohttp import web

from bot.calendar.feed import ical
from bot.calendar.links import FEED_PATH, PAGE_PATH, feed_hash
from bot.calendar.plan import STATUS_WORDS, PlannedPost, plan, visible_channels
from bot.context import Context
from bot.errors import StorageError
from bot.model import Caller

logger = logging.getLogger(__name__)

PAGE_BACK = timedelta(weeks=6)
PAGE_AHEAD = timedelta(weeks=13)
FEED_BACK = timedelta(days=30)
FEED_AHEAD = timedelta(days=366)
REFUSED = (
    "<!doctype html><meta charset=utf-8><title>Link expired</title>"
    "<p>This calendar link is not valid: it expired, or it was changed. Ask the bot for a new one with "
    "<code>/calendar link</code>.</p>"
)


class CalendarPages:
    """The page and feed routes, over the core's context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def mount(self, app: web.Application) -> None:
        app.router.add_get(PAGE_PATH, self.page)
        app.router.add_get(FEED_PATH + "/{secret}.ics", self.feed)

    async def page(self, request: web.Request) -> web.Response:
        links = self.ctx.calendar_links
        scope = links.read(request.query.get("t", "")) if links is not None else None
        if scope is None:
            return web.Response(status=403, text=REFUSED, content_type="text/html", headers=_REFUSED_HEADERS)
        now = self.ctx.clock()
        try:
            entries = await _shown(
                self.ctx,
                scope.platform,
                scope.workspace_id,
                scope.user_id,
                channels=scope.channels,
                start=now - PAGE_BACK,
                end=now + PAGE_AHEAD,
            )
        except StorageError:
            return web.Response(status=503, text="The calendar cannot be read right now; try again in a minute.")
        nonce = secrets.token_urlsafe(16)
        data = {
            "now": now.isoformat(),
            "from": (now - PAGE_BACK).isoformat(),
            "until": (now + PAGE_AHEAD).isoformat(),
            "expires": scope.expires.isoformat(),
            "posts": [_card(entry) for entry in entries],
            "statuses": STATUS_WORDS,
        }
        # JSON in a script element: only `<` could end it early, so none is left as it is.
        embedded = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
        html = _fill(_TEMPLATE, nonce=nonce, data=embedded, script=_SCRIPT, style=_STYLE)
        headers = {
            **_PRIVATE,
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src https: http:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=headers)

    async def feed(self, request: web.Request) -> web.Response:
        try:
            feed = await self.ctx.storage.calendar.feed(feed_hash(request.match_info["secret"]))
        except StorageError:
            return web.Response(status=503, text="The feed cannot be read right now.")
        if feed is None:
            return web.Response(status=404, text="No such calendar feed: it was revoked, or never existed.")
        now = self.ctx.clock()
        entries = await _shown(
            self.ctx,
            feed.platform,
            feed.workspace_id,
            feed.user_id,
            channels=feed.channels,
            start=now - FEED_BACK,
            end=now + FEED_AHEAD,
        )
        body = ical(entries, name="Scheduled posts", now=now)
        return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers=_PRIVATE)


_PRIVATE = {"Cache-Control": "private, no-store"}


async def _shown(
    ctx: Context,
    platform: str,
    workspace_id: str,
    user_id: str,
    *,
    channels: tuple[str, ...] | None,
    start: datetime,
    end: datetime,
) -> list[PlannedPost]:
    """The posts a link or feed shows: from the channels it names (None: all), and only those its owner may still
    see: one who left a private channel since (or the workspace) sees its posts no more, whatever the link said
    then. Where this process does not run their platform, the channels the link named stand."""
    entries = await plan(ctx, platform, workspace_id, start=start, end=end, channels=channels)
    owner = Caller(platform=platform, workspace_id=workspace_id, channel_id="", user_id=user_id, display_name="")
    visible = await visible_channels(ctx, owner, {e.channel.channel_id for e in entries})
    return [e for e in entries if e.channel.channel_id in visible]


_REFUSED_HEADERS = {**_PRIVATE, "Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "no-referrer"}


def _card(entry: PlannedPost) -> dict[str, object]:
    image = entry.image_url if entry.image_url and entry.image_url.startswith(("https://", "http://")) else None
    return {
        "request": entry.request_id,
        "post": entry.post_id,
        "at": entry.at.isoformat(),
        "account": entry.account_label,
        "accountId": entry.account_id,
        "status": entry.status,
        "caption": entry.caption or "",
        "channel": entry.channel.channel_id,
        "author": entry.author_name,
        "type": entry.content_type,
        "image": image,
    }


def _fill(template: str, **values: str) -> str:
    """The template with each `{{name}}` replaced, in one pass: a caption that reads `{{script}}` stays as it is."""
    return _SLOT.sub(lambda slot: values[slot.group(1)], template)


_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _asset(name: str) -> str:
    return files("bot.calendar").joinpath(name).read_text(encoding="utf-8")


_TEMPLATE = _asset("page.html")
_SCRIPT = _asset("page.js")
_STYLE = _asset("page.css")
