"""The core's own records: what it keeps about requests, posts, notices, channels and media, whatever stores them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from bot.model import Caller, ChannelRef, MessageRef, PostRequest, PostStatus


def utc_text(value: datetime | None) -> str | None:
    """A kept time as fixed-width UTC text: string order is time order, in notice payloads and in a database."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, kw_only=True)
class StoredRequest:
    """One /post as asked, with where it came from and how far it got."""

    id: int
    channel: ChannelRef
    user_id: str
    user_name: str
    command_text: str
    request: PostRequest
    state: str
    confirm_token: str | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    announcement: MessageRef | None
    reconcile_attempts: int = 0
    api: str = ""  # the Infinipost it went to: "sandbox" or the API's URL ("" if made before that was kept)
    approval: Approval | None = None  # in a channel that requires approval: whom it waits for, and its steps
    approval_due: datetime | None = None  # when the bot next looks at it while it waits (a reminder, its expiry)
    recurrence: str | None = None  # a recurring post's rule (bot/recurrence.py), as JSON
    series_id: int | None = None  # an occurrence of a recurring post: the request that asked for the series
    occurrence: int | None = None  # ... and its place in it, from 0

    @property
    def author(self) -> Caller:
        """Who asked for it, where: for work done in their name later (a series' posts)."""
        return Caller(
            platform=self.channel.platform,
            workspace_id=self.channel.workspace_id,
            channel_id=self.channel.channel_id,
            user_id=self.user_id,
            display_name=self.user_name,
        )


@dataclass(frozen=True, kw_only=True)
class StoredPost:
    """One Infinipost post (one account) of a request, with the status the bot last saw."""

    id: str
    request_id: int
    account_id: str
    account_label: str
    status: PostStatus
    scheduled_time: datetime | None
    posted_at: datetime | None
    next_check_at: datetime | None = None  # when the tracker asks Infinipost next; None: no longer tracked
    checks: int = 0  # checks since it was due without reaching a final state (the tracker's backoff)
    delay_warned: bool = False


@dataclass(frozen=True, kw_only=True)
class StoredNotice:
    id: int
    channel: ChannelRef
    kind: str
    request_id: int | None
    attempts: int
    payload: str = ""  # the Notice as JSON; read only for notices about to be delivered


@dataclass(frozen=True, kw_only=True)
class OutboxBacklog:
    """The notices not yet delivered: how many are due now, and when the oldest of them all was written."""

    due: int
    oldest: datetime | None


@dataclass(frozen=True, kw_only=True)
class Approver:
    """Someone who may approve: a user, or everyone in a group (a Slack user group, a Discord role)."""

    kind: Literal["user", "group"]
    id: str  # the platform's ID; in the console, the person's name
    name: str = ""  # as the platform showed it when the approver was named, for places that cannot mention

    def includes(self, caller: Caller) -> bool:
        return caller.user_id == self.id if self.kind == "user" else self.id in caller.groups


@dataclass(frozen=True, kw_only=True)
class ApprovalStep:
    """One step of a request's approval: who did what, when, and their note or reason."""

    action: str  # one of ApprovalStep.ACTIONS
    by_id: str
    by_name: str
    at: datetime
    note: str = ""

    ACTIONS = ("asked", "approved", "changes", "edited", "rejected", "expired", "cancelled", "reminded")


@dataclass(frozen=True, kw_only=True)
class Approval:
    """What a request that needs approval waits for, and what happened to it so far."""

    approvers: tuple[Approver, ...]
    authors_may_approve: bool = False
    steps: tuple[ApprovalStep, ...] = ()

    def allows(self, caller: Caller, *, author_id: str) -> bool:
        """Whether `caller` may approve (or turn down) a request by `author_id`."""
        if caller.user_id == author_id and not self.authors_may_approve:
            return False
        return any(approver.includes(caller) for approver in self.approvers)

    def with_step(self, step: ApprovalStep) -> Approval:
        return replace(self, steps=(*self.steps, step))

    @property
    def last(self) -> ApprovalStep | None:
        """The last step that changed where the request stands (a reminder does not)."""
        return next((s for s in reversed(self.steps) if s.action != "reminded"), None)

    @property
    def reminded(self) -> bool:
        """Whether the approvers were reminded since the request was last asked or edited."""
        for step in reversed(self.steps):
            if step.action == "reminded":
                return True
            if step.action in ("asked", "edited"):
                return False
        return False


