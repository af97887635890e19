"""Each /post as asked, from before its create call to its outcome, stamped with the Infinipost it went to."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.errors import StorageError
from bot.model import Caller, ChannelRef, PostRequest, PostStatus
from bot.ports import RequestAudit
from bot.records import NewNotice, RequestState, StoredPost, StoredRequest
from storage.sqlite.audit import write_audit
from storage.sqlite.connection import CLAIMABLE, OURS, Database
from storage.sqlite.encoding import from_db_time, ref_from_json, request_from_json, request_to_json, to_db_time
from storage.sqlite.media import link_media
from storage.sqlite.notices import enqueue
from storage.sqlite.posts import POST_COLUMNS, post_state

_REQUEST_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, user_name, command_text, request_json, state, "
    "confirm_token, error, created_at, sent_at, announcement_ref, reconcile_attempts, api"
)


class SqliteRequests:
    """The `Requests` port (bot/ports.py) over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def is_ours(self, stored: StoredRequest) -> bool:
        return not stored.api or stored.api in self._db.ours

    def _held(self, state: str) -> tuple[str | None, str | None]:
        """The claim a request in `state` carries: this replica's while it fetches uploads or sends the create
        (another replica's start-up leaves it alone until it expires), none otherwise."""
        if state in (RequestState.RECEIVED, RequestState.SENDING):
            _, replica, until = self._db.claim()
            return replica, until
        return None, None

    async def save(
        self,
        caller: Caller,
        *,
        command_text: str,
        request: PostRequest,
        state: str,
        confirm_token: str | None = None,
    ) -> StoredRequest:
        """Store a request before anything is sent, either awaiting confirmation or about to be sent."""
        created = self._db.now()
        now = to_db_time(created)
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO requests (platform, workspace_id, channel_id, user_id, user_name, command_text, "
                "request_json, scheduled_time, state, confirm_token, created_at, updated_at, api, claimed_by, "
                "claimed_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    caller.platform,
                    caller.workspace_id,
                    caller.channel_id,
                    caller.user_id,
                    caller.display_name,
                    command_text,
                    request_to_json(request),
                    to_db_time(request.scheduled_time),
                    state,
                    confirm_token,
                    now,
                    now,
                    self._db.api,
                    *self._held(state),
                ),
            )
            request_id = cursor.lastrowid
            assert request_id is not None
            await link_media(db, request_id, [key for key in request.media_keys if key])
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
        )

    async def ready(
        self, request_id: int, *, request: PostRequest, state: str, confirm_token: str | None = None
    ) -> None:
        """A received request whose uploads are in: its complete request, and what happens next."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE requests SET request_json = ?, scheduled_time = ?, state = ?, confirm_token = ?, "
                "updated_at = ?, claimed_by = ?, claimed_until = ? WHERE id = ? AND state = ?",
                (
                    request_to_json(request),
                    to_db_time(request.scheduled_time),
                    state,
                    confirm_token,
                    to_db_time(self._db.now()),
                    *self._held(state),
                    request_id,
                    RequestState.RECEIVED,
                ),
            )
            if cursor.rowcount != 1:
                raise StorageError()
            await link_media(db, request_id, [key for key in request.media_keys if key])

    async def drop_received(self, request_id: int) -> None:
        """Forget a received request that was refused (or cut short) before anything was sent: as if never
        stored, like any other refused command."""
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM requests WHERE id = ? AND state = ?", (request_id, RequestState.RECEIVED))

    async def claim_unfinished(self) -> list[StoredRequest]:
        """Requests left receiving their uploads, or sending to this Infinipost, whose claim has expired or is
        this replica's own (its predecessor's): claimed, so that two replicas starting together settle each once.
        One another live replica holds is left to it."""
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            f"UPDATE requests SET claimed_by = ?, claimed_until = ? WHERE (state = ? OR (state = ? AND {OURS})) "
            f"AND {CLAIMABLE} RETURNING {_REQUEST_COLUMNS}",
            (replica, until, RequestState.RECEIVED, RequestState.SENDING, *self._db.ours, at, replica),
        )
        return sorted((_request(row) for row in rows), key=lambda stored: stored.id)

    async def get(self, request_id: int) -> StoredRequest | None:
        row = await self._db.row(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return _request(row) if row else None

    async def by_token(self, token: str) -> StoredRequest | None:
        row = await self._db.row(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE confirm_token = ?",
            (token,),
        )
        return _request(row) if row else None

    async def move(self, request_id: int, *, from_state: str, to_state: str) -> bool:
        """Change a request's state only if it is still in `from_state`: a second click does nothing."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE requests SET state = ?, updated_at = ?, claimed_by = ?, claimed_until = ? "
                "WHERE id = ? AND state = ?",
                (to_state, to_db_time(self._db.now()), *self._held(to_state), request_id, from_state),
            )
            return cursor.rowcount == 1

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
        now = to_db_time(self._db.now())
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE requests SET state = ?, error = ?, updated_at = ?, next_reconcile_at = ?, "
                "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, claimed_by = NULL, claimed_until = NULL "
                "WHERE id = ?",
                (state, error, now, to_db_time(reconcile_at), state, now, request_id),
            )
            await db.executemany(
                f"INSERT OR REPLACE INTO posts ({POST_COLUMNS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (post.id, request_id, post.account_id, post.account_label, *post_state(post), now, now)
                    for post in posts
                ],
            )
            if audit:
                caller, action, detail = audit
                await write_audit(db, caller, at=self._db.now(), action=action, request_id=request_id, detail=detail)
            await enqueue(db, notices, at=self._db.now())

    async def interrupted_to_unconfirmed(self, *, before: datetime | None = None) -> list[int]:
        """Requests left `sending` (by a crash, or a create whose outcome could not be stored) whose claim has
        expired, and (for those stored before claims, or this replica's own) last changed before `before` if
        given: they may or may not exist at Infinipost, so they become unconfirmed. One step, so that two
        replicas never both take one."""
        now = self._db.now()
        cutoff = to_db_time(before or now + timedelta(days=1))
        at, replica, _ = self._db.claim()
        rows = await self._db.returning(
            "UPDATE requests SET state = ?, error = ?, updated_at = ?, next_reconcile_at = ?, claimed_by = NULL, "
            f"claimed_until = NULL WHERE state = ? AND {OURS} AND (claimed_until <= ? OR "
            "((claimed_until IS NULL OR claimed_by = ?) AND updated_at < ?)) RETURNING id",
            (
                RequestState.UNCONFIRMED,
                "interrupted during the create call",
                at,
                at,
                RequestState.SENDING,
                *self._db.ours,
                at,
                replica,
                cutoff,
            ),
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
        pending = "'" + "', '".join((RequestState.SENDING, RequestState.UNCONFIRMED, RequestState.RECEIVED)) + "'"
        finals = "'" + "', '".join(s.value for s in PostStatus if s.is_final) + "'"
        wanted = {
            "all": "1",
            "upcoming": "upcoming",
            "past": "NOT upcoming",
            "failed": f"(has_failed OR state IN ('{RequestState.FAILED}', '{RequestState.NOT_CREATED}'))",
        }[view]
        rows = await self._db.rows(
            f"""WITH queue AS (
                SELECT r.*,
                    (SELECT MIN(p.scheduled_time) FROM posts p WHERE p.request_id = r.id
                        AND p.status NOT IN ({finals})) AS next_time,
                    (SELECT MAX(COALESCE(p.posted_at, p.scheduled_time)) FROM posts p WHERE p.request_id = r.id)
                        AS last_time,
                    EXISTS (SELECT 1 FROM posts p WHERE p.request_id = r.id AND p.status = 'failed') AS has_failed
                FROM requests r
                WHERE r.platform = ? AND r.workspace_id = ? AND r.channel_id = ? AND r.state NOT IN (?, ?)
                    AND (? IS NULL OR r.user_id = ?)
                    AND (? IS NULL OR EXISTS (SELECT 1 FROM json_each(r.request_json, '$.accounts') a
                        WHERE json_extract(a.value, '$.id') = ?))
            ), ordered AS (
                SELECT *, (next_time IS NOT NULL OR state IN ({pending})) AS upcoming,
                    COALESCE(next_time, last_time, scheduled_time, created_at) AS due
                FROM queue
            )
            SELECT {_REQUEST_COLUMNS}, COUNT(*) OVER () AS total FROM ordered WHERE {wanted}
            ORDER BY upcoming DESC, CASE WHEN upcoming THEN due END ASC, CASE WHEN NOT upcoming THEN due END DESC,
                id DESC
            LIMIT ? OFFSET ?""",
            (
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
                RequestState.AWAITING_CONFIRMATION,
                RequestState.DISCARDED,
                user_id,
                user_id,
                account_id,
                account_id,
                limit,
                offset,
            ),
        )
        if not rows and offset:  # a page past the end: how many there are, for the reply to say so
            _, total = await self.channel_queue(channel, view=view, user_id=user_id, account_id=account_id, limit=1)
            return [], total
        return [_request(row) for row in rows], int(rows[0]["total"]) if rows else 0

    async def claim_reconciliations(self, now: datetime) -> list[StoredRequest]:
        at, replica, until = self._db.claim()
        rows = await self._db.returning(
            f"UPDATE requests SET claimed_by = ?, claimed_until = ? WHERE state = ? AND next_reconcile_at <= ? "
            f"AND {OURS} AND {CLAIMABLE} RETURNING {_REQUEST_COLUMNS}",
            (replica, until, RequestState.UNCONFIRMED, to_db_time(now), *self._db.ours, at, replica),
        )
        return sorted((_request(row) for row in rows), key=lambda stored: stored.id)

    async def reconcile_later(self, request_id: int, *, at: datetime) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE requests SET next_reconcile_at = ?, reconcile_attempts = reconcile_attempts + 1, "
                "claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                (to_db_time(at), request_id),
            )

    async def unsettled(self) -> list[StoredRequest]:
        """Requests whose create is under way or whose outcome is unknown, made through this process's
        Infinipost."""
        rows = await self._db.rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state IN (?, ?) AND {OURS} ORDER BY id",
            (RequestState.SENDING, RequestState.UNCONFIRMED, *self._db.ours),
        )
        return [_request(row) for row in rows]


def _request(row: sqlite3.Row) -> StoredRequest:
    created = from_db_time(row["created_at"])
    assert created is not None
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
        created_at=created,
        sent_at=from_db_time(row["sent_at"]),
        announcement=ref_from_json(row["announcement_ref"]),
        reconcile_attempts=int(row["reconcile_attempts"]),
        api=row["api"],
    )
