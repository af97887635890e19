"""`/posts export`: the channel's posts as a CSV file, and what a later import needs to recognise one.

The file has one row a request, in the columns `/import` reads (`media`, `accounts`, `when`, `caption`, `sound`,
`slides`) and then `id`, `status` and `author`. It is UTF-8 with a byte order mark, so that a spreadsheet opens
captions with accents and emoji as they were written.

No cell runs as a formula when a spreadsheet opens the file: one that begins with `=`, `+`, `-` or `@` is written
with a `'` in front (`guard_cell`), which spreadsheets read as "this is text". The import refuses such cells
(`looks_like_formula`); `unguard_cell` takes the `'` off again, for an import that accepts what an export wrote.

A row's `id` names its posts at Infinipost (several, space-separated, for a request to several accounts), or
`#<request>` for a request that has none. `existing_post` tells an import that a row would post again what this
bot already has at this Infinipost.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.csv_cells import guard_cell, unguard_cell
from bot.model import Caller, PostStatus, Reply, ReplyFile
from bot.records import RequestState, StoredPost, StoredRequest

logger = logging.getLogger(__name__)

IMPORT_COLUMNS = ("media", "accounts", "when", "caption", "sound", "slides")  # as `/import` reads them
COLUMNS = (*IMPORT_COLUMNS, "id", "status", "author")
MAX_REQUESTS = 5_000
# Under the 10 MiB Discord takes in a server without boosts (Slack takes far more): a file that would be bigger
# ends early, and the answer says so.
MAX_BYTES = 8 * 1024 * 1024
CONTENT_TYPE = "text/csv"
_CHUNK = 500  # request IDs a query names at once
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")

# A request that sent nothing, or whose create is not settled, says where it stands; one with posts, theirs.
_STATE_WORDS = {
    RequestState.FAILED: "refused",  # by Infinipost: not a post's `failed`
}
# Posts that will not go out, or never did: importing their row again posts nothing twice.
_GONE = frozenset({PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.MISSING})


def to_row(stored: StoredRequest, posts: Sequence[StoredPost], tz: ZoneInfo) -> dict[str, str]:
    """One request as a row of the export, its times as ISO 8601 in `tz` with their offset."""
    request = stored.request
    times = [post.scheduled_time for post in posts if post.scheduled_time]
    when = min(times) if times else request.scheduled_time  # one post moved on its own: the earliest
    return {
        "media": " ".join(request.media_urls),
        "accounts": ", ".join(account.id for account in request.accounts),  # as `/post … to` takes them
        "when": export_time(when, tz) if when else "",
        "caption": request.caption or "",
        "sound": request.sound_url or "",
        "slides": str(request.slide_duration) if request.content_type == "slideshow" and request.slide_duration else "",
        "id": " ".join(post.id for post in posts) or f"#{stored.id}",
        "status": _status(stored, posts),
        "author": stored.user_name or stored.user_id,
    }


def _status(stored: StoredRequest, posts: Sequence[StoredPost]) -> str:
    if stored.state != RequestState.SENT or not posts:
        return _STATE_WORDS.get(stored.state, stored.state)
    statuses = {post.status.value for post in posts}
    if len(statuses) == 1:
        return statuses.pop()
    return "; ".join(f"{post.account_id} {post.status.value}" for post in posts)


def to_csv(rows: Sequence[Mapping[str, str]], *, max_bytes: int = MAX_BYTES) -> tuple[bytes, int]:
    """The rows as the export's file (UTF-8 with BOM, CRLF line ends, every cell formula-safe), and how many of
    them it holds: it stops before the one that would take it past `max_bytes`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    content = out.getvalue().encode("utf-8-sig")
    chunks, size, written = [content], len(content), 0
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([guard_cell(row.get(column, "")) for column in COLUMNS])
        line = out.getvalue().encode("utf-8")
        if size + len(line) > max_bytes:
            break
        chunks.append(line)
        size += len(line)
        written += 1
    return b"".join(chunks), written


