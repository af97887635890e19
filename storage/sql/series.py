"""Recurring posts: each series' progress, and its occurrences, each stored once however many replicas try."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, select, update

from bot.model import PostRequest
from bot.ports import RequestAudit
from bot.records import RequestState, SeriesState, StoredRequest
from storage.schema import requests, series
from storage.sql.audit import write_audit
from storage.sql.connection import Database, upsert
from storage.sql.media import link_media
from storage.sql.requests import REQUEST_COLUMNS, SqlRequests, stored_request


class SqlSeries:
    """The `Series` port (bot/ports.py) over the shared engine."""

    def __init__(self, database: Database, requests_store: SqlRequests) -> None:
        self._db = database
        self._requests = requests_store

    async def start(self, request_id: int, *, from_state: str, next_at: datetime, audit: RequestAudit) -> bool:
        now = self._db.now()
        async with self._db.transaction() as db:
            moved = await db.execute(
                update(requests)
                .where(requests.c.id == request_id, requests.c.state == from_state)
                .values(state=RequestState.SERIES, updated_at=now, claimed_by=None, claimed_until=None)
            )
            if moved.rowcount != 1:
                return False
            await db.execute(
                series.insert().values(
                    request_id=request_id, state="active", created=0, next_at=next_at, updated_at=now
                )
            )
            caller, action, detail = audit
            await write_audit(db, caller, at=now, action=action, request_id=request_id, detail=detail)
        return True

    async def get(self, request_id: int) -> SeriesState | None:
        row = await self._db.row(select(series).where(series.c.request_id == request_id))
        return _state(row) if row else None

    async def due(self, until: datetime, *, limit: int) -> list[SeriesState]:
        rows = await self._db.rows(
            select(series)
            .where(series.c.state == "active", series.c.next_at <= until)
            .order_by(series.c.next_at)
            .limit(limit)
        )
        return [_state(row) for row in rows]

    async def add_occurrence(
        self, asked: StoredRequest, *, occurrence: int, request: PostRequest
    ) -> StoredRequest | None:
        row = self._requests.row_of(
            asked.author, command_text=asked.command_text, request=request, state=RequestState.SENDING
        )
        row |= {"series_id": asked.id, "occurrence": occurrence}
        statement = (
            upsert(self._db.dialect, requests)
            .values(row)
            .on_conflict_do_nothing(index_elements=[requests.c.series_id, requests.c.occurrence])
            .returning(*REQUEST_COLUMNS)
        )
        keys = [key for key in request.media_keys if key]
        async with self._db.transaction() as db:
            rows = list((await db.execute(statement)).mappings())
            if rows and keys:  # its uploads are kept while it is to go out
                await link_media(db, int(rows[0]["id"]), keys)
        return stored_request(rows[0]) if rows else None

    async def advance(self, request_id: int, *, created_was: int, next_at: datetime | None) -> bool:
        now = self._db.now()
        async with self._db.transaction() as db:
            moved = await db.execute(
                update(series)
                .where(series.c.request_id == request_id, series.c.state == "active", series.c.created == created_was)
                .values(
                    created=created_was + 1,
                    next_at=next_at,
                    state="active" if next_at is not None else "done",
                    updated_at=now,
                )
            )
            if moved.rowcount != 1:
                return False
            if next_at is None:
                await db.execute(
                    update(requests)
                    .where(requests.c.id == request_id)
                    .values(state=RequestState.SERIES_ENDED, updated_at=now)
                )
        return True

    async def stop(self, request_id: int, *, audit: RequestAudit) -> bool:
        now = self._db.now()
        async with self._db.transaction() as db:
            moved = await db.execute(
                update(series)
                .where(series.c.request_id == request_id, series.c.state == "active")
                .values(state="stopped", next_at=None, updated_at=now)
            )
            if moved.rowcount != 1:
                return False
            await db.execute(
                update(requests)
                .where(requests.c.id == request_id)
                .values(state=RequestState.SERIES_ENDED, updated_at=now)
            )
            caller, action, detail = audit
            await write_audit(db, caller, at=now, action=action, request_id=request_id, detail=detail)
        return True


def _state(row: RowMapping) -> SeriesState:
    return SeriesState(
        request_id=int(row["request_id"]), state=row["state"], created=int(row["created"]), next_at=row["next_at"]
    )
