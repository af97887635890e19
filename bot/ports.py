"""What the core needs from its database, named after the domain: one port per aggregate, and a `Store` that
holds them all. `storage/` implements them; the core sees nothing else of it.

A change and the notices (and audit row) it causes are written in one transaction: the methods that take
`notices=` or `audit=` promise that, so that a crash never leaves a change untold or a notice about nothing.
An audit row is only ever written with the change it records, so audit has no port of its own.

Several replicas may share one database. Work that must be done once (asking Infinipost about a due post,
reconciling an unconfirmed request, delivering a notice, settling a request a dead process left half-way) is
CLAIMED before it is done: one atomic step picks rows that are due and free, and stamps them with this replica's
id and an expiry (now + the store's lease), and returns them. A row is free when it has no claim, its claim has
expired, or the claim is this replica's own (a replica keeps its id across restarts, so it takes back what its
predecessor held at once). Two replicas claiming at the same moment get disjoint rows; PostgreSQL does this with
`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING ...`. Recording the work's outcome through
the ordinary write (`Posts.update`, `Requests.finish`, `reconcile_later`, `NoticeQueue.delivered`/`retry`) clears
the claim; a replica that dies leaves its claims to expire, and then another replica takes the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.model import Caller, ChannelRef, MessageRef, PostRequest
from bot.records import (
    Approval,
    CalendarFeed,
    ChannelSettings,
    DigestSetting,
    Installation,
    NewNotice,
    OutboxBacklog,
    RequestState,
    SeriesState,
    StoredMedia,
    StoredNotice,
    StoredPost,
    StoredRequest,
    WorkspaceKey,
)

# Who did what to which request, and the details: written in the same transaction as the change.
RequestAudit = tuple[Caller, str, dict[str, Any]]
PostAudit = tuple[Caller, str, int | None, dict[str, Any]]


class Requests(Protocol):
    """Each /post as asked, from before its create call to its outcome."""

    def is_ours(self, stored: StoredRequest) -> bool:
        """Whether a request was made through the Infinipost (URL and key) this process uses."""
        ...

    async def save(
        self,
        caller: Caller,
        *,
        command_text: str,
        request: PostRequest,
        state: str,
        confirm_token: str | None = None,
        recurrence: str | None = None,
    ) -> StoredRequest:
        """Store a request before anything is sent, either awaiting confirmation or about to be sent (`recurrence`:
        a recurring post's rule, as JSON). A request
        saved (`save`, `ready`, `move`) into `received` or `sending` is claimed by this replica for the lease: it is
        this replica's work, which another's start-up leaves alone until the claim expires."""
        ...

    async def accept(self, caller: Caller, *, command_text: str, request: PostRequest) -> int:
        """Keep a command as `accepted`, claimed by this replica, before the platform hears it arrived; its number.
        On the acknowledgement's path: it never waits behind other work."""
        ...

    async def ready(
        self,
        request_id: int,
        *,
        request: PostRequest,
        state: str,
        confirm_token: str | None = None,
        from_state: str = RequestState.RECEIVED,
        user_name: str | None = None,
        recurrence: str | None = None,
    ) -> StoredRequest:
        """An accepted request read, or a received one whose uploads are in (`from_state`): its request, and what
        happens next (and its author's name as the platform gives it, if known only now); the request as stored now.
        StorageError if it is no longer in `from_state`."""
        ...

    async def drop_received(self, request_id: int) -> None:
        """Forget an accepted or received request that was refused (or cut short) before anything was sent."""
        ...

    async def get(self, request_id: int) -> StoredRequest | None: ...

    async def by_token(self, token: str) -> StoredRequest | None: ...

    async def move(self, request_id: int, *, from_state: str, to_state: str) -> bool:
        """Change a request's state only if it is still in `from_state`: a second click does nothing. Moved to
        `sending`, it is claimed by this replica; moved anywhere else, its claim is cleared."""
        ...

    async def finish(
        self,
        request_id: int,
        *,
        state: str,
        error: str | None = None,
        posts: Sequence[StoredPost] = (),
        audit: RequestAudit | None = None,
        notices: Iterable[NewNotice] = (),
        reconcile_at: datetime | None = None,
    ) -> None:
        """Record the outcome of the create call, its posts, audit row and notices, all in one transaction, and
        clear the request's claim. `reconcile_at`: when to look for an unconfirmed request's posts."""
        ...

    async def transition(
        self,
        request_id: int,
        *,
        from_states: Sequence[str],
        to_state: str,
        approval: Approval | None,
        approval_due: datetime | None,
        request: PostRequest | None = None,
        due_was: datetime | None = None,
        request_was: PostRequest | None = None,
        audit: RequestAudit | None = None,
        notices: Iterable[NewNotice] = (),
    ) -> StoredRequest | None:
        """A step of a request's approval: its state, approval record and next look (and, given, its request)
        changed only if it is still in one of `from_states` (and, given `due_was`, still due then; given
        `request_was`, still that request: not edited meanwhile), with its audit
        row and notices, in one guarded write. The request as it is now; None if it had moved on meanwhile."""
        ...

    async def approvals_due(self, now: datetime, *, limit: int) -> list[StoredRequest]:
        """Requests waiting for approval whose reminder or expiry is due at `now`, soonest first."""
        ...

    async def claim_unfinished(self, *, restarted: bool = True) -> list[StoredRequest]:
        """Claim and return the requests left accepted, receiving their uploads, or sending to this Infinipost,
        whose replica stopped working on them: no claim, or an expired one; at start-up (`restarted`) also this
        replica's own from before its restart. One a live replica holds (it renews its claim) is not returned."""
        ...

    async def unsettled(self) -> list[StoredRequest]:
        """Requests whose create is under way or whose outcome is unknown, made through this Infinipost."""
        ...

    async def interrupted_to_unconfirmed(self, *, before: datetime | None = None) -> list[int]:
        """Requests left `sending` become unconfirmed, in one atomic step; their ids. Only those unclaimed (made
        before claims) or this replica's own that last changed before `before` if given: never one another replica
        is sending. One whose replica died (its claim expired) is `claim_unfinished`'s, whose caller tells its
        author."""
        ...

    async def claim_reconciliations(self, now: datetime) -> list[StoredRequest]:
        """Claim and return the unconfirmed requests whose reconciliation is due at `now` and that are free."""
        ...

    async def keep_claim(self, request_id: int) -> bool:
        """Renew this replica's claim on a request it is still working on (fetching its uploads) for another
        lease; False if the claim is no longer its own."""
        ...

    async def reconcile_later(self, request_id: int, *, at: datetime) -> None:
        """Look again at `at`, counting an attempt; clears the claim."""
        ...

    async def channel_queue(
        self,
        channel: ChannelRef,
        *,
        view: str = "all",
        user_id: str | None = None,
        account_id: str | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[StoredRequest], int]:
        """A page of the channel's requests as a queue (`all`, `upcoming`, `past` or `failed`), and how many
        there are in all."""
        ...


class Posts(Protocol):
    """The Infinipost posts of each request, with the status the bot last saw and the tracker's schedule."""

    async def of_requests(self, request_ids: Sequence[int]) -> dict[int, list[StoredPost]]: ...

    async def by_ids(self, post_ids: Sequence[str]) -> dict[str, StoredPost]: ...

    async def get(self, post_id: str) -> StoredPost | None: ...

    async def known_ids(self, post_ids: Sequence[str]) -> set[str]: ...

    async def update(
        self,
        changes: Sequence[StoredPost],
        *,
        audit: PostAudit | None = None,
        notices: Iterable[NewNotice] = (),
    ) -> None:
        """Write posts as they now are (status, times, tracking), with their audit row and notices, at once;
        their claims are cleared."""
        ...

    async def claim_due(self, now: datetime, *, limit: int) -> list[StoredPost]:
        """Claim and return up to `limit` posts of this Infinipost the tracker should ask about now and that are
        free, soonest first: two replicas' rounds never ask about one post twice."""
        ...

    async def next_check_time(self) -> datetime | None:
        """When the tracker is next due to ask about a post of this Infinipost (None: none is tracked); in the
        past when it is behind."""
        ...


class Preferences(Protocol):
    """What people and channels chose: a person's zone, a channel's accounts, a workspace's aliases."""

    async def user_timezone(self, caller: Caller) -> str | None: ...

    async def set_user_timezone(self, caller: Caller, timezone: str | None) -> None: ...

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings: ...

    async def save_channel_settings(
        self, caller: Caller, settings: ChannelSettings, *, action: str = "channel_accounts"
    ) -> None:
        """Keep a channel's settings, with an audit row of `action` (what was changed), in one transaction."""
        ...

    async def aliases(self, platform: str, workspace_id: str) -> dict[str, str]: ...

    async def set_alias(self, caller: Caller, alias: str, account_id: str | None) -> bool:
        """Name an account for this workspace (`None` removes the alias), in any case. Returns whether there
        was such an alias before."""
        ...


class MediaIndex(Protocol):
    """The media the bot stored, and which requests use them, so that clean-up keeps what is still needed."""

    async def save(self, key: str, *, sha256: str, content_type: str, size: int) -> None: ...

    async def get(self, key: str) -> StoredMedia | None: ...

    async def keys(self) -> set[str]: ...

    async def link(self, request_id: int, keys: Sequence[str]) -> None: ...

    async def disposable(self, *, done_before: datetime, orphan_before: datetime) -> list[str]:
        """Media no request needs any more: every request using it finished before `done_before`, or no
        request ever used it and it is older than `orphan_before`."""
        ...

    async def forget(self, keys: Sequence[str]) -> None: ...


class NoticeQueue(Protocol):
    """The outbox: notices written with the changes that cause them, then delivered by one worker."""

    async def due(self, now: datetime, *, platforms: Sequence[str], limit: int = 100) -> list[StoredNotice]:
        """Pending notices whose time has come, for the chat platforms this process runs."""
        ...

    async def with_payloads(self, notices: Sequence[StoredNotice]) -> list[StoredNotice]:
        """The same notices, their payloads read: only for those about to go out."""
        ...

    async def next_time(self, *, platforms: Sequence[str]) -> datetime | None: ...

    async def claim_for_sending(self, notice_ids: Sequence[int]) -> list[int]:
        """Claim pending notices for delivery, marking them as handed to the platform (if the process dies now,
        whoever takes them must check first); the ids claimed. A notice another replica claimed is not, nor one
        while an earlier notice of its channel is held by another live replica, so a channel keeps its order."""
        ...

    async def take_turn(self, channel: ChannelRef, *, now: float, interval: float, burst: int) -> tuple[bool, float]:
        """A new message's turn in the channel, shared by every replica: a token bucket of `burst` messages,
        refilled by one every `interval` seconds of `now` (seconds since the epoch). Whether the message may go now
        (then it is counted), and the seconds until the next may (0: at once)."""
        ...

    async def claim_in_flight(self, *, platforms: Sequence[str]) -> list[StoredNotice]:
        """Claim and return, with payloads, the notices of these platforms caught mid-delivery that are free: whose
        claim expired (the replica died) or is this replica's own. Never one another live replica is delivering."""
        ...

    async def delivered(self, notice_ids: Sequence[int], *, announcement: tuple[int, MessageRef] | None = None) -> None:
        """Mark notices delivered, with the reference of the announcement they were, in one transaction. Only
        pending ones or this replica's claims; clears the claim."""
        ...

    async def retry(
        self, notice_ids: Sequence[int], *, at: datetime, error: str, give_up: bool, count: bool = True
    ) -> None:
        """Try again at `at` (counting an attempt unless `count` is False), or give up for good. Only pending
        notices or this replica's claims; clears the claim."""
        ...

    async def announcement_pending(self, request_id: int) -> bool: ...

    async def backlog(self, now: datetime, *, platforms: Sequence[str]) -> OutboxBacklog:
        """The notices for these platforms not yet delivered (nor given up on): how many are due at `now` or
        being handed over, and when the oldest of them was written."""
        ...


class OnceKeys(Protocol):
    """Keys remembered for a while, so that a platform's retry of one event is handled once."""

    async def remember(self, key: str, *, until: datetime, now: datetime) -> bool:
        """Remember `key` until `until`: True the first time, False while it is remembered. `now` is the clock
        the key's lifetime is counted in, which may not be the bot's."""
        ...


class Leases(Protocol):
    """Roles only one replica may have at a time (the unsharded Discord gateway), held for a while and renewed."""

    async def hold(self, name: str, *, now: datetime, until: datetime) -> bool:
        """Take the role, or keep it, until `until`: whether this replica has it now. It is free when nobody has
        it, when its holder let it go or let it expire, or when its holder is this replica (a restart)."""
        ...

    async def release(self, name: str) -> None:
        """Let the role go at once, if this replica has it."""
        ...


class Installations(Protocol):
    """The workspaces (or whole organizations) that installed the app, one record each, its secrets sealed."""

    async def save(self, installation: Installation) -> None:
        """Keep an install, replacing the one of the same place if any."""
        ...

    async def find(self, platform: str, *, workspace_id: str, organization_id: str) -> Installation | None:
        """The install of exactly this place (`workspace_id` empty: an organization's own)."""
        ...

    async def delete(self, platform: str, *, workspace_id: str, organization_id: str) -> bool:
        """Forget an install; whether there was one."""
        ...

    async def all(self, platform: str) -> list[Installation]: ...


class WorkspaceKeys(Protocol):
    """Each workspace's (server's) own Infinipost key, sealed; a workspace without one uses INFINIPOST_API_KEY."""

    async def get(self, platform: str, workspace_id: str) -> WorkspaceKey | None: ...

    async def put(self, key: WorkspaceKey, *, by: Caller) -> None:
        """Keep a workspace's key, replacing its earlier one if any, with an audit row naming only its last four
        characters, in one transaction."""
        ...

    async def delete(self, platform: str, workspace_id: str, *, by: Caller) -> bool:
        """Forget a workspace's key, with its audit row; whether there was one."""
        ...


class Calendar(Protocol):
    """What the calendar reads and keeps: the posts of a time window, private feeds, and weekly digests."""

    async def planned(
        self, platform: str, workspace_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[StoredRequest]:
        """A workspace's requests with a post due (or gone out) in [start, end), or waiting for approval with a time
        in it, soonest first, at most `limit`."""
        ...

    async def open_feed(self, token_hash: str, caller: Caller, channels: Sequence[str] | None) -> None:
        """Keep a private feed, known by the hash of its secret, showing these channels (None: all)."""
        ...

    async def feed(self, token_hash: str) -> CalendarFeed | None:
        """The feed of this secret's hash, unless it was revoked."""
        ...

    async def revoke_feeds(self, platform: str, workspace_id: str, user_id: str) -> int:
        """End every feed of a person in a workspace; how many there were."""
        ...

    async def digest_setting(self, channel: ChannelRef) -> DigestSetting | None:
        """A channel's digest setting, if it was ever changed (None: the default)."""
        ...

    async def save_digest_setting(self, caller: Caller, setting: DigestSetting) -> None: ...

    async def digest_settings(self) -> dict[ChannelRef, DigestSetting]:
        """Every channel's digest setting that was ever changed."""
        ...

    async def channels_with_posts(self, *, since: datetime) -> list[ChannelRef]:
        """The channels whose requests changed since `since`, or that have a post still to go out."""
        ...

    async def digests_written(self, *, since: datetime) -> set[tuple[ChannelRef, datetime]]:
        """The digests due at or after `since` that were written: their channel and due time."""
        ...

    async def record_digest(self, channel: ChannelRef, *, due_at: datetime, notice: NewNotice) -> bool:
        """Write a channel's digest due at `due_at` to the outbox, once for every replica and restart: whether
        this call wrote it."""
        ...


class Slots(Protocol):
    """Which posting slots are taken, and claims on them while a /post is read or previewed."""

    async def taken(
        self, platform: str, workspace_id: str, account_ids: Sequence[str], *, start: datetime, end: datetime
    ) -> set[datetime]:
        """The instants in [start, end) at which one of these accounts already has a post from this bot, a request
        on its way, or a live claim."""
        ...

    async def claim(
        self, platform: str, workspace_id: str, account_ids: Sequence[str], *, at: datetime, until: datetime
    ) -> bool:
        """Take the slot at `at` for these accounts until `until`, all or none: False if another claim holds any
        of them. Only one of two racing claims succeeds, on every replica."""
        ...


class Series(Protocol):
    """Recurring posts: each series' progress, and its occurrences, each created once."""

    async def start(self, request_id: int, *, from_state: str, next_at: datetime, audit: RequestAudit) -> bool:
        """A confirmed recurring post becomes a live series whose first occurrence is due at `next_at`: its request
        moves from `from_state` to `series`, in one step with the series and its audit row. False if it had moved
        on (a second click)."""
        ...

    async def get(self, request_id: int) -> SeriesState | None: ...

    async def due(self, until: datetime, *, limit: int) -> list[SeriesState]:
        """Live series whose next occurrence is due by `until`, soonest first."""
        ...

    async def add_occurrence(
        self, series: StoredRequest, *, occurrence: int, request: PostRequest
    ) -> StoredRequest | None:
        """Store occurrence `occurrence` of a series as a request about to be sent (claimed by this replica), unless
        it exists: None then. Only one replica can store each."""
        ...

    async def advance(self, request_id: int, *, created_was: int, next_at: datetime | None) -> bool:
        """Count one more occurrence and set when the next is due (None: the series is done, its request ended),
        only if `created_was` occurrences were counted: of two replicas, one advances it."""
        ...

    async def stop(self, request_id: int, *, audit: RequestAudit) -> bool:
        """End a live series: no more occurrences are created. False if it was not live."""
        ...


class Store(Protocol):
    """Everything the core keeps, one port per aggregate."""

    @property
    def requests(self) -> Requests: ...

    @property
    def posts(self) -> Posts: ...

    @property
    def preferences(self) -> Preferences: ...

    @property
    def media(self) -> MediaIndex: ...

    @property
    def notices(self) -> NoticeQueue: ...

    @property
    def once_keys(self) -> OnceKeys: ...

    @property
    def installations(self) -> Installations: ...

    @property
    def leases(self) -> Leases: ...

    @property
    def workspace_keys(self) -> WorkspaceKeys: ...

    @property
    def calendar(self) -> Calendar: ...

    @property
    def slots(self) -> Slots: ...

    @property
    def series(self) -> Series: ...

    async def ping(self) -> None:
        """Ask the database a trivial question; StorageError if it cannot answer."""
        ...

    async def claims_held(self, now: datetime) -> int:
        """How many posts, requests and notices this replica holds a live claim on at `now`: its work under way."""
        ...

    async def close(self) -> None: ...
