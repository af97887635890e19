"""The bot's SQLite database (aiosqlite): requests, posts, settings, the audit log and the notice outbox.

One connection, WAL journal, and every write in an explicit transaction under one lock, so that a status
change and the notice it causes are committed together or not at all. Only parameterised SQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.errors import StorageError
from bot.model import Caller, ChannelRef, MessageRef, PostRequest, PostStatus
from bot.records import (
    ChannelSettings,
    NewNotice,
    RequestState,
    StoredMedia,
    StoredNotice,
    StoredPost,
    StoredRequest,
)
from storage.files import bot_database, prepare
from storage.migrations import migrate
from storage.records import from_db_time, ref_from_json, ref_to_json, request_from_json, request_to_json, to_db_time

logger = logging.getLogger(__name__)

_REQUEST_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, user_name, command_text, request_json, state, "
    "confirm_token, error, created_at, sent_at, announcement_ref, reconcile_attempts, api"
)
# Requests made through this process's Infinipost (its own stamp, or the URL alone it was stamped with before
# keys were told apart), or before the API was recorded at all.
_OURS = "(api IN (?, ?) OR api = '')"
_POST_COLUMNS = (
    "id, request_id, account_id, account_label, status, scheduled_time, posted_at, next_check_at, checks, delay_warned"
)
SETTINGS_CACHE_SIZE = 10_000
ONCE_PURGE_EVERY = timedelta(minutes=1)  # how often expired one-time keys are deleted
ONCE_BATCH = 500  # one-time keys written in one statement, far below SQLite's limit on parameters
_NOTICE_COLUMNS = "id, platform, workspace_id, channel_id, kind, request_id, attempts"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Storage:
    """Domain-named reads and writes. Open with `await Storage.open(path)`; `":memory:"` works for tests."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        clock: Callable[[], datetime] = _utc_now,
        api: str = "",
        legacy_api: str | None = None,
        once_db: aiosqlite.Connection | None = None,
    ) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        # One-time keys are written on every Slack acknowledgement: on a connection of their own they never queue
        # behind the work of a burst of commands, which cost each acknowledgement tens of milliseconds.
        self._once_db = once_db or db
        self._once_lock = asyncio.Lock() if once_db else self._lock  # a shared connection takes turns
        self._once_purged: datetime | None = None  # when expired one-time keys were last deleted
        self._once_waiting: list[tuple[str, datetime, datetime, asyncio.Future[bool]]] = []
        self._once_writer: asyncio.Task[None] | None = None
        self._now = clock
        # The Infinipost this process talks to ("sandbox" or a URL): requests are stamped with it, and only its
        # own are tracked, so that trying the sandbox and then the real API in one database cannot mix them.
        self.api = api
        self._ours = (api, legacy_api or api)
        # Zones, channel settings and aliases are read by every command and written only through this object,
        # so they are kept in memory once read (the bot is the database's only user).
        self._settings: dict[tuple[str, ...], Any] = {}

    def is_ours(self, stored: StoredRequest) -> bool:
        """Whether a request was made through the Infinipost (URL and key) this process uses."""
        return not stored.api or stored.api in self._ours

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        api: str = "",
        legacy_api: str | None = None,
    ) -> Self:
        """Open (creating it and its folder if need be) and migrate the database. Raises StorageError with one
        sentence saying what to fix: a folder, a file that is not SQLite, a place the bot cannot write."""
        in_memory = str(path) == ":memory:"  # a second connection would be a second database
        file = bot_database(Path(path))
        if not in_memory:
            await asyncio.to_thread(prepare, file)
        db: aiosqlite.Connection | None = None
        try:
            db = await _connect(path)
            await migrate(db)
            once_db = None if in_memory else await _connect(path)
        except sqlite3.DatabaseError as exc:
            if db is not None:
                await db.close()
            raise file.refusal(exc) from exc
        return cls(db, clock=clock, api=api, legacy_api=legacy_api, once_db=once_db)

    async def close(self) -> None:
        if self._once_db is not self._db:
            await self._once_db.close()
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                logger.exception("database write failed")
                raise StorageError() from exc

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            try:
                async with self._db.execute(sql, params) as cursor:
                    return list(await cursor.fetchall())
            except sqlite3.Error as exc:
                logger.exception("database read failed")
                raise StorageError() from exc

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    # Requests

    async def save_request(
        self,
        caller: Caller,
        *,
        command_text: str,
        request: PostRequest,
        state: str,
        confirm_token: str | None = None,
    ) -> StoredRequest:
        """Store a request before anything is sent, either awaiting confirmation or about to be sent."""
        created = self._now()
        now = to_db_time(created)
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO requests (platform, workspace_id, channel_id, user_id, user_name, command_text, "
                "request_json, scheduled_time, state, confirm_token, created_at, updated_at, api) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    self.api,
                ),
            )
            request_id = cursor.lastrowid
            assert request_id is not None
            await _link_media(db, request_id, [key for key in request.media_keys if key])
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
            api=self.api,
        )

    async def ready_request(
        self, request_id: int, *, request: PostRequest, state: str, confirm_token: str | None = None
    ) -> None:
        """A received request whose uploads are in: its complete request, and what happens next."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE requests SET request_json = ?, scheduled_time = ?, state = ?, confirm_token = ?, "
                "updated_at = ? WHERE id = ? AND state = ?",
                (
                    request_to_json(request),
                    to_db_time(request.scheduled_time),
                    state,
                    confirm_token,
                    to_db_time(self._now()),
                    request_id,
                    RequestState.RECEIVED,
                ),
            )
            if cursor.rowcount != 1:
                raise StorageError()
            await _link_media(db, request_id, [key for key in request.media_keys if key])

    async def drop_received(self, request_id: int) -> None:
        """Forget a received request that was refused (or cut short) before anything was sent: as if never
        stored, like any other refused command."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM requests WHERE id = ? AND state = ?", (request_id, RequestState.RECEIVED))

    async def unfinished_requests(self) -> list[StoredRequest]:
        """At start-up: requests the last process left receiving their uploads, or sending to this Infinipost."""
        rows = await self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = ? OR (state = ? AND {_OURS}) ORDER BY id",
            (RequestState.RECEIVED, RequestState.SENDING, *self._ours),
        )
        return [_request(row) for row in rows]

    async def get_request(self, request_id: int) -> StoredRequest | None:
        row = await self._row(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return _request(row) if row else None

    async def request_by_token(self, token: str) -> StoredRequest | None:
        row = await self._row(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE confirm_token = ?",
            (token,),
        )
        return _request(row) if row else None

    async def move_request(self, request_id: int, *, from_state: str, to_state: str) -> bool:
        """Change a request's state only if it is still in `from_state`: a second click does nothing."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE requests SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (to_state, to_db_time(self._now()), request_id, from_state),
            )
            return cursor.rowcount == 1

    async def finish_request(
        self,
        request_id: int,
        *,
        state: str,
        error: str | None = None,
        posts: Sequence[StoredPost] = (),
        audit: tuple[Caller, str, dict[str, Any]] | None = None,
        notices: Iterable[NewNotice] = (),
        reconcile_at: datetime | None = None,
    ) -> None:
        """Record the outcome of the create call, its posts (tracked from their scheduled time), audit row and
        notices, all in one transaction. `reconcile_at`: when to look for an unconfirmed request's posts."""
        now = to_db_time(self._now())
        async with self._transaction() as db:
            await db.execute(
                "UPDATE requests SET state = ?, error = ?, updated_at = ?, next_reconcile_at = ?, "
                "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                (state, error, now, to_db_time(reconcile_at), state, now, request_id),
            )
            await db.executemany(
                f"INSERT OR REPLACE INTO posts ({_POST_COLUMNS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (post.id, request_id, post.account_id, post.account_label, *_post_state(post), now, now)
                    for post in posts
                ],
            )
            if audit:
                await self._audit(db, audit[0], audit[1], request_id, audit[2])
            await self._enqueue(db, notices)

    async def requests_in_state(self, state: str) -> list[StoredRequest]:
        rows = await self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = ? ORDER BY id",
            (state,),
        )
        return [_request(row) for row in rows]

    async def interrupted_to_unconfirmed(self, *, before: datetime | None = None) -> list[int]:
        """Requests left `sending` (by a crash, or a create whose outcome could not be stored), older than
        `before` if given: they may or may not exist at Infinipost, so they become unconfirmed."""
        cutoff = to_db_time(before or self._now() + timedelta(days=1))
        rows = await self._rows(
            f"SELECT id FROM requests WHERE state = ? AND updated_at < ? AND {_OURS}",
            (RequestState.SENDING, cutoff, *self._ours),
        )
        ids = [int(row["id"]) for row in rows]
        if ids:
            now = to_db_time(self._now())
            async with self._transaction() as db:
                await db.executemany(
                    "UPDATE requests SET state = ?, error = ?, updated_at = ?, next_reconcile_at = ? "
                    "WHERE id = ? AND state = ?",
                    [
                        (
                            RequestState.UNCONFIRMED,
                            "interrupted during the create call",
                            now,
                            now,
                            i,
                            RequestState.SENDING,
                        )
                        for i in ids
                    ],
                )
        return ids

    async def channel_requests(self, channel: ChannelRef, *, limit: int) -> list[StoredRequest]:
        """The channel's latest sent or pending requests, newest first."""
        rows = await self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE platform = ? AND workspace_id = ? "
            "AND channel_id = ? AND state NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
            (
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
                RequestState.AWAITING_CONFIRMATION,
                RequestState.DISCARDED,
                limit,
            ),
        )
        return [_request(row) for row in rows]

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
        rows = await self._rows(
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

    # Posts

    async def posts_of(self, request_ids: Sequence[int]) -> dict[int, list[StoredPost]]:
        if not request_ids:
            return {}
        marks = ",".join("?" * len(request_ids))
        rows = await self._rows(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE request_id IN ({marks}) ORDER BY rowid",
            list(request_ids),
        )
        found: dict[int, list[StoredPost]] = {i: [] for i in request_ids}
        for row in rows:
            found[int(row["request_id"])].append(_post(row))
        return found

    async def posts_by_id(self, post_ids: Sequence[str]) -> dict[str, StoredPost]:
        if not post_ids:
            return {}
        marks = ",".join("?" * len(post_ids))
        rows = await self._rows(f"SELECT {_POST_COLUMNS} FROM posts WHERE id IN ({marks})", list(post_ids))
        return {str(row["id"]): _post(row) for row in rows}

    async def get_post(self, post_id: str) -> StoredPost | None:
        row = await self._row(f"SELECT {_POST_COLUMNS} FROM posts WHERE id = ?", (post_id,))
        return _post(row) if row else None

    async def update_posts(
        self,
        changes: Sequence[StoredPost],
        *,
        audit: tuple[Caller, str, int | None, dict[str, Any]] | None = None,
        notices: Iterable[NewNotice] = (),
    ) -> None:
        """Write posts as they now are (status, times, tracking), with their audit row and notices, at once."""
        now = to_db_time(self._now())
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE posts SET status = ?, scheduled_time = ?, posted_at = ?, next_check_at = ?, checks = ?, "
                "delay_warned = ?, updated_at = ? WHERE id = ?",
                [(*_post_state(post), now, post.id) for post in changes],
            )
            if audit:
                await self._audit(db, audit[0], audit[1], audit[2], audit[3])
            await self._enqueue(db, notices)

    async def due_posts(self, now: datetime, *, limit: int) -> list[StoredPost]:
        """Posts the tracker should ask about now: only those whose time has come, soonest first."""
        rows = await self._rows(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE next_check_at <= ? "
            f"AND request_id IN (SELECT id FROM requests WHERE {_OURS}) ORDER BY next_check_at LIMIT ?",
            (to_db_time(now), *self._ours, limit),
        )
        return [_post(row) for row in rows]

    async def tracked_count(self) -> int:
        row = await self._row("SELECT COUNT(*) AS n FROM posts WHERE next_check_at IS NOT NULL")
        return int(row["n"]) if row else 0

    async def due_reconciliations(self, now: datetime) -> list[StoredRequest]:
        rows = await self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = ? AND next_reconcile_at <= ? AND {_OURS} "
            "ORDER BY id",
            (RequestState.UNCONFIRMED, to_db_time(now), *self._ours),
        )
        return [_request(row) for row in rows]

    async def reconcile_later(self, request_id: int, *, at: datetime) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE requests SET next_reconcile_at = ?, reconcile_attempts = reconcile_attempts + 1 WHERE id = ?",
                (to_db_time(at), request_id),
            )

    async def unsettled_requests(self) -> list[StoredRequest]:
        """Requests whose create is under way or whose outcome is unknown, made through this process's
        Infinipost."""
        rows = await self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state IN (?, ?) AND {_OURS} ORDER BY id",
            (RequestState.SENDING, RequestState.UNCONFIRMED, *self._ours),
        )
        return [_request(row) for row in rows]

    async def known_post_ids(self, post_ids: Sequence[str]) -> set[str]:
        if not post_ids:
            return set()
        marks = ",".join("?" * len(post_ids))
        rows = await self._rows(f"SELECT id FROM posts WHERE id IN ({marks})", list(post_ids))
        return {str(row["id"]) for row in rows}

    # Settings

    async def _cached(self, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self._settings:
            if len(self._settings) > SETTINGS_CACHE_SIZE:
                self._settings.clear()
            self._settings[key] = await load()
        return self._settings[key]

    async def user_timezone(self, caller: Caller) -> str | None:
        async def load() -> str | None:
            row = await self._row(
                "SELECT timezone FROM user_settings WHERE platform = ? AND workspace_id = ? AND user_id = ?",
                (caller.platform, caller.workspace_id, caller.user_id),
            )
            return str(row["timezone"]) if row and row["timezone"] else None

        zone: str | None = await self._cached(("zone", caller.platform, caller.workspace_id, caller.user_id), load)
        return zone

    async def set_user_timezone(self, caller: Caller, timezone: str | None) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO user_settings (platform, workspace_id, user_id, timezone, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, workspace_id, user_id) "
                "DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
                (caller.platform, caller.workspace_id, caller.user_id, timezone, to_db_time(self._now())),
            )
            await self._audit(db, caller, "timezone", None, {"timezone": timezone})
        self._settings.pop(("zone", caller.platform, caller.workspace_id, caller.user_id), None)

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        async def load() -> ChannelSettings:
            row = await self._row(
                "SELECT default_accounts, allowed_accounts FROM channel_settings "
                "WHERE platform = ? AND workspace_id = ? AND channel_id = ?",
                (channel.platform, channel.workspace_id, channel.channel_id),
            )
            if not row:
                return ChannelSettings()
            allowed = row["allowed_accounts"]
            return ChannelSettings(
                default_accounts=tuple(json.loads(row["default_accounts"])),
                allowed_accounts=tuple(json.loads(allowed)) if allowed is not None else None,
            )

        settings: ChannelSettings = await self._cached(
            ("channel", channel.platform, channel.workspace_id, channel.channel_id), load
        )
        return settings

    async def set_channel_defaults(self, caller: Caller, account_ids: Sequence[str]) -> None:
        """The accounts a /post from this channel goes to when it names none."""
        current = await self.channel_settings(caller.channel)
        await self._save_channel(caller, tuple(account_ids), current.allowed_accounts)

    async def set_channel_allowed(self, caller: Caller, account_ids: Sequence[str] | None) -> tuple[str, ...]:
        """The only accounts this channel may post to; None lifts the restriction.

        Defaults the channel may no longer post to are dropped from its defaults, and returned.
        """
        current = await self.channel_settings(caller.channel)
        allowed = tuple(account_ids) if account_ids else None
        kept = tuple(a for a in current.default_accounts if allowed is None or a in allowed)
        await self._save_channel(caller, kept, allowed)
        return tuple(a for a in current.default_accounts if a not in kept)

    async def _save_channel(self, caller: Caller, defaults: tuple[str, ...], allowed: tuple[str, ...] | None) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO channel_settings (platform, workspace_id, channel_id, default_accounts, "
                "allowed_accounts, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, workspace_id, channel_id) DO UPDATE SET "
                "default_accounts = excluded.default_accounts, allowed_accounts = excluded.allowed_accounts, "
                "updated_at = excluded.updated_at",
                (
                    caller.platform,
                    caller.workspace_id,
                    caller.channel_id,
                    json.dumps(list(defaults)),
                    json.dumps(list(allowed)) if allowed is not None else None,
                    to_db_time(self._now()),
                ),
            )
            await self._audit(
                db, caller, "channel_accounts", None, {"defaults": list(defaults), "allowed": allowed and list(allowed)}
            )
        self._settings.pop(("channel", caller.platform, caller.workspace_id, caller.channel_id), None)

    async def aliases(self, platform: str, workspace_id: str) -> dict[str, str]:
        async def load() -> dict[str, str]:
            rows = await self._rows(
                "SELECT alias, account_id FROM aliases WHERE platform = ? AND workspace_id = ?",
                (platform, workspace_id),
            )
            return {str(row["alias"]): str(row["account_id"]) for row in rows}

        aliases: dict[str, str] = await self._cached(("aliases", platform, workspace_id), load)
        return dict(aliases)

    async def set_alias(self, caller: Caller, alias: str, account_id: str | None) -> bool:
        """Name an account for this workspace; `account_id=None` removes the alias.

        Aliases are read without regard to case, so this replaces or removes the alias in any case (`Main` replaces
        `main`). Returns whether there was such an alias before.
        """
        async with self._transaction() as db:
            async with db.execute(
                "SELECT alias FROM aliases WHERE platform = ? AND workspace_id = ?",
                (caller.platform, caller.workspace_id),
            ) as cursor:
                rows = await cursor.fetchall()
            existing = [str(row["alias"]) for row in rows if str(row["alias"]).lower() == alias.lower()]
            await db.executemany(
                "DELETE FROM aliases WHERE platform = ? AND workspace_id = ? AND alias = ?",
                [(caller.platform, caller.workspace_id, name) for name in existing],
            )
            if account_id is not None:
                await db.execute(
                    "INSERT INTO aliases (platform, workspace_id, alias, account_id, created_by, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        caller.platform,
                        caller.workspace_id,
                        alias,
                        account_id,
                        caller.user_id,
                        to_db_time(self._now()),
                    ),
                )
            if existing or account_id is not None:
                await self._audit(db, caller, "alias", None, {"alias": alias, "account": account_id})
        self._settings.pop(("aliases", caller.platform, caller.workspace_id), None)
        return bool(existing)

    async def _audit(
        self, db: aiosqlite.Connection, caller: Caller, action: str, request_id: int | None, detail: dict[str, Any]
    ) -> None:
        await db.execute(
            "INSERT INTO audit_log (at, platform, workspace_id, channel_id, user_id, action, request_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                to_db_time(self._now()),
                caller.platform,
                caller.workspace_id,
                caller.channel_id,
                caller.user_id,
                action,
                request_id,
                json.dumps(detail, ensure_ascii=False),
            ),
        )

    async def _enqueue(self, db: aiosqlite.Connection, notices: Iterable[NewNotice]) -> None:
        now = to_db_time(self._now())
        await db.executemany(
            "INSERT INTO notices (created_at, platform, workspace_id, channel_id, kind, request_id, payload, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    now,
                    n.channel.platform,
                    n.channel.workspace_id,
                    n.channel.channel_id,
                    n.kind,
                    n.request_id,
                    n.payload,
                    now,
                )
                for n in notices
            ],
        )

    # Media

    async def save_media(self, key: str, *, sha256: str, content_type: str, size: int) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO media (key, sha256, content_type, size, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, sha256, content_type, size, to_db_time(self._now())),
            )

    async def media(self, key: str) -> StoredMedia | None:
        row = await self._row("SELECT key, sha256, content_type, size FROM media WHERE key = ?", (key,))
        return StoredMedia(**dict(row)) if row else None

    async def media_keys(self) -> set[str]:
        return {str(row["key"]) for row in await self._rows("SELECT key FROM media")}

    async def link_media(self, request_id: int, keys: Sequence[str]) -> None:
        async with self._transaction() as db:
            await _link_media(db, request_id, keys)

    async def disposable_media(self, *, done_before: datetime, orphan_before: datetime) -> list[str]:
        """Media no request needs any more: every request using it finished before `done_before`, or no
        request ever used it and it is older than `orphan_before`."""
        done, orphan = to_db_time(done_before), to_db_time(orphan_before)
        rows = await self._rows(
            """
            SELECT m.key FROM media m
            WHERE NOT EXISTS (SELECT 1 FROM request_media rm WHERE rm.media_key = m.key) AND m.created_at < ?
            UNION
            SELECT m.key FROM media m
            WHERE EXISTS (SELECT 1 FROM request_media rm WHERE rm.media_key = m.key)
            AND NOT EXISTS (
                SELECT 1 FROM request_media rm JOIN requests r ON r.id = rm.request_id
                WHERE rm.media_key = m.key AND (
                    r.updated_at >= ?
                    OR r.state IN ('sending', 'unconfirmed')
                    OR (r.state = 'awaiting_confirmation' AND r.created_at >= ?)
                    OR EXISTS (
                        SELECT 1 FROM posts p WHERE p.request_id = r.id
                        AND (p.status NOT IN ('posted', 'failed', 'cancelled', 'missing') OR p.updated_at >= ?)
                    )
                )
            )
            """,
            (orphan, done, orphan, done),
        )
        return [str(row["key"]) for row in rows]

    async def forget_media(self, keys: Sequence[str]) -> None:
        async with self._transaction() as db:
            await db.executemany("DELETE FROM request_media WHERE media_key = ?", [(k,) for k in keys])
            await db.executemany("DELETE FROM media WHERE key = ?", [(k,) for k in keys])

    # One-time keys

    async def remember_once(self, key: str, *, until: datetime, now: datetime) -> bool:
        """Remember `key` until `until`: True the first time, False while it is remembered. `now` is the clock the
        key's lifetime is counted in, which may not be the bot's.

        This is on the path of every Slack acknowledgement, so keys that come while one write is under way are
        written together by the next, in one statement: a burst costs a few writes, not one each.
        """
        sighting: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._once_waiting.append((key, until, now, sighting))
        if self._once_writer is None:
            self._once_writer = asyncio.create_task(self._write_once())
        return await sighting

    async def _write_once(self) -> None:
        try:
            while self._once_waiting:
                batch, self._once_waiting = self._once_waiting[:ONCE_BATCH], self._once_waiting[ONCE_BATCH:]
                try:
                    new = await self._insert_once(batch)
                except Exception as exc:  # whatever it was, the requests waiting must hear of it
                    for *_, sighting in batch:
                        if not sighting.done():
                            sighting.set_exception(exc if isinstance(exc, StorageError) else StorageError())
                    continue
                for key, _, _, sighting in batch:
                    if not sighting.done():  # its request may have been given up meanwhile
                        sighting.set_result(key in new)
                    new.discard(key)  # the same key twice in a burst: only the first is new
        finally:
            self._once_writer = None

    async def _insert_once(self, batch: Sequence[tuple[str, datetime, datetime, Any]]) -> set[str]:
        """The keys of `batch` that were not remembered (or had expired), now remembered."""
        firsts = {key: until for key, until, _, _ in reversed(batch)}  # one row per key, as SQL requires
        now = max(at for _, _, at, _ in batch)
        values = ", ".join("(?, ?)" for _ in firsts)
        params = [value for key, until in firsts.items() for value in (key, to_db_time(until))]
        async with self._once_lock:
            try:
                if self._once_purged is None or now - self._once_purged > ONCE_PURGE_EVERY:
                    self._once_purged = now
                    await self._once_db.execute("DELETE FROM seen_once WHERE expires_at < ?", (to_db_time(now),))
                async with self._once_db.execute(
                    f"INSERT INTO seen_once (key, expires_at) VALUES {values} ON CONFLICT (key) DO UPDATE SET "
                    "expires_at = excluded.expires_at WHERE seen_once.expires_at < ? RETURNING key",
                    (*params, to_db_time(now)),
                ) as cursor:
                    return {str(row["key"]) for row in await cursor.fetchall()}
            except sqlite3.Error as exc:
                logger.exception("database write failed")
                raise StorageError() from exc

    # Audit log

    async def audit_entries(self, *, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._rows(
            "SELECT at, platform, workspace_id, channel_id, user_id, action, request_id, detail "
            "FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]

    # Notice outbox

    async def due_notices(self, now: datetime, *, platforms: Sequence[str], limit: int = 100) -> list[StoredNotice]:
        """Pending notices whose time has come, for the chat platforms this process runs."""
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        rows = await self._rows(
            f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE state = 'pending' AND next_attempt_at <= ? "
            f"AND platform IN ({marks}) ORDER BY id LIMIT ?",
            (to_db_time(now), *platforms, limit),
        )
        return [_notice(row) for row in rows]

    async def with_payloads(self, notices: Sequence[StoredNotice]) -> list[StoredNotice]:
        """The same notices, their payloads read: only for those about to go out, so that a long queue of
        paced notices costs little to look at."""
        if not notices:
            return []
        marks = ",".join("?" * len(notices))
        rows = await self._rows(f"SELECT id, payload FROM notices WHERE id IN ({marks})", [n.id for n in notices])
        payloads = {int(row["id"]): str(row["payload"]) for row in rows}
        return [replace(n, payload=payloads[n.id]) for n in notices if n.id in payloads]

    async def next_notice_time(self, *, platforms: Sequence[str]) -> datetime | None:
        if not platforms:
            return None
        marks = ",".join("?" * len(platforms))
        row = await self._row(
            f"SELECT MIN(next_attempt_at) AS at FROM notices WHERE state = 'pending' AND platform IN ({marks})",
            tuple(platforms),
        )
        return from_db_time(row["at"]) if row else None

    async def notices_delivered(
        self, notice_ids: Sequence[int], *, announcement: tuple[int, MessageRef] | None = None
    ) -> None:
        """Mark notices delivered, with the reference of the announcement they were, in one transaction."""
        async with self._transaction() as db:
            if announcement:
                await db.execute(
                    "UPDATE requests SET announcement_ref = ? WHERE id = ?",
                    (ref_to_json(announcement[1]), announcement[0]),
                )
            await db.executemany(
                "UPDATE notices SET state = 'delivered', delivered_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND state IN ('pending', 'sending')",
                [(to_db_time(self._now()), i) for i in notice_ids],
            )

    async def notices_retry(
        self, notice_ids: Sequence[int], *, at: datetime, error: str, give_up: bool, count: bool = True
    ) -> None:
        """Try again at `at` (counting an attempt unless `count` is False), or give up for good."""
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE notices SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?, state = ? "
                "WHERE id = ? AND state IN ('pending', 'sending')",
                [(int(count), to_db_time(at), error[:500], "dead" if give_up else "pending", i) for i in notice_ids],
            )

    async def announcement_pending(self, request_id: int) -> bool:
        row = await self._row(
            "SELECT 1 FROM notices WHERE request_id = ? AND kind = 'scheduled' AND state IN ('pending', 'sending')",
            (request_id,),
        )
        return row is not None

    async def notices_sending(self, notice_ids: Sequence[int]) -> None:
        """Mark notices as handed to the platform: if the process dies now, the next one must check first."""
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE notices SET state = 'sending' WHERE id = ? AND state = 'pending'", [(i,) for i in notice_ids]
            )

    async def notices_in_flight(self) -> list[StoredNotice]:
        rows = await self._rows(f"SELECT {_NOTICE_COLUMNS}, payload FROM notices WHERE state = 'sending' ORDER BY id")
        return [_notice(row) for row in rows]

    async def notice_states(self) -> list[tuple[int, str, str]]:
        """(id, kind, state) of every notice, oldest first: for tests and diagnostics."""
        rows = await self._rows("SELECT id, kind, state FROM notices ORDER BY id")
        return [(int(r["id"]), str(r["kind"]), str(r["state"])) for r in rows]

    async def integrity_ok(self) -> bool:
        row = await self._row("PRAGMA integrity_check")
        return bool(row and row[0] == "ok")


