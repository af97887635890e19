"""Each /post as asked, from before its create call to its outcome, stamped with the Infinipost it went to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    RowMapping,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from bot.errors import StorageError
from bot.model import Caller, ChannelRef, PostRequest, PostStatus
from bot.ports import RequestAudit
from bot.records import Approval, NewNotice, RequestState, StoredPost, StoredRequest
from storage.schema import posts, requests
from storage.sql.audit import write_audit
from storage.sql.batches import Batched
from storage.sql.connection import Database, upsert
from storage.sql.encoding import (
    approval_from_json,
    approval_to_json,
    ref_from_json,
    request_from_json,
    request_to_json,
)
from storage.sql.media import link_media
from storage.sql.notices import enqueue
from storage.sql.posts import post_state

REQUEST_COLUMNS = (
    requests.c.id,
    requests.c.platform,
    requests.c.workspace_id,
    requests.c.channel_id,
    requests.c.user_id,
    requests.c.user_name,
    requests.c.command_text,
    requests.c.request_json,
    requests.c.state,
    requests.c.confirm_token,
    requests.c.error,
    requests.c.created_at,
    requests.c.sent_at,
    requests.c.announcement_ref,
    requests.c.reconcile_attempts,
    requests.c.api,
    requests.c.approval,
    requests.c.approval_due,
    requests.c.recurrence,
    requests.c.series_id,
    requests.c.occurrence,
)

# The statements every /post makes, built once: building one anew (its clauses, its bound values, a posts upsert
# SQLAlchemy cannot cache) cost more CPU than running it. Values are given when each runs.
_INSERT = insert(requests).returning(requests.c.id)
_READY = (
    update(requests)
    .where(requests.c.id == bindparam("the_id"), requests.c.state == bindparam("from_state"))
    .returning(*REQUEST_COLUMNS)
)
_FINISH = update(requests).where(requests.c.id == bindparam("the_id"))
# What tells apart commands accepted together (storage/sql/batches.py).
_ACCEPTED_BY = (
    requests.c.platform,
    requests.c.workspace_id,
    requests.c.channel_id,
    requests.c.user_id,
    requests.c.command_text,
    requests.c.created_at,
)
_SAVE_POSTS: dict[str, Executable] = {}


class SqlRequests:
    """The `Requests` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database, *, acknowledging: Database | None = None) -> None:
        self._db = database
        self._acknowledging = acknowledging or database  # its own connections, for `accept`
        self._accept = Batched(self._insert_accepted)
        self._unsettled = (  # read by every /post
            select(*REQUEST_COLUMNS)
            .where(
                requests.c.state.in_((RequestState.SENDING, RequestState.UNCONFIRMED)),
                database.is_ours(requests.c.api),
            )
            .order_by(requests.c.id)
        )

    def is_ours(self, stored: StoredRequest) -> bool:
        return not stored.api or stored.api in self._db.ours

    def _held(self, state: str) -> dict[str, object]:
        """The claim a request in `state` carries: this replica's while it reads the command, fetches uploads or
        sends the create (another replica leaves it alone until it expires), none otherwise."""
        if state in (RequestState.ACCEPTED, RequestState.RECEIVED, RequestState.SENDING):
            _, replica, until = self._db.claim()
            return {"claimed_by": replica, "claimed_until": until}
        return {"claimed_by": None, "claimed_until": None}

    def row_of(
        self, caller: Caller, *, command_text: str, request: PostRequest, state: str, confirm_token: str | None = None
    ) -> dict[str, Any]:
        created = self._db.now()
        return {
            "platform": caller.platform,
            "workspace_id": caller.workspace_id,
            "channel_id": caller.channel_id,
            "user_id": caller.user_id,
            "user_name": caller.display_name,
            "command_text": command_text,
            "request_json": request_to_json(request),
            "scheduled_time": request.scheduled_time,
            "state": state,
            "confirm_token": confirm_token,
            "created_at": created,
            "updated_at": created,
            "api": self._db.api,
            **self._held(state),
        }

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
        """Store a request before anything is sent, either awaiting confirmation or about to be sent."""
        row = self.row_of(caller, command_text=command_text, request=request, state=state, confirm_token=confirm_token)
        row["recurrence"] = recurrence
        created = row["created_at"]
        media = [key for key in request.media_keys if key]
        if media:
            async with self._db.transaction() as db:
                request_id = int((await db.execute(_INSERT, row)).scalar_one())
                await link_media(db, request_id, media)
        else:  # one statement, one round trip
            request_id = int((await self._db.returning(_INSERT, row))[0]["id"])
        return StoredRequest(
            id=request_id,
            channel=caller.channel,
            user_id=caller.user_id,
            user_name=caller.display_name,
            command_text=command_text,
            request=request,
            state=state,
            confirm_token=confirm_token,
            error=None,
            created_at=created,
            sent_at=None,
            announcement=None,
            api=self._db.api,
            recurrence=recurrence,
        )

    async def accept(self, caller: Caller, *, command_text: str, request: PostRequest) -> int:
        """Keep a command as `accepted`, claimed by this replica, before the platform hears it arrived: on the
        acknowledgement's own connections, so that it never waits behind other work, and with the commands that
        arrive meanwhile in one statement."""
        return await self._accept(
            self.row_of(caller, command_text=command_text, request=request, state=RequestState.ACCEPTED)
        )

    async def _insert_accepted(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """The numbers of accepted commands inserted together, in their order. RETURNING promises no order, so
        each number is matched to its row by what the row says; rows that say the same are interchangeable."""
        if len(rows) == 1:
            return [int((await self._acknowledging.returning(_INSERT, rows[0]))[0]["id"])]
        inserted = await self._acknowledging.returning(
            insert(requests).values(list(rows)).returning(requests.c.id, *_ACCEPTED_BY)
        )
        numbers: dict[tuple[object, ...], list[int]] = {}
        for found in sorted(inserted, key=lambda found: int(found["id"])):
            numbers.setdefault(tuple(found[c.name] for c in _ACCEPTED_BY), []).append(int(found["id"]))
        return [numbers[tuple(row[c.name] for c in _ACCEPTED_BY)].pop(0) for row in rows]

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
        """An accepted or received request read, or whose uploads are in: its request, and what happens next."""
        named: dict[str, str | None] = {"recurrence": recurrence}
        if user_name is not None:
            named["user_name"] = user_name
        values = {
            "the_id": request_id,
            "from_state": from_state,
            **named,
            "request_json": request_to_json(request),
            "scheduled_time": request.scheduled_time,
            "state": state,
            "confirm_token": confirm_token,
            "updated_at": self._db.now(),
            **self._held(state),
        }
        media = [key for key in request.media_keys if key]
        if media:
            async with self._db.transaction() as db:
                rows = list((await db.execute(_READY, values)).mappings())
                if rows:
                    await link_media(db, request_id, media)
        else:
            rows = await self._db.returning(_READY, values)
        if not rows:
            raise StorageError()
        return stored_request(rows[0])

    async def drop_received(self, request_id: int) -> None:
        """Forget an accepted or received request that was refused (or cut short) before anything was sent: as if
        never stored, like any other refused command."""
        unsent = (RequestState.ACCEPTED, RequestState.RECEIVED)
        async with self._db.transaction() as db:
            await db.execute(delete(requests).where(requests.c.id == request_id, requests.c.state.in_(unsent)))

    async def claim_unfinished(self, *, restarted: bool = True) -> list[StoredRequest]:
        """Requests left accepted, receiving their uploads, or sending to this Infinipost, whose claim has expired
        or (at start-up) is this replica's own, its predecessor's: claimed, so that two replicas settle each once.
        One a live replica holds is left to it."""
        unfinished = or_(
            requests.c.state.in_((RequestState.ACCEPTED, RequestState.RECEIVED)),
            and_(requests.c.state == RequestState.SENDING, self._db.is_ours(requests.c.api)),
        )
        return await self._claim(unfinished, own=restarted)

    async def _claim(self, condition: ColumnElement[bool], *, own: bool = True) -> list[StoredRequest]:
        """Claim the requests matching `condition` that this replica may claim (`own`: its own live claims too),
        oldest first. On PostgreSQL the rows another replica is claiming at the moment are skipped, not waited
        for."""
        at, replica, until = self._db.claim()
        free = self._db.claimable(requests, at) if own else self._db.expired(requests, at)
        chosen = select(requests.c.id).where(condition, free).with_for_update(skip_locked=True)
        rows = await self._db.returning(
            update(requests)
            .where(requests.c.id.in_(chosen.scalar_subquery()))
            .values(claimed_by=replica, claimed_until=until)
            .returning(*REQUEST_COLUMNS)
        )
        return sorted((stored_request(row) for row in rows), key=lambda stored: stored.id)

    async def get(self, request_id: int) -> StoredRequest | None:
        row = await self._db.row(select(*REQUEST_COLUMNS).where(requests.c.id == request_id))
        return stored_request(row) if row else None

    async def by_token(self, token: str) -> StoredRequest | None:
        row = await self._db.row(select(*REQUEST_COLUMNS).where(requests.c.confirm_token == token))
        return stored_request(row) if row else None

    async def move(self, request_id: int, *, from_state: str, to_state: str) -> bool:
        """Change a request's state only if it is still in `from_state`: a second click does nothing."""
        async with self._db.transaction() as db:
            result = await db.execute(
                update(requests)
                .where(requests.c.id == request_id, requests.c.state == from_state)
                .values(state=to_state, updated_at=self._db.now(), **self._held(to_state))
            )
            return result.rowcount == 1

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
        """Move a request on in its approval, only if it is still in one of `from_states` (and, given `due_was`, its
        approval is still due then): one guarded statement, with its audit row and notices in the same transaction,
        so that of two replicas (or two approvers) pressing at once one wins. The request as it is now; None if it
        had moved on."""
        values: dict[str, object] = {
            "state": to_state,
            "approval": approval_to_json(approval),
            "approval_due": approval_due,
            "updated_at": self._db.now(),
            **self._held(to_state),
        }
        if request is not None:
            values |= {"request_json": request_to_json(request), "scheduled_time": request.scheduled_time}
        guard = [requests.c.id == request_id, requests.c.state.in_(tuple(from_states))]
        if due_was is not None:
            guard.append(requests.c.approval_due == due_was)
        if request_was is not None:  # as it was read: not edited meanwhile
            guard.append(requests.c.request_json == request_to_json(request_was))
        now = self._db.now()
        async with self._db.transaction() as db:
            rows = list(
                (await db.execute(update(requests).where(*guard).values(values).returning(*REQUEST_COLUMNS))).mappings()
            )
            if not rows:
                return None
            if request is not None:
                await link_media(db, request_id, [key for key in request.media_keys if key])
            if audit:
                caller, action, detail = audit
                await write_audit(db, caller, at=now, action=action, request_id=request_id, detail=detail)
            await enqueue(db, notices, at=now)
        return stored_request(rows[0])

    async def approvals_due(self, now: datetime, *, limit: int) -> list[StoredRequest]:
        """Requests waiting for approval that the bot must look at by `now` (a reminder, an expiry), soonest first."""
        rows = await self._db.rows(
            select(*REQUEST_COLUMNS)
            .where(requests.c.approval_due <= now, requests.c.state.in_(RequestState.PENDING))
            .order_by(requests.c.approval_due)
            .limit(limit)
        )
        return [stored_request(row) for row in rows]

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
        """Record the outcome of the create call, its posts (tracked from their scheduled time), audit row and
        notices, all in one transaction. `reconcile_at`: when to look for an unconfirmed request's posts."""
        now = self._db.now()
        outcome: dict[str, object] = {
            "the_id": request_id,
            "state": state,
            "error": error,
            "updated_at": now,
            "next_reconcile_at": reconcile_at,
            "claimed_by": None,
            "claimed_until": None,
        }
        if state == RequestState.SENT:
            outcome["sent_at"] = now
        async with self._db.transaction() as db:
            await db.execute(_FINISH, outcome)
            if posts:
                await db.execute(_save_posts(db.dialect.name), _post_rows(request_id, posts, now=now))
            if audit:
                caller, action, detail = audit
                await write_audit(db, caller, at=now, action=action, request_id=request_id, detail=detail)
            await enqueue(db, notices, at=now)

    async def interrupted_to_unconfirmed(self, *, before: datetime | None = None) -> list[int]:
        """Requests left `sending` (by a crash, or a create whose outcome could not be stored) whose claim has
        expired, and (for those stored before claims, or this replica's own) last changed before `before` if
        given: they may or may not exist at Infinipost, so they become unconfirmed. One step, so that two
        replicas never both take one."""
        at, replica, _ = self._db.claim()
        cutoff = before or at + timedelta(days=1)
        rows = await self._db.returning(
            update(requests)
            .where(
                requests.c.state == RequestState.SENDING,
                self._db.is_ours(requests.c.api),
                or_(requests.c.claimed_until.is_(None), requests.c.claimed_by == replica),
                requests.c.updated_at < cutoff,
            )
            .values(
                state=RequestState.UNCONFIRMED,
                error="interrupted during the create call",
                updated_at=at,
                next_reconcile_at=at,
                claimed_by=None,
                claimed_until=None,
            )
            .returning(requests.c.id)
        )
        return sorted(int(row["id"]) for row in rows)

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
        """A page of the channel's requests as a queue, and how many there are in all.

        `all`: the upcoming ones (a post not yet live or failed, or a create not yet settled), soonest first, then
        the others, latest first. `upcoming`, `past` and `failed` keep only those. Times are the posts' own, so a
        rescheduled request sorts (and shows) at its new time.
        """
        rows = await self._db.rows(
            self._queue(channel, view=view, user_id=user_id, account_id=account_id).limit(limit).offset(offset)
        )
        if not rows and offset:  # a page past the end: how many there are, for the reply to say so
            _, total = await self.channel_queue(channel, view=view, user_id=user_id, account_id=account_id, limit=1)
            return [], total
        return [stored_request(row) for row in rows], int(rows[0]["total"]) if rows else 0

    def _queue(
        self, channel: ChannelRef, *, view: str, user_id: str | None, account_id: str | None
    ) -> Select[tuple[object, ...]]:
        post = posts.alias("p")
        of_request = post.c.request_id == requests.c.id
        finals = [status.value for status in PostStatus if status.is_final]
        chosen = [
            requests.c.platform == channel.platform,
            requests.c.workspace_id == channel.workspace_id,
            requests.c.channel_id == channel.channel_id,
            requests.c.state.not_in(
                (RequestState.ACCEPTED, RequestState.AWAITING_CONFIRMATION, RequestState.DISCARDED)
            ),
        ]
        if user_id is not None:
            chosen.append(requests.c.user_id == user_id)
        if account_id is not None:
            chosen.append(self._names_account(account_id))
        queue = (
            select(
                *REQUEST_COLUMNS,
                requests.c.scheduled_time,
                select(func.min(post.c.scheduled_time))
                .where(of_request, post.c.status.not_in(finals))
                .scalar_subquery()
                .label("next_time"),
                select(func.max(func.coalesce(post.c.posted_at, post.c.scheduled_time)))
                .where(of_request)
                .scalar_subquery()
                .label("last_time"),
                exists().where(of_request, post.c.status == PostStatus.FAILED.value).label("has_failed"),
            )
            .where(*chosen)
            .cte("queue")
        )
        unsettled = (RequestState.SENDING, RequestState.UNCONFIRMED, RequestState.RECEIVED, *RequestState.PENDING)
        ordered = select(
            queue,
            or_(queue.c.next_time.is_not(None), queue.c.state.in_(unsettled)).label("upcoming"),
            func.coalesce(queue.c.next_time, queue.c.last_time, queue.c.scheduled_time, queue.c.created_at).label(
                "due"
            ),
        ).cte("ordered")
        upcoming = ordered.c.upcoming
        wanted = {
            "all": true(),
            "upcoming": upcoming,
            "past": not_(upcoming),
            "failed": or_(ordered.c.has_failed, ordered.c.state.in_((RequestState.FAILED, RequestState.NOT_CREATED))),
            "pending": ordered.c.state.in_(RequestState.PENDING),
        }[view]
        return (
            select(*(ordered.c[column.name] for column in REQUEST_COLUMNS), func.count().over().label("total"))
            .where(wanted)
            .order_by(
                upcoming.desc(),
                case((upcoming, ordered.c.due)).asc(),
                case((not_(upcoming), ordered.c.due)).desc(),
                ordered.c.id.desc(),
            )
        )

    def _names_account(self, account_id: str) -> ColumnElement[bool]:
        return names_account(self._db.dialect, account_id)

    async def claim_reconciliations(self, now: datetime) -> list[StoredRequest]:
        return await self._claim(
            and_(
                requests.c.state == RequestState.UNCONFIRMED,
                requests.c.next_reconcile_at <= now,
                self._db.is_ours(requests.c.api),
            )
        )

    async def keep_claim(self, request_id: int) -> bool:
        _, replica, until = self._db.claim()
        async with self._db.transaction() as db:
            result = await db.execute(
                update(requests)
                .where(requests.c.id == request_id, requests.c.claimed_by == replica)
                .values(claimed_until=until)
            )
            return result.rowcount == 1

    async def reconcile_later(self, request_id: int, *, at: datetime) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                update(requests)
                .where(requests.c.id == request_id)
                .values(
                    next_reconcile_at=at,
                    reconcile_attempts=requests.c.reconcile_attempts + 1,
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    async def unsettled(self) -> list[StoredRequest]:
        """Requests whose create is under way or whose outcome is unknown, made through this process's
        Infinipost."""
        return [stored_request(row) for row in await self._db.rows(self._unsettled)]


def _save_posts(dialect: str) -> Executable:
    """The posts a create call answered with are inserted; one already stored (the answer to a reconciliation) is
    overwritten."""
    if dialect not in _SAVE_POSTS:
        statement = upsert(dialect, posts)
        kept = {"id", "created_at"}
        _SAVE_POSTS[dialect] = statement.on_conflict_do_update(
            index_elements=[posts.c.id],
            set_={column.name: statement.excluded[column.name] for column in posts.columns if column.name not in kept},
        )
    return _SAVE_POSTS[dialect]


def _post_rows(request_id: int, created: Sequence[StoredPost], *, now: datetime) -> list[dict[str, object]]:
    """The rows of a create call's posts, in its order."""
    return [
        {
            "id": post.id,
            "request_id": request_id,
            "account_id": post.account_id,
            "account_label": post.account_label,
            **post_state(post),
            "created_at": now,
            "updated_at": now,
            "position": position,
        }
        for position, post in enumerate(created)
    ]


def names_account(dialect: str, account_id: str) -> ColumnElement[bool]:
    """A request made for this account: JSON is the one thing the two databases spell differently."""
    if dialect == "postgresql":
        return cast(requests.c.request_json, JSONB)["accounts"].contains([{"id": account_id}])
    accounts = func.json_each(requests.c.request_json, "$.accounts").table_valued("value").alias("a")
    return exists(select(1).select_from(accounts).where(func.json_extract(accounts.c.value, "$.id") == account_id))


def stored_request(row: RowMapping) -> StoredRequest:
    return StoredRequest(
        id=int(row["id"]),
        channel=ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]),
        user_id=row["user_id"],
        user_name=row["user_name"],
        command_text=row["command_text"],
        request=request_from_json(row["request_json"]),
        state=row["state"],
        confirm_token=row["confirm_token"],
        error=row["error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        announcement=ref_from_json(row["announcement_ref"]),
        reconcile_attempts=int(row["reconcile_attempts"]),
        api=row["api"],
        approval=approval_from_json(row["approval"]),
        approval_due=row["approval_due"],
        recurrence=row["recurrence"],
        series_id=int(row["series_id"]) if row["series_id"] is not None else None,
        occurrence=row["occurrence"],
    )
