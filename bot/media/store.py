"""Where re-hosted media live: the bot's own disk behind signed links, or an S3-compatible bucket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from bot.errors import MediaRejected
from bot.media.sniff import IMAGES, VIDEOS

logger = logging.getLogger(__name__)

CONTENT_TYPES = {extension: mime for mime, extension in (*VIDEOS.items(), *IMAGES.items())}  # what is stored
_EXTENSIONS = "|".join(re.escape(extension) for extension in CONTENT_TYPES)
# Exactly the names the stores make, and nothing else: only these are ever served, swept or deleted.
LOCAL_KEY = re.compile(rf"^[0-9a-f]{{64}}({_EXTENSIONS})$")  # the content's SHA-256
S3_KEY = re.compile(rf"^(media/[0-9a-f]{{64}}|public/[A-Za-z0-9_-]{{32}})({_EXTENSIONS})$")
S3_PREFIXES = ("media/", "public/")  # the only parts of a bucket the bot lists, writes or deletes


class MediaStore(Protocol):
    """A place media are copied to, and links to them that Infinipost can fetch until a given time."""

    def key_for(self, sha256: str, extension: str, *, until: datetime) -> str: ...

    def check_linkable(self) -> None:
        """Raise MediaRejected when no link Infinipost could fetch can be made, before anything is downloaded."""

    async def exists(self, key: str) -> bool: ...

    async def put(self, path: Path, key: str, *, content_type: str) -> None: ...

    async def copy(self, key: str, new_key: str) -> None: ...

    def link(self, key: str, *, until: datetime) -> str: ...

    async def delete(self, key: str) -> None: ...

    async def keys(self) -> set[str]: ...


class LocalStore:
    """Files under BOT_MEDIA_DIR, served by the bot's HTTP server at `/media/<key>?exp=…&sig=…`.

    A link carries its expiry and an HMAC of key and expiry with BOT_MEDIA_SECRET: a changed or expired link
    gets 403 and no bytes.
    """

    def __init__(
        self, directory: Path, *, secret: bytes, base_url: Callable[[], str | None], clock: Callable[[], datetime]
    ) -> None:
        self.directory = directory
        self._secret = secret
        self._base_url = base_url
        self._clock = clock
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)

    def key_for(self, sha256: str, extension: str, *, until: datetime) -> str:
        return f"{sha256}{extension}"  # by content: the same upload twice is stored once

    async def exists(self, key: str) -> bool:
        return (self.directory / key).is_file()

    async def put(self, path: Path, key: str, *, content_type: str) -> None:
        os.chmod(path, 0o600)
        os.replace(path, self.directory / key)

    async def copy(self, key: str, new_key: str) -> None:
        shutil.copyfile(self.directory / key, self.directory / new_key)

    def check_linkable(self) -> None:
        if not self._base_url():
            raise MediaRejected(
                "Uploads need BOT_PUBLIC_URL: the address where Infinipost can fetch files from this bot. "
                "Ask whoever runs the bot to set it, or give a public link instead."
            )

    def link(self, key: str, *, until: datetime) -> str:
        self.check_linkable()
        base = str(self._base_url())
        expires = int(until.timestamp())
        return f"{base.rstrip('/')}/media/{key}?exp={expires}&sig={self._sign(key, expires)}"

    async def delete(self, key: str) -> None:
        if not LOCAL_KEY.match(key):
            raise ValueError(f"{key!r} is not a name this store makes")
        (self.directory / key).unlink(missing_ok=True)

    async def keys(self) -> set[str]:
        """The store's own files: in its folder itself, named as it names them."""
        return {p.name for p in self.directory.iterdir() if LOCAL_KEY.match(p.name) and p.is_file()}

    def _sign(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET /media/{key}: the file, with Range support, for a valid unexpired link; 403 otherwise."""
        key = request.match_info["key"]
        try:
            expires = int(request.query.get("exp", ""))
        except ValueError:
            raise web.HTTPForbidden() from None
        signature = request.query.get("sig", "").encode("ascii", "replace")
        if not LOCAL_KEY.match(key) or not hmac.compare_digest(signature, self._sign(key, expires).encode()):
            raise web.HTTPForbidden()
        if expires < self._clock().timestamp():
            raise web.HTTPForbidden()
        path = self.directory / key
        if not path.is_file():
            raise web.HTTPNotFound()
        size = path.stat().st_size
        wanted = _byte_range(request.headers.get("Range"))
        if wanted == "none" or (isinstance(wanted, int) and wanted >= size):
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        headers = {"Content-Type": content_type, "Cache-Control": "private, max-age=3600"}
        return (_WholeFile if wanted == "whole" else web.FileResponse)(path, headers=headers)


_BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str | None) -> int | Literal["whole", "none"] | None:
    """What a Range header asks of a file (RFC 9110, 14.2): None if nothing; "whole" if it is ignored, being of
    another unit, several ranges or malformed, so that the whole file is served; "none" if it selects no byte
    (`bytes=-0`); else the first byte it wants, for aiohttp to serve the part from."""
    if header is None:
        return None
    match = _BYTE_RANGE.match(header.strip())
    if match is None or not any(match.groups()):
        return "whole"
    first, last = match.groups()
    if not first:
        return "none" if int(last) == 0 else 0
    if last and int(last) < int(first):
        return "whole"
    return int(first)


class _WholeFile(web.FileResponse):
    """The whole file, whatever Range the request carries: one the server does not take is ignored."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        headers = request.headers.copy()
        headers.popall("Range", None)
        return await super().prepare(request.clone(headers=headers))


def load_secret(configured: str | None, path: Path) -> bytes:
    """BOT_MEDIA_SECRET, else one generated on first start and kept (owner-only) at `path`."""
    if configured:
        return configured.encode()
    if path.exists():
        return path.read_bytes().strip()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    secret = secrets.token_hex(32).encode()
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(secret)
    logger.info("generated a media link secret")
    return secret


PRESIGN_LIMIT = timedelta(days=7)  # SigV4 presigned URLs live at most a week


class S3Store:
    """An S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) through boto3.

    Links are presigned while they need to live at most a week; a post scheduled further ahead gets a copy
    under `public/<unguessable>`, a prefix the bucket must let anyone read (see the README), linked at
    BOT_S3_PUBLIC_URL when the bucket's public address is not its S3 endpoint.
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str | None,
        public_url: str | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        import boto3  # imported here so that installations without S3 never need it
        from botocore import UNSIGNED
        from botocore.config import Config

        style = {"addressing_style": "path"} if endpoint_url else {}
        self._s3: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=Config(signature_version="s3v4", s3=style)
        )
        self._public: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=Config(signature_version=UNSIGNED, s3=style)
        )
        self._bucket = bucket
        self._public_url = (
            public_url.rstrip("/") if public_url else None
        )  # where anyone can read the bucket, when that is not its S3 endpoint (R2)
        self._clock = clock

    def key_for(self, sha256: str, extension: str, *, until: datetime) -> str:
        if until - self._clock() > PRESIGN_LIMIT:
            return f"public/{secrets.token_urlsafe(24)}{extension}"
        return f"media/{sha256}{extension}"

    def check_linkable(self) -> None:
        pass  # a bucket can always link: presigned, or public under BOT_S3_PUBLIC_URL

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self._s3.head_object, Bucket=self._bucket, Key=key)
        except ClientError:
            return False
        return True

    async def put(self, path: Path, key: str, *, content_type: str) -> None:
        await asyncio.to_thread(
            self._s3.upload_file, str(path), self._bucket, key, ExtraArgs={"ContentType": content_type}
        )

    async def copy(self, key: str, new_key: str) -> None:
        source = {"Bucket": self._bucket, "Key": key}
        await asyncio.to_thread(self._s3.copy_object, Bucket=self._bucket, Key=new_key, CopySource=source)

    def link(self, key: str, *, until: datetime) -> str:
        if key.startswith("public/"):
            if self._public_url:
                return f"{self._public_url}/{key}"
            url: str = self._public.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key})
            return url
        seconds = int((until - self._clock()).total_seconds())
        seconds = max(60, min(seconds, int(PRESIGN_LIMIT.total_seconds())))
        presigned: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
        )
        return presigned

    async def delete(self, key: str) -> None:
        if not S3_KEY.match(key):
            raise ValueError(f"{key!r} is not a name this store makes")
        await asyncio.to_thread(self._s3.delete_object, Bucket=self._bucket, Key=key)

    async def keys(self) -> set[str]:
        def listing() -> set[str]:
            found: set[str] = set()
            for prefix in S3_PREFIXES:
                pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
                for page in pages:
                    found.update(item["Key"] for item in page.get("Contents", ()) if S3_KEY.match(item["Key"]))
            return found

        return await asyncio.to_thread(listing)