async def _connect(path: Path | str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            await db.execute(f"PRAGMA {pragma}")
    except BaseException:
        await db.close()  # its thread would otherwise keep the process alive
        raise
    return db


def _post_state(post: StoredPost) -> tuple[Any, ...]:
    """The columns a post's status and tracking live in, in the order of _POST_COLUMNS."""
    return (
        post.status.value,
        to_db_time(post.scheduled_time),
        to_db_time(post.posted_at),
        to_db_time(post.next_check_at),
        post.checks,
        int(post.delay_warned),
    )


async def _link_media(db: aiosqlite.Connection, request_id: int, keys: Sequence[str]) -> None:
    """Record that a request uses these stored media, so that clean-up keeps them while it needs them."""
    await db.executemany(
        "INSERT OR IGNORE INTO request_media (request_id, media_key) VALUES (?, ?)",
        [(request_id, key) for key in keys],
    )


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


def _post(row: sqlite3.Row) -> StoredPost:
    return StoredPost(
        id=row["id"],
        request_id=int(row["request_id"]),
        account_id=row["account_id"],
        account_label=row["account_label"],
        status=PostStatus(row["status"]),
        scheduled_time=from_db_time(row["scheduled_time"]),
        posted_at=from_db_time(row["posted_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        checks=int(row["checks"]),
        delay_warned=bool(row["delay_warned"]),
    )


def _notice(row: sqlite3.Row) -> StoredNotice:
    return StoredNotice(
        id=int(row["id"]),
        channel=ChannelRef(platform=row["platform"], workspace_id=row["workspace_id"], channel_id=row["channel_id"]),
        kind=row["kind"],
        request_id=row["request_id"],
        payload=row["payload"] if "payload" in row.keys() else "",  # noqa: SIM118 - sqlite3.Row has no `in`
        attempts=int(row["attempts"]),
    )