@dataclass(frozen=True, kw_only=True)
class ChannelSettings:
    default_accounts: tuple[str, ...] = ()
    allowed_accounts: tuple[str, ...] | None = None  # None: every known account
    approvers: tuple[Approver, ...] = ()  # none: posts here need no approval
    authors_may_approve: bool = False
    slots: tuple[tuple[int, int], ...] = ()  # posting slots: (weekday, 0 is Monday; minute of the day), sorted
    slots_zone: str | None = None  # the zone the slots are read in

    @property
    def approval(self) -> Approval | None:
        """What a /post here waits for before it is sent; None when approval is off."""
        if not self.approvers:
            return None
        return Approval(approvers=self.approvers, authors_may_approve=self.authors_may_approve)

    def allows(self, account_id: str) -> bool:
        """Whether this channel may post to the account."""
        return self.allowed_accounts is None or account_id in self.allowed_accounts

    def allowing_only(self, account_ids: Sequence[str] | None) -> ChannelSettings:
        """The channel restricted to `account_ids` (None or none: every account again). Its defaults it may no
        longer post to are dropped, so that a /post naming no account never goes where it is not allowed."""
        allowed = tuple(account_ids) if account_ids else None
        kept = tuple(a for a in self.default_accounts if allowed is None or a in allowed)
        return replace(self, default_accounts=kept, allowed_accounts=allowed)


class RequestState:
    """The life of a stored request. Every request is stored before the API call and completed after it.

    A /post is stored as `accepted` as soon as the core has it, before it waits its turn or is read, with its
    command's text alone; a refused one is deleted again. A request with uploads is then `received` before they are
    fetched (its uploads named by their file names). So a replica that dies with a command in hand leaves a trace:
    another (once the claim expires) or the same after its restart settles it as `not_sent`, and its author is
    told. Once its uploads are in, it moves on like any other request.
    """

    ACCEPTED = "accepted"
    RECEIVED = "received"
    NOT_SENT = "not_sent"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    DISCARDED = "discarded"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    NOT_CREATED = "not_created"
    UNCLEAR = "unclear"  # several posts at Infinipost could be an unconfirmed create's: none was taken
    # In a channel that requires approval, after its author confirmed it: nothing is sent until it is approved.
    AWAITING_APPROVAL = "awaiting_approval"
    CHANGES_REQUESTED = "changes_requested"  # an approver asked for changes: its author `/edit`s it
    REJECTED = "rejected"
    EXPIRED = "expired"  # still waiting at its time: nothing goes out late on its own
    WITHDRAWN = "withdrawn"  # cancelled by its author (or an admin) while it waited

    PENDING = (AWAITING_APPROVAL, CHANGES_REQUESTED)  # waiting for someone: an approver, or its author
    # A recurring post, confirmed: it is sent as its occurrences, each a request of its own; then it has ended.
    SERIES = "series"
    SERIES_ENDED = "series_ended"


@dataclass(frozen=True, kw_only=True)
class NewNotice:
    """A notice to write in the same transaction as the change that causes it."""

    channel: ChannelRef
    kind: str
    request_id: int | None
    payload: str


@dataclass(frozen=True, kw_only=True)
class StoredMedia:
    key: str
    sha256: str
    content_type: str
    size: int


@dataclass(frozen=True, kw_only=True)
class Installation:
    """A chat platform's install of the app in one workspace, or in a whole organization (`workspace_id` empty).

    `record` is the platform's own record of it, as text, with its tokens: the core seals it (bot/sealing.py)
    before the database sees it, so that `Installations` only ever holds it sealed.
    """

    platform: str
    workspace_id: str = ""
    organization_id: str = ""
    record: str


@dataclass(frozen=True, kw_only=True)
class WorkspaceKey:
    """A workspace's (server's) own Infinipost API key, as kept: `sealed` by the core with BOT_ENCRYPTION_KEY
    (bot/sealing.py) before the database sees it, and only its last four characters in clear, to show back."""

    platform: str
    workspace_id: str
    sealed: str
    last4: str
    connected_by: str  # the user ID of the admin who connected it
    connected_at: datetime


@dataclass(frozen=True, kw_only=True)
class CalendarFeed:
    """A private iCal feed: whose it is, and which channels of their workspace it shows (None: all)."""

    platform: str
    workspace_id: str
    user_id: str
    channels: tuple[str, ...] | None


@dataclass(frozen=True, kw_only=True)
class DigestSetting:
    """When a channel's weekly digest goes out: a weekday (0 is Monday) and a local time, in a zone; or never."""

    enabled: bool = True
    weekday: int = 0
    minute: int = 9 * 60
    zone: str = "UTC"


@dataclass(frozen=True, kw_only=True)
class SeriesState:
    """Where a recurring post stands: how many occurrences were created, and when the next is due."""

    request_id: int
    state: str  # active, stopped or done
    created: int
    next_at: datetime | None
