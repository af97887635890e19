"""Channel notices: what the bot tells a channel about its posts, and how each is written.

A notice is stored in the outbox in the same transaction as the change that causes it, then delivered by
`bot.outbox`. Adapters turn a notice into a platform message with a `Style` of their own (how a time, a user
mention and user-supplied text are written there); the wording lives here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.model import ChannelRef, PostStatus
from bot.records import (
    ApprovalStep,
    Approver,
    NewNotice,
    RequestState,
    StoredPost,
    StoredRequest,
    from_utc_text,
    utc_text,
)
from bot.texts import SANDBOX_PREFIX, clip


class NoticeKind(StrEnum):
    SCHEDULED = "scheduled"  # the announcement: a new channel message whose reference is kept
    UPDATED = "updated"  # the announcement rewritten with each post's current status
    POSTED = "posted"
    FAILED = "failed"
    DELAYED = "delayed"
    ADOPTED = "adopted"  # an unconfirmed create that was found at Infinipost after all
    NOT_CREATED = "not_created"  # an unconfirmed create that Infinipost does not have
    UNCLEAR = "unclear"  # an unconfirmed create that several posts at Infinipost could be
    NOT_SENT = "not_sent"  # the bot stopped while fetching a request's uploads, before anything was sent
    NOT_HANDLED = "not_handled"  # the bot stopped with a /post in hand, before it was read: nothing was sent
    SEND_INTERRUPTED = "send_interrupted"  # the bot stopped during a create call; its outcome is being checked
    MISSING = "missing"  # Infinipost no longer has posts it made: their author is told
    # Approvals, in a channel that requires them.
    AWAITING_APPROVAL = "awaiting_approval"  # the announcement of a request waiting for approval, with its buttons
    APPROVED = "approved"  # its author is told, in the thread
    CHANGES_REQUESTED = "changes_requested"  # its author is told what to change
    REJECTED = "rejected"  # its author is told why
    EDITED = "edited"  # its approvers are told it waits for them again
    REMINDER = "reminder"  # its approvers are reminded before its time
    EXPIRED = "expired"  # nobody approved it before its time: author and approvers are told
    DIGEST = "digest"  # a channel's weekly digest: of no one request, its text written when it was due
    IMPORT_PROGRESS = "import_progress"  # how far an import of a CSV has got, written with one of its rows

    @property
    def speaks_to_author(self) -> bool:
        """Whether the notice asks its author to do something, so that platforms notify them, not just name them."""
        return self in _TO_THE_AUTHOR


_TO_THE_AUTHOR = frozenset({
    NoticeKind.FAILED, NoticeKind.NOT_CREATED, NoticeKind.UNCLEAR, NoticeKind.NOT_SENT, NoticeKind.NOT_HANDLED,
    NoticeKind.SEND_INTERRUPTED, NoticeKind.MISSING, NoticeKind.APPROVED, NoticeKind.CHANGES_REQUESTED,
    NoticeKind.REJECTED, NoticeKind.EXPIRED,
})  # fmt: skip
# The notices that ask the request's approvers to act (or tell them it is too late to): they are notified.
_TO_THE_APPROVERS = frozenset({
    NoticeKind.AWAITING_APPROVAL, NoticeKind.EDITED, NoticeKind.REMINDER, NoticeKind.EXPIRED,
})  # fmt: skip
ANNOUNCING = frozenset({NoticeKind.SCHEDULED, NoticeKind.AWAITING_APPROVAL})  # new messages later notices edit


Placement = Literal["new", "thread", "edit"]

PLACEMENT: dict[NoticeKind, Placement] = {
    NoticeKind.SCHEDULED: "new",
    NoticeKind.UPDATED: "edit",
    NoticeKind.POSTED: "thread",
    NoticeKind.FAILED: "new",
    NoticeKind.DELAYED: "thread",
    NoticeKind.ADOPTED: "thread",
    NoticeKind.NOT_CREATED: "new",
    NoticeKind.UNCLEAR: "new",
    NoticeKind.NOT_SENT: "new",
    NoticeKind.NOT_HANDLED: "new",
    NoticeKind.SEND_INTERRUPTED: "new",
    NoticeKind.MISSING: "new",
    NoticeKind.AWAITING_APPROVAL: "new",
    NoticeKind.APPROVED: "thread",
    NoticeKind.CHANGES_REQUESTED: "thread",
    NoticeKind.REJECTED: "thread",
    NoticeKind.EDITED: "thread",
    NoticeKind.REMINDER: "thread",
    NoticeKind.EXPIRED: "thread",
    NoticeKind.DIGEST: "new",
    NoticeKind.IMPORT_PROGRESS: "new",
}

_STATUS_MARK = {
    PostStatus.SCHEDULED: "⏳ scheduled",
    PostStatus.PENDING_RENDER: "⏳ rendering",
    PostStatus.POSTED: "✅ live",
    PostStatus.FAILED: "❌ failed",
    PostStatus.CANCELLED: "🚫 cancelled",
    PostStatus.MISSING: "❓ not found at Infinipost",
    PostStatus.UNKNOWN: "❔ unknown",
}


@dataclass(frozen=True, kw_only=True)
class NoticeItem:
    """One post (one account) a notice speaks of."""

    account: str
    status: str
    post_id: str | None = None
    request_id: int | None = None
    due: str | None = None  # this post's own time, where it is not the notice's (one of a request rescheduled)


@dataclass(frozen=True, kw_only=True)
class DigestFailure:
    """A post that failed last week, and the message that announced its request (to link to), if known."""

    request_id: int
    post_id: str | None
    channel_id: str
    message_id: str | None


@dataclass(frozen=True, kw_only=True)
class DigestAccount:
    """Last week's outcome for one account: how many posts went live, failed, were cancelled (or are unsettled)."""

    account: str
    counts: tuple[tuple[str, int], ...]
    failures: tuple[DigestFailure, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DigestPost:
    time: str  # HH:MM in the digest's zone
    account: str
    status: str
    caption: str
    request_id: int


@dataclass(frozen=True, kw_only=True)
class Digest:
    """A channel's weekly digest, as data: each platform writes its links and escapes its text."""

    week: str  # "Mon 2 Nov"
    zone: str
    workspace_id: str
    past: tuple[DigestAccount, ...]
    days: tuple[tuple[str, tuple[DigestPost, ...]], ...]  # this week's days that have posts, in order
    empty: tuple[str, ...]  # this week's days with nothing scheduled

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "zone": self.zone,
            "workspace_id": self.workspace_id,
            "past": [
                {"account": a.account, "counts": a.counts, "failures": [vars(f) for f in a.failures]} for a in self.past
            ],
            "days": [[label, [vars(p) for p in posts]] for label, posts in self.days],
            "empty": list(self.empty),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digest:
        return cls(
            week=data["week"],
            zone=data["zone"],
            workspace_id=data["workspace_id"],
            past=tuple(
                DigestAccount(
                    account=a["account"],
                    counts=tuple((str(word), int(n)) for word, n in a["counts"]),
                    failures=tuple(DigestFailure(**f) for f in a["failures"]),
                )
                for a in data["past"]
            ),
            days=tuple((label, tuple(DigestPost(**p) for p in posts)) for label, posts in data["days"]),
            empty=tuple(data["empty"]),
        )


@dataclass(frozen=True, kw_only=True)
class ImportProgress:
    """Where an import of a CSV file stands, after one of its rows: rows handled of those it sends, how many were
    scheduled and refused, and whether it is over (all done, or stopped at a row whose outcome is unknown)."""

    file: str
    done: int
    total: int
    sent: int
    refused: int
    stopped_at: int | None = None  # the row (as the file numbers it) whose create Infinipost did not confirm

    @property
    def over(self) -> bool:
        return self.done >= self.total or self.stopped_at is not None


@dataclass(frozen=True, kw_only=True)
class NoticeApproval:
    """Where a request stands with its approvers, as a notice shows it: its state, whom it waits for, and its last
    step (who, when, note or reason)."""

    state: str  # the request's state (bot/records.py RequestState)
    approvers: tuple[Approver, ...]
    last: ApprovalStep | None = None

    @property
    def waiting(self) -> bool:
        """Whether the approvers can still approve it: its announcement carries the buttons."""
        return self.state == RequestState.AWAITING_APPROVAL

    def to_dict(self) -> dict[str, Any]:
        last = self.last
        return {
            "state": self.state,
            "approvers": [vars(a) for a in self.approvers],
            "last": None if last is None else {**vars(last), "at": utc_text(last.at)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoticeApproval:
        last = data.get("last")
        return cls(
            state=data["state"],
            approvers=tuple(Approver(**a) for a in data["approvers"]),
            last=None if last is None else ApprovalStep(**{**last, "at": from_utc_text(last["at"])}),
        )


@dataclass(frozen=True, kw_only=True)
class Notice:
    kind: NoticeKind
    request_id: int
    author_id: str
    author_name: str
    content_type: str
    media_count: int
    caption: str | None
    scheduled_time: datetime | None
    items: tuple[NoticeItem, ...]
    sandbox: bool = False
    approval: NoticeApproval | None = None
    digest: Digest | None = None  # a weekly digest's content
    progress: ImportProgress | None = None  # an import's, as of the request this notice was written with

    @classmethod
    def of_digest(cls, digest: Digest, *, due: datetime | None = None, sandbox: bool = False) -> Notice:
        """A channel's weekly digest as a notice: of no one request, its content all in `digest`."""
        return cls(
            kind=NoticeKind.DIGEST,
            request_id=0,
            author_id="",
            author_name="",
            content_type="",
            media_count=0,
            caption=None,
            scheduled_time=due,
            items=(),
            sandbox=sandbox,
            digest=digest,
        )

    @property
    def placement(self) -> Placement:
        return PLACEMENT[self.kind]

    @property
    def asks_for_approval(self) -> bool:
        """Whether the message carries Approve, Request changes and Reject: an announcement still waiting."""
        return (
            self.kind in (NoticeKind.AWAITING_APPROVAL, NoticeKind.UPDATED)
            and self.approval is not None
            and self.approval.waiting
        )

    @property
    def approvers_to_notify(self) -> tuple[Approver, ...]:
        """The approvers this notice asks to act, whom platforms notify (not just name)."""
        if self.kind in _TO_THE_APPROVERS and self.approval is not None:
            return self.approval.approvers
        return ()

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "request_id": self.request_id,
            "author_id": self.author_id,
            "author_name": self.author_name,
            "content_type": self.content_type,
            "media_count": self.media_count,
            "caption": self.caption,
            "scheduled_time": utc_text(self.scheduled_time),
            "items": [vars(item) for item in self.items],
            "sandbox": self.sandbox,
        }
        if self.approval is not None:
            data["approval"] = self.approval.to_dict()
        if self.digest is not None:
            data["digest"] = self.digest.to_dict()
        if self.progress is not None:
            data["progress"] = vars(self.progress)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        data = json.loads(text)
        return cls(
            kind=NoticeKind(data["kind"]),
            request_id=int(data["request_id"]),
            author_id=data["author_id"],
            author_name=data["author_name"],
            content_type=data["content_type"],
            media_count=int(data["media_count"]),
            caption=data.get("caption"),
            scheduled_time=from_utc_text(data.get("scheduled_time")),
            items=tuple(NoticeItem(**item) for item in data["items"]),
            sandbox=bool(data.get("sandbox")),
            approval=NoticeApproval.from_dict(data["approval"]) if data.get("approval") else None,
            digest=Digest.from_dict(data["digest"]) if data.get("digest") else None,
            progress=ImportProgress(**data["progress"]) if data.get("progress") else None,
        )


def notice_for(
    kind: NoticeKind,
    stored: StoredRequest,
    posts: Sequence[StoredPost],
    *,
    sandbox: bool,
) -> NewNotice:
    """A notice about `posts` of a stored request, ready to be written to the outbox."""
    request = stored.request
    scheduled = None  # "right away" posts keep saying so
    if request.scheduled_time is not None:
        scheduled = min((p.scheduled_time for p in posts if p.scheduled_time), default=request.scheduled_time)
    if posts:
        items = tuple(
            NoticeItem(
                account=p.account_label,
                status=p.status.value,
                post_id=p.id,
                request_id=stored.id,
                due=utc_text(p.scheduled_time) if scheduled and p.scheduled_time not in (None, scheduled) else None,
            )
            for p in posts
        )
    else:
        items = tuple(NoticeItem(account=a.label, status=stored.state, request_id=stored.id) for a in request.accounts)
    notice = Notice(
        kind=kind,
        request_id=stored.id,
        author_id=stored.user_id,
        author_name=stored.user_name,
        content_type=request.content_type,
        media_count=len(request.media_urls),
        # A command never read has no caption of its own yet: its author is shown what they typed.
        caption=clip(stored.command_text, 200) if kind is NoticeKind.NOT_HANDLED else request.caption,
        scheduled_time=scheduled,
        items=items,
        sandbox=sandbox,
        approval=_approval_of(stored),
    )
    return NewNotice(channel=stored.channel, kind=kind.value, request_id=stored.id, payload=notice.to_json())


def _approval_of(stored: StoredRequest) -> NoticeApproval | None:
    if stored.approval is None:
        return None
    return NoticeApproval(state=stored.state, approvers=stored.approval.approvers, last=stored.approval.last)


@dataclass(frozen=True, kw_only=True)
class Style:
    """How a platform writes the parts of a notice that differ between platforms."""

    time: Callable[[datetime], str]
    mention: Callable[[str, str], str]  # (user ID, display name) -> a mention
    text: Callable[[str], str] = field(default=lambda s: s)  # escape user-supplied text
    group: Callable[[str, str], str] = field(default=lambda _id, name: f"@{name}")  # (group ID, name) -> a mention
    # (workspace ID, channel ID, message ID, label) -> a link to that message, labelled
    link: Callable[[str, str, str, str], str] = field(default=lambda _w, _c, _m, label: label)

    def approver(self, approver: Approver) -> str:
        if approver.kind == "group":
            return self.group(approver.id, approver.name or approver.id)
        return self.mention(approver.id, approver.name or approver.id)

    def approvers(self, approvers: Sequence[Approver]) -> str:
        return ", ".join(map(self.approver, approvers))


def render(notices: Sequence[Notice], style: Style) -> str:
    """The text of one message carrying one notice, or several of one kind coalesced into one."""
    first = notices[0]
    body = _render_many(notices, style) if len(notices) > 1 else _RENDERERS[first.kind](first, style)
    return (SANDBOX_PREFIX if first.sandbox else "") + body


def _what(n: Notice) -> str:
    if n.content_type == "video":
        return "video"
    return f"slideshow of {n.media_count} images" if n.media_count != 1 else "slideshow of 1 image"


def _when(n: Notice, style: Style) -> str:
    return style.time(n.scheduled_time) if n.scheduled_time else "right away"


def _caption(n: Notice, style: Style) -> str:
    if not n.caption:
        return ""
    caption = clip(n.caption, 300)
    return "".join(f"\n> {line}" for line in style.text(caption).splitlines())


def _accounts(n: Notice, style: Style) -> str:
    return ", ".join(style.text(item.account) for item in n.items)


def _items(n: Notice, style: Style, *, marks: bool) -> str:
    lines = []
    for item in n.items:
        mark = _STATUS_MARK.get(PostStatus.from_api(item.status), item.status) if marks else ""
        ident = f" `{item.post_id}`" if item.post_id else ""
        due = from_utc_text(item.due)
        own_time = f" for {style.time(due)}" if due else ""
        lines.append(f"• {style.text(item.account)}{ident}{own_time}{' — ' + mark if mark else ''}")
    return "\n".join(lines)


def _scheduled(n: Notice, style: Style) -> str:
    head = (
        f"📅 {style.mention(n.author_id, n.author_name)} scheduled a {_what(n)} "
        f"{'for ' + _when(n, style) if n.scheduled_time else 'to go out right away'} "
        f"(request #{n.request_id}):"
    )
    rendering = any(PostStatus.from_api(item.status) is PostStatus.PENDING_RENDER for item in n.items)
    return f"{head}\n{_items(n, style, marks=n.kind is NoticeKind.UPDATED or rendering)}{_caption(n, style)}"


def _posted(n: Notice, style: Style) -> str:
    accounts = _accounts(n, style)
    return f"✅ Live now on {accounts} (request #{n.request_id})."


def _failed(n: Notice, style: Style) -> str:
    accounts = _accounts(n, style)
    return (
        f"❌ {style.mention(n.author_id, n.author_name)} the {_what(n)} for {accounts}, due {_when(n, style)}, "
        f"failed at Infinipost (request #{n.request_id}). Infinipost does not say why; check the media link "
        "and the account, then schedule it again."
    )


def _delayed(n: Notice, style: Style) -> str:
    accounts = _accounts(n, style)
    return (
        f"⚠️ The post for {accounts} was due {_when(n, style)} and is not live yet, as far as I can tell "
        f"(request #{n.request_id}). I will say here when it is."
    )


def _adopted(n: Notice, style: Style) -> str:
    return (
        f"🔎 Request #{n.request_id} was created at Infinipost after all; I am tracking it now.\n"
        f"{_items(n, style, marks=False)}"
    )


def _not_created(n: Notice, style: Style) -> str:
    return (
        f"⚠️ {style.mention(n.author_id, n.author_name)} your {_what(n)} for "
        f"{_accounts(n, style)} (request #{n.request_id}) was probably not "
        "created: Infinipost has no such post. You can send the command again."
    )


def _unclear(n: Notice, style: Style) -> str:
    return (
        f"⚠️ {style.mention(n.author_id, n.author_name)} I cannot tell whether your {_what(n)} "
        f"(request #{n.request_id}) was created. Infinipost did not confirm it, and it has several posts with the "
        "same caption, time and media that could each be it, so I am following none of them:\n"
        f"{_items(n, style, marks=False)}\n"
        "Check them in Infinipost and delete any that should not go out. Do not send the command again "
        "before you have."
    )


def _not_sent(n: Notice, style: Style) -> str:
    return (
        f"⚠️ {style.mention(n.author_id, n.author_name)} your {_what(n)} for "
        f"{_accounts(n, style)} (request #{n.request_id}) was not sent: the bot "
        "stopped while it was fetching the files. Nothing was posted; you can send the command again."
    )


def _not_handled(n: Notice, style: Style) -> str:
    return (
        f"⚠️ {style.mention(n.author_id, n.author_name)} your `/post {style.text(n.caption or '')}` "
        f"(request #{n.request_id}) was not sent: the bot stopped before it could handle it. Nothing was posted; "
        "you can send the command again."
    )


def _send_interrupted(n: Notice, style: Style) -> str:
    return (
        f"⚠️ {style.mention(n.author_id, n.author_name)} the bot stopped while sending your {_what(n)} for "
        f"{_accounts(n, style)} (request #{n.request_id}). I am checking with "
        "Infinipost whether it was created and will say so here; please do not send it again yet."
    )


def _missing(n: Notice, style: Style) -> str:
    return (
        f"❓ {style.mention(n.author_id, n.author_name)} Infinipost no longer has the {_what(n)} for "
        f"{_accounts(n, style)}, due {_when(n, style)} (request #{n.request_id}). "
        "It was not cancelled through the bot; check Infinipost, and schedule it again if it should still go out."
    )


_DECIDED = {
    "approved": "✅ Approved by {by} {at}.",
    "changes": "✏️ {by} asked for changes {at}:",
    "edited": "✏️ Edited by {by} {at}; waiting for approval again.",
    "rejected": "🚫 Rejected by {by} {at}:",
    "expired": "⌛ Expired {at}: nobody approved it before its time. Nothing was sent.",
    "cancelled": "🚫 Cancelled by {by} {at}. Nothing was sent.",
}


def _approval_line(n: Notice, style: Style) -> str:
    """Where the request stands with its approvers, under its announcement."""
    approval = n.approval
    if approval is None:
        return ""
    lines = []
    last = approval.last
    if last is not None and last.action in _DECIDED:
        lines.append(_DECIDED[last.action].format(by=style.text(last.by_name), at=style.time(last.at)))
        if last.note and last.action in ("changes", "rejected"):
            lines[-1] += "".join(f"\n> {line}" for line in style.text(clip(last.note, 300)).splitlines())
    if approval.waiting:
        lines.append(f"Waiting for approval by {style.approvers(approval.approvers)}.")
    elif approval.state == RequestState.CHANGES_REQUESTED:
        lines.append(f"Waiting for {style.text(n.author_name)} to `/edit #{n.request_id}`.")
    return "\n" + "\n".join(lines) if lines else ""


def _awaiting(n: Notice, style: Style) -> str:
    """The announcement of a request that needs approval, until it is approved: what was asked, and where it
    stands."""
    accounts = _accounts(n, style)
    when = f"for {_when(n, style)}" if n.scheduled_time else "to go out as soon as it is approved"
    return (
        f"🗳️ {style.mention(n.author_id, n.author_name)} asks to post a {_what(n)} to {accounts} {when} "
        f"(request #{n.request_id}).{_caption(n, style)}{_approval_line(n, style)}"
    )


def _announcement(n: Notice, style: Style) -> str:
    """An announcement rewritten: what is scheduled, or, before approval, what waits for it."""
    if n.approval is not None and n.approval.state in (*RequestState.PENDING, *_CLOSED):
        return _awaiting(n, style)
    return _scheduled(n, style) + _approval_line(n, style)


_CLOSED = (RequestState.REJECTED, RequestState.EXPIRED, RequestState.WITHDRAWN)


def _note(n: Notice, style: Style) -> str:
    last = n.approval.last if n.approval else None
    if last is None or not last.note:
        return ""
    return "".join(f"\n> {line}" for line in style.text(clip(last.note, 1000)).splitlines())


def _by(n: Notice, style: Style) -> str:
    last = n.approval.last if n.approval else None
    return style.text(last.by_name) if last else "an approver"


def _approved(n: Notice, style: Style) -> str:
    when = f"scheduled for {_when(n, style)}" if n.scheduled_time else "sent to go out right away"
    return (
        f"✅ {style.mention(n.author_id, n.author_name)} {_by(n, style)} approved request #{n.request_id}; it is "
        f"{when}."
    )


def _changes_requested(n: Notice, style: Style) -> str:
    return (
        f"✏️ {style.mention(n.author_id, n.author_name)} {_by(n, style)} asks for changes to request "
        f"#{n.request_id}:{_note(n, style)}\nChange it with `/edit #{n.request_id}` and what to change (e.g. "
        f"`/edit #{n.request_id} at friday 9am -- New caption`); it then goes back to the approvers."
    )


def _rejected(n: Notice, style: Style) -> str:
    return (
        f"🚫 {style.mention(n.author_id, n.author_name)} {_by(n, style)} rejected request #{n.request_id}; "
        f"nothing was sent.{_note(n, style)}"
    )


def _edited(n: Notice, style: Style) -> str:
    approvers = style.approvers(n.approval.approvers) if n.approval else "the approvers"
    return (
        f"✏️ {style.text(n.author_name)} edited request #{n.request_id}: {approvers}, it waits for your approval "
        "again (the message above shows it as it is now)."
    )


def _reminder(n: Notice, style: Style) -> str:
    approvers = style.approvers(n.approval.approvers) if n.approval else "Approvers"
    return (
        f"⏰ {approvers}: request #{n.request_id} by {style.text(n.author_name)} is due {_when(n, style)} and still "
        "waits for your approval. If nobody approves it by then, it expires and nothing is sent."
    )


def _expired(n: Notice, style: Style) -> str:
    approvers = style.approvers(n.approval.approvers) if n.approval else "the approvers"
    due = f"its time ({_when(n, style)})" if n.scheduled_time else "the end of its wait"
    return (
        f"⌛ {style.mention(n.author_id, n.author_name)} request #{n.request_id} was not approved by {due}, so it "
        f"expired and nothing was sent ({approvers} were asked). Send it again with a new time if it should still "
        "go out."
    )


def _digest(d: Digest, style: Style) -> str:
    lines = [f"🗓️ Weekly digest for the week of {d.week} (times in {d.zone})", "", "Last week:"]
    for account in d.past:
        counts = ", ".join(f"{n} {word}" for word, n in account.counts)
        failed = [
            style.link(d.workspace_id, f.channel_id, f.message_id, f"#{f.request_id}")
            if f.message_id
            else f"#{f.request_id}"
            for f in account.failures
        ]
        lines.append(
            f"• {style.text(account.account)}: {counts}" + (f" (failed: {', '.join(failed)})" if failed else "")
        )
    if not d.past:
        lines.append("• nothing was scheduled")
    lines += ["", "This week:"]
    for label, posts in d.days:
        lines.append(f"{label}:")
        for post in posts:
            caption = f" — “{style.text(clip(post.caption, 40))}”" if post.caption else ""
            lines.append(f"• {post.time} {style.text(post.account)} — {post.status}{caption} (#{post.request_id})")
    if not d.days:
        lines.append("• nothing scheduled yet")
    if d.empty:
        lines += ["", f"Nothing scheduled on: {', '.join(d.empty)}."]
    return "\n".join(lines)


def _import_progress(n: Notice, style: Style) -> str:
    p = n.progress
    if p is None:
        return ""
    # Named on the way, mentioned (so notified) only when it is over.
    author = style.mention(n.author_id, n.author_name) if p.over else style.text(n.author_name)
    whose = f"{author}'s import of `{style.text(p.file)}`"
    counts = f"{p.sent} scheduled, {p.refused} refused by Infinipost"
    if p.stopped_at is not None:
        return (
            f"⚠️ {whose} stopped at row {p.stopped_at}: Infinipost did not say whether it created that post, so the "
            f"rest were not sent ({counts}; {p.total - p.done} not sent). Its author was told which rows are which."
        )
    if p.over:
        return f"📥 {whose} is done: {p.total} rows handled, {counts}."
    return f"📥 {whose}: {p.done} of {p.total} rows handled so far ({counts})."


def _render_many(notices: Sequence[Notice], style: Style) -> str:
    kind = notices[0].kind
    items = [item for n in notices for item in n.items]
    heading = {
        NoticeKind.POSTED: f"✅ {len(items)} posts are live now:",
        NoticeKind.FAILED: f"❌ {len(items)} posts failed at Infinipost:",
        NoticeKind.DELAYED: f"⚠️ {len(items)} posts are late and not live yet, as far as I can tell:",
    }.get(kind, f"{len(notices)} updates:")
    authors = {(n.author_id, n.author_name) for n in notices if kind is NoticeKind.FAILED}
    mentions = " ".join(style.mention(a, b) for a, b in sorted(authors))
    lines = [f"{heading}{' ' + mentions if mentions else ''}"]
    for n in notices:
        for item in n.items:
            lines.append(f"• {style.text(item.account)} — request #{n.request_id}, due {_when(n, style)}")
    return "\n".join(lines)


_RENDERERS: dict[NoticeKind, Callable[[Notice, Style], str]] = {
    NoticeKind.SCHEDULED: _scheduled,
    NoticeKind.UPDATED: _announcement,
    NoticeKind.POSTED: _posted,
    NoticeKind.FAILED: _failed,
    NoticeKind.DELAYED: _delayed,
    NoticeKind.ADOPTED: _adopted,
    NoticeKind.NOT_CREATED: _not_created,
    NoticeKind.UNCLEAR: _unclear,
    NoticeKind.NOT_SENT: _not_sent,
    NoticeKind.NOT_HANDLED: _not_handled,
    NoticeKind.SEND_INTERRUPTED: _send_interrupted,
    NoticeKind.MISSING: _missing,
    NoticeKind.AWAITING_APPROVAL: _awaiting,
    NoticeKind.APPROVED: _approved,
    NoticeKind.CHANGES_REQUESTED: _changes_requested,
    NoticeKind.REJECTED: _rejected,
    NoticeKind.EDITED: _edited,
    NoticeKind.REMINDER: _reminder,
    NoticeKind.EXPIRED: _expired,
    NoticeKind.DIGEST: lambda n, style: _digest(n.digest, style) if n.digest else "",
    NoticeKind.IMPORT_PROGRESS: _import_progress,
}


def announcement_refused(notice: Notice, channel: ChannelRef, problem: str) -> str:
    """What the author is told directly when the channel refused the announcement (`<#id>` names a channel on
    both Slack and Discord)."""
    if notice.kind is NoticeKind.AWAITING_APPROVAL:
        return (
            f"Request #{notice.request_id} waits for approval, but I could not announce it in "
            f"<#{channel.channel_id}>, so its approvers were not asked there: {problem}. `/posts pending` there "
            "still shows it, and `/approve` works on it."
        )
    return (
        f"I scheduled request #{notice.request_id}, but could not announce it in <#{channel.channel_id}>: "
        f"{problem}. `/posts` there still shows it."
    )
