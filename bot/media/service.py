"""Re-hosting uploads: download, check, convert, store once by content, link until the post is safely out."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx

from bot.errors import MediaRejected
from bot.media.download import download
from bot.media.sniff import convert_to_jpeg, sniff
from bot.media.store import MediaStore
from bot.model import Attachment
from bot.ports import Store

logger = logging.getLogger(__name__)

ORPHAN_AGE = timedelta(days=1)  # media stored for a command that was never saved (a crash in between)


@dataclass(frozen=True)
class Rehosted:
    key: str
    url: str
    kind: Literal["video", "image"]


class MediaService:
    """The one place uploads are fetched, checked and re-hosted; used while a command is handled."""

    def __init__(
        self,
        *,
        store: MediaStore,
        storage: Store,
        http: httpx.AsyncClient,
        work_dir: Path,
        max_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self._index = storage.media
        self._http = http
        self._work_dir = work_dir
        self._max_bytes = max_bytes
        self._clock = clock
        work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def rehost(self, attachment: Attachment, *, until: datetime) -> Rehosted:
        """Copy an upload to the store; the link stays valid until `until`. Raises MediaRejected."""
        self.store.check_linkable()
        fetched = await download(attachment, http=self._http, work_dir=self._work_dir, max_bytes=self._max_bytes)
        temp_files = [fetched.path]
        try:
            kind = sniff(fetched.head, filename=attachment.filename)
            path, digest = fetched.path, fetched.sha256
            if kind.needs_conversion:
                path = Path(tempfile.mkstemp(dir=self._work_dir, prefix="converted-", suffix=".jpg")[1])
                temp_files.append(path)
                await asyncio.to_thread(convert_to_jpeg, fetched.path, path, filename=attachment.filename)
                digest = await asyncio.to_thread(_sha256, path)
            size = path.stat().st_size
            key = self.store.key_for(digest, kind.extension, until=until)
            if not await self.store.exists(key):
                await self.store.put(path, key, content_type=kind.content_type)
            await self._index.save(key, sha256=digest, content_type=kind.content_type, size=size)
            return Rehosted(key=key, url=self.store.link(key, until=until), kind=kind.kind)
        finally:
            for temp in temp_files:
                temp.unlink(missing_ok=True)

    async def read(self, attachment: Attachment, *, max_bytes: int, limit_name: str) -> bytes:
        """A small upload's bytes (a table to import), fetched as uploads are: only from its source's hosts, and
        never more than `max_bytes` (`limit_name` says what sets it). Raises MediaRejected."""
        fetched = await download(
            attachment, http=self._http, work_dir=self._work_dir, max_bytes=max_bytes, limit_name=limit_name
        )
        try:
            return await asyncio.to_thread(fetched.path.read_bytes)
        finally:
            fetched.path.unlink(missing_ok=True)

    async def relink(self, key: str, *, until: datetime) -> tuple[str, str]:
        """A fresh link to stored media that lasts until `until`; returns (key, url), the key possibly new."""
        media = await self._index.get(key)
        if media is None:
            raise MediaRejected("That post's media is no longer stored; cancel it and schedule it again.")
        wanted = self.store.key_for(media.sha256, Path(key).suffix, until=until)
        if wanted != key:
            await self.store.copy(key, wanted)
            await self._index.save(wanted, sha256=media.sha256, content_type=media.content_type, size=media.size)
        return wanted, self.store.link(wanted, until=until)

    async def clean_up(self, *, keep: timedelta) -> int:
        """Delete media whose posts are all done (posted, failed, cancelled) for longer than `keep`."""
        now = self._clock()
        keys = await self._index.disposable(done_before=now - keep, orphan_before=now - ORPHAN_AGE)
        for key in keys:
            await self.store.delete(key)
        await self._index.forget(keys)
        if keys:
            logger.info("deleted %d media file(s) no longer needed", len(keys))
        return len(keys)

    async def clean_up_forever(self, *, keep: timedelta, every: timedelta = timedelta(hours=1)) -> None:
        """The clean-up worker: runs until cancelled; a failed round is logged and tried again later."""
        while True:
            try:
                await self.clean_up(keep=keep)
            except Exception:
                logger.exception("media clean-up failed")
            await asyncio.sleep(every.total_seconds())

    async def sweep(self) -> int:
        """At start-up: remove stored files that no media record refers to."""
        known = await self._index.keys()
        stray = (await self.store.keys()) - known
        for key in stray:
            await self.store.delete(key)
        shutil.rmtree(self._work_dir, ignore_errors=True)  # half-finished downloads of an earlier run
        self._work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stray:
            logger.info("removed %d stray media file(s)", len(stray))
        return len(stray)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
