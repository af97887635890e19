"""`/posts`: the channel's queue. Upcoming posts first, soonest first, then recent ones, a page at a time.

    /posts [upcoming | past | failed] [mine] [@account] [refresh]      /posts more
    /posts export [upcoming | past | failed] [mine] [@account]         (all of them as a CSV file: bot/exporting.py)

Nothing is left out without saying so: a page that is not the last ends with how many more there are and how to
see them (`/posts more`, or the More button the adapters draw from `Reply.more`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import exporting
from bot.accounts import resolve_accounts
from bot.context import Context
from bot.dates import format_local
from bot.errors import ApiAuthError, ApiError, ApiNotFound, BadCommand
from bot.model import Caller, Command, PostStatus, RemotePost, Reply
from bot.post_status import is_late
from bot.records import RequestState, StoredPost, StoredRequest
from bot.recurrence import Recurrence
from bot.texts import clip
from bot.tracking import record_remote

logger = logging.getLogger(__name__)

PAGE = 10
USAGE = (
    "`/posts` lists this channel's posts, upcoming first. Narrow it with `upcoming`, `past`, `failed`, `pending` "
    "(waiting for approval), `mine` or "
    "an account (`/posts @brand-ig`); `refresh` asks Infinipost for news first; `/posts more` shows the next page; "
    "`/posts export` sends them all as a CSV file."
)
VIEWS = ("upcoming", "past", "failed", "pending")
LISTING_WORDS = (*VIEWS, "mine", "more", "export")  # what `/posts` takes besides an account, for a list to pick from
ELSEWHERE = "made in another Infinipost (the sandbox, another URL or key): shown as last seen"

STATE_TEXT = {
    RequestState.RECEIVED: "fetching its files",
    RequestState.NOT_SENT: "not sent: the bot stopped before sending it",
    RequestState.SENDING: "being sent",
    RequestState.FAILED: "refused by Infinipost",
    RequestState.UNCONFIRMED: "unconfirmed: checking with Infinipost",
    RequestState.NOT_CREATED: "not created",
    RequestState.UNCLEAR: "unclear: several posts at Infinipost could be it",
    RequestState.AWAITING_APPROVAL: "waiting for approval",
    RequestState.CHANGES_REQUESTED: "changes requested",
    RequestState.REJECTED: "rejected: nothing was sent",
    RequestState.EXPIRED: "expired: nobody approved it in time",
    RequestState.WITHDRAWN: "cancelled before approval: nothing was sent",
}
STATUS_TEXT = {
    PostStatus.SCHEDULED: "scheduled",
    PostStatus.PENDING_RENDER: "rendering",
    PostStatus.POSTED: "✅ live",
    PostStatus.FAILED: "❌ failed",
    PostStatus.CANCELLED: "cancelled",
    PostStatus.MISSING: "not found at Infinipost",
    PostStatus.UNKNOWN: "status unknown",
}


@dataclass(frozen=True)
class Listing:
    """What a `/posts` asked to see, and which page."""

    view: str = "all"
    mine: bool = False
    account: str | None = None  # as typed: `@brand-ig`, an ID, a name or an alias
    refresh: bool = False
    page: int = 1
    export: bool = False  # every post it lists, as a file, rather than a page

    @property
    def arguments(self) -> str:
        """The `/posts` text that asks for this listing again."""
        words = ["export"] if self.export else []
        words += [self.view] if self.view != "all" else []
        words += ["mine"] if self.mine else []
        words += [self.account] if self.account else []
        return " ".join(words)


def read_listing(text: str) -> Listing | None:
    """The listing `/posts <text>` asks for; None for `more`. Raises BadCommand for words it does not take."""
    words = text.split()
    if [w.lower() for w in words] == ["more"]:
        return None
    listing = Listing()
    position = 0
    while position < len(words):
        word, lowered = words[position], words[position].lower()
        position += 1
        if lowered in VIEWS and listing.view == "all":
            listing = replace(listing, view=lowered)
        elif lowered == "mine":
            listing = replace(listing, mine=True)
        elif lowered == "refresh":
            listing = replace(listing, refresh=True)
        elif lowered == "export" and not listing.export:
            listing = replace(listing, export=True)
        elif lowered == "page" and position < len(words) and words[position].isdecimal():
            listing = replace(listing, page=max(1, min(int(words[position]), 10_000)))
            position += 1
        elif listing.account is None and lowered not in (*VIEWS, "more", "export"):
            listing = replace(listing, account=word)
        else:
            raise BadCommand(f"`/posts` does not take `{clip(word, 40)}` there. {USAGE}")
    if listing.export and listing.refresh:
        # A refresh asks Infinipost about each post, one call each: too many for thousands.
        raise BadCommand(
            "`/posts export` writes each post's status as last seen and cannot `refresh` them all; "
            "`/posts refresh` first asks about the ones on its page."
        )
    return listing


async def list_posts(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    listing = read_listing(command.text)
    if listing is None:
        earlier = read_listing(ctx.listings.get(_whose(caller), "more"))
        if earlier is None:
            raise BadCommand(f"There is no list to go on with; send `/posts` first. {USAGE}")
        listing = replace(earlier, page=earlier.page + 1)
    account_id = None
    if listing.account:
        known = await (await ctx.infinipost(caller)).accounts.all()
        aliases = await ctx.storage.preferences.aliases(caller.platform, caller.workspace_id)
        (account,) = resolve_accounts([listing.account], known=known, aliases=aliases)
        account_id = account.id
    tz = await ctx.zone_of(caller)
    if listing.export:
        return await exporting.export_posts(
            ctx,
            caller,
            view=listing.view,
            mine=listing.mine,
            account_id=account_id,
            tz=tz,
            described=_described(listing),
            asked=f"/posts {listing.arguments}",
        )

    async def page() -> tuple[list[StoredRequest], int, dict[int, list[StoredPost]]]:
        requests, total = await ctx.storage.requests.channel_queue(
            caller.channel,
            view=listing.view,
            user_id=caller.user_id if listing.mine else None,
            account_id=account_id,
            limit=PAGE,
            offset=(listing.page - 1) * PAGE,
        )
        return requests, total, await ctx.storage.posts.of_requests([r.id for r in requests])

    requests, total, posts = await page()
    unread = 0
    if listing.refresh:  # then the page again: news moves posts from upcoming to recent
        # Another Infinipost's posts are not asked about.
        ours = [r.id for r in requests if ctx.storage.requests.is_ours(r)]
        unread = await refresh(ctx, caller, [p for r in ours for p in posts.get(r, []) if not p.status.is_final])
        requests, total, posts = await page()
    ctx.listings[_whose(caller)] = f"{listing.arguments} page {listing.page}"
    if not requests:
        return Reply(text=_nothing(listing, total))
    lines = [_heading(listing, tz)]
    if unread:
        lines.insert(0, f"Infinipost did not answer about {unread} post(s); their statuses are as last seen.")
    for stored in requests:
        line = describe(stored, posts.get(stored.id, []), tz, now=ctx.clock(), delay=ctx.settings.delay_alert)
        lines.append(line if ctx.storage.requests.is_ours(stored) else f"{line} · {ELSEWHERE}")
    shown = (listing.page - 1) * PAGE + len(requests)
    more = None
    if shown < total:
        lines.append(f"…and {total - shown} more: `/posts more` shows them.")
        more = f"{listing.arguments} page {listing.page + 1}".strip()
    return Reply(text="\n".join(lines), more=more)


def _whose(caller: Caller) -> tuple[str, str, str, str]:
    return (caller.platform, caller.workspace_id, caller.channel_id, caller.user_id)


def _heading(listing: Listing, tz: ZoneInfo) -> str:
    what = {
        "all": "Posts from this channel, upcoming first (soonest first), then recent ones",
        "upcoming": "Upcoming posts from this channel, soonest first",
        "past": "Past posts from this channel, latest first",
        "failed": "Failed posts from this channel",
        "pending": "Posts from this channel waiting for approval or changes, soonest first",
    }[listing.view]
    if listing.mine:
        what = what.replace("posts from this channel", "posts of yours in this channel").replace(
            "Posts from this channel", "Your posts in this channel"
        )
    if listing.account:
        what += f", for {listing.account}"
    page = f", page {listing.page}" if listing.page > 1 else ""
    return f"{what} (times in {tz.key}{page}):"


def _described(listing: Listing) -> str:
    """What a listing holds, in words: `this channel's posts`, `your failed posts in this channel`…"""
    view = {"all": "", "pending": "waiting "}.get(listing.view, f"{listing.view} ")
    what = f"your {view}posts in this channel" if listing.mine else f"this channel's {view}posts"
    return f"{what} for {listing.account}" if listing.account else what


def _nothing(listing: Listing, total: int) -> str:
    if listing.page > 1 and total:
        return f"That was all: the list has {total} post(s). `/posts` starts it again."
    if listing == Listing(view=listing.view, refresh=listing.refresh) and listing.view == "all":
        return "No posts from this channel yet. Schedule one with `/post` (see `/help post`)."
    return f"Nothing matches `/posts {listing.arguments}` in this channel. `/posts` lists them all."


def describe(stored: StoredRequest, posts: list[StoredPost], tz: ZoneInfo, *, now: datetime, delay: timedelta) -> str:
    """One line a request: when (its posts' own time, so a rescheduled one shows its new time), the accounts,
    the status, and the start of the caption."""
    request = stored.request
    when = _when(stored, posts)
    shown_when = format_local(when, tz) if when else "right away"
    caption = f"“{clip(' '.join((request.caption or '').split()), 40)}”" if request.caption else "(no caption)"
    names = {a.id: a.name or a.username or a.id for a in request.accounts}
    for post in posts:  # one post of the request rescheduled: its own time beside its account
        if when and post.scheduled_time and post.scheduled_time != when and not post.status.is_final:
            names[post.account_id] = (
                f"{names.get(post.account_id, post.account_label)} (at {_short(post.scheduled_time, tz)})"
            )
    if stored.recurrence is not None:  # a series: its rule, its posts listed on their own
        rule = Recurrence.from_json(stored.recurrence)
        state = "recurring" if stored.state == RequestState.SERIES else "recurring, ended"
        names_text = ", ".join(names.values())
        return f"#{stored.id} · every {rule.text} · {names_text} · {state} · {caption}"
    status_of = {post.id: _status(post, now=now, delay=delay) for post in posts}
    statuses = set(status_of.values())
    if stored.state in STATE_TEXT or len(statuses) != 1:
        accounts = ", ".join(names.values())
        status = (
            STATE_TEXT.get(stored.state)
            or "; ".join(f"{names.get(p.account_id, p.account_label)} {status_of[p.id]}" for p in posts)
            or "no posts"
        )
    else:
        accounts, status = (
            ", ".join(names.get(p.account_id, p.account_label) for p in posts),
            status_of[posts[0].id],
        )
    return f"#{stored.id} · {shown_when} · {accounts} · {status} · {caption}{_approval_history(stored, tz)}"


_STEP_WORDS = {
    "asked": "asked by",
    "approved": "approved by",
    "changes": "changes asked by",
    "edited": "edited by",
    "rejected": "rejected by",
    "cancelled": "cancelled by",
}


def _approval_history(stored: StoredRequest, tz: ZoneInfo) -> str:
    """A request's approval, step by step (who, when, note or reason), and whom it waits for."""
    approval = stored.approval
    if approval is None:
        return ""
    steps = []
    for step in approval.steps:
        if step.action == "reminded":
            continue
        if step.action == "expired":
            steps.append(f"expired {_short(step.at, tz)}")
            continue
        note = f" (“{clip(' '.join(step.note.split()), 60)}”)" if step.note else ""
        steps.append(f"{_STEP_WORDS.get(step.action, step.action)} {step.by_name} {_short(step.at, tz)}{note}")
    waiting = ""
    if stored.state == RequestState.AWAITING_APPROVAL:
        names = ", ".join(f"@{a.name or a.id}" for a in approval.approvers)
        waiting = f" · waiting for {names}"
    return f"{waiting}\n    {' → '.join(steps)}" if steps else waiting


def _status(post: StoredPost, *, now: datetime, delay: timedelta) -> str:
    """A post's status; one late as the tracker counts it says so, as the channel was told."""
    if is_late(post, now=now, delay=delay):
        return f"{STATUS_TEXT[post.status]}, ⚠️ past its time and not live yet"
    return STATUS_TEXT[post.status]


def _short(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _when(stored: StoredRequest, posts: list[StoredPost]) -> datetime | None:
    pending = [p.scheduled_time for p in posts if not p.status.is_final and p.scheduled_time]
    if pending:
        return min(pending)
    done = [p.posted_at or p.scheduled_time for p in posts if p.posted_at or p.scheduled_time]
    return max(done, default=None) or stored.request.scheduled_time  # type: ignore[type-var]


async def refresh(ctx: Context, caller: Caller, posts: list[StoredPost]) -> int:
    """Ask Infinipost about each post of the caller's workspace now, with its current key, and record what
    changed. Returns how many posts it could not read."""
    observed: list[tuple[StoredPost, RemotePost | None]] = []
    unread = 0
    api = (await ctx.infinipost(caller)).api
    for post in posts:
        try:
            observed.append((post, await api.get_post(post.id)))
        except ApiNotFound:
            observed.append((post, None))
        except ApiAuthError:
            raise  # the key itself is refused: said as such, never as "did not answer"
        except ApiError as exc:
            logger.warning("could not refresh post %s: %s", post.id, type(exc).__name__)
            unread += 1
    await record_remote(ctx, observed)
    return unread