async def export_posts(
    ctx: Context,
    caller: Caller,
    *,
    view: str,
    mine: bool,
    account_id: str | None,
    tz: ZoneInfo,
    described: str,
    asked: str,
    limit: int = MAX_REQUESTS,
) -> Reply:
    """The channel's requests that `/posts` would list (all of them, up to `limit`), as a CSV file.

    Args:
        view, mine, account_id: the listing's filters, as `/posts` applies them.
        tz: the zone the file's times are written in (the caller's).
        described: what the file holds, in words (`this channel's posts`), for the answer.
        asked: the command as typed (`/posts export mine`), for an answer that has no file.
    """
    requests, total = await ctx.storage.requests.channel_queue(
        caller.channel,
        view=view,
        user_id=caller.user_id if mine else None,
        account_id=account_id,
        limit=limit,
    )
    if not requests:
        return Reply(text=f"Nothing to export: `{asked}` finds no posts in this channel. `/posts` lists them all.")
    posts: dict[int, list[StoredPost]] = {}
    for start in range(0, len(requests), _CHUNK):
        posts.update(await ctx.storage.posts.of_requests([r.id for r in requests[start : start + _CHUNK]]))
    rows = [to_row(stored, posts.get(stored.id, []), tz) for stored in requests]
    content, written = to_csv(rows)
    now = ctx.clock().astimezone(tz)
    name = f"posts-{_UNSAFE_NAME.sub('-', caller.channel_id).strip('-') or 'channel'}-{now:%Y%m%d-%H%M}.csv"
    lines = [
        f"Here are {described} as a spreadsheet file, `{name}`: {_count(written)}, one row each, in "
        f"the order `/posts` lists them; times in {tz.key}."
    ]
    if written < total:
        why = (
            f"a file holds at most {_count(limit)}"
            if written == len(requests)
            else f"more would take the file past {MAX_BYTES // (1024 * 1024)} MB"
        )
        lines.append(
            f"⚠️ It holds {_count(written)} of {total:,}: {why}. Narrow it to export the rest: "
            "`/posts export past`, `upcoming`, `failed`, `mine` or an account."
        )
    lines.append(
        "Its first six columns are the ones `/import` reads. A cell that began with =, +, - or @ is written with a "
        "' in front, so that no spreadsheet runs it as a formula."
    )
    logger.info("exported %d of %d requests of a channel", written, total)
    return Reply(text="\n".join(lines), file=ReplyFile(name=name, content=content, content_type=CONTENT_TYPE))


def _count(requests: int) -> str:
    return f"{requests:,} request" + ("" if requests == 1 else "s")


async def existing_post(ctx: Context, row: Mapping[str, str | None]) -> str | None:
    """Why an imported row must be refused because it would post again what already exists; None if it would not.

    A row of an export names its posts in its `id` column. One that names a post this bot made through this
    Infinipost, and that is scheduled, rendering or live, would be a second copy of it: refused, with the reason
    in words. A post that failed, was cancelled or is gone may be imported again, as may a row whose `id` is empty
    (its author cleared it: a new post on purpose) or a request number (`#12`: it has no post).

    Args:
        row: the row as read from the file, by column name (any case).
    """
    cell = next((value or "" for key, value in row.items() if key and key.strip().lower() == "id"), "")
    post_ids = [word for word in re.split(r"[\s,]+", unguard_cell(cell.strip())) if word and not word.startswith("#")]
    if not post_ids:
        return None
    known = await ctx.storage.posts.by_ids(post_ids)
    for post_id in post_ids:  # in the row's order, so the reason names the first
        post = known.get(post_id)
        if post is None or post.status in _GONE:
            continue
        stored = await ctx.storage.requests.get(post.request_id)
        if stored is None or not ctx.storage.requests.is_ours(stored):
            continue  # made in another Infinipost: posting it here is no second copy
        return (
            f"its `id` names post `{post_id}`, which this bot already has ({post.status.value}, request "
            f"#{post.request_id}): importing it again would post it twice. Clear the row's `id` to post it anew."
        )
    return None


def export_time(when: datetime, tz: ZoneInfo) -> str:
    """An instant as the export writes it: ISO 8601 in `tz`, with its offset (`2026-12-05T12:00:00-05:00`)."""
    return when.astimezone(tz).isoformat(timespec="seconds")
