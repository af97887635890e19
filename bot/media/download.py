"""Fetching an upload from its platform: only from the platform's own hosts, streamed, and capped in size."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from bot.errors import BadLink, MediaRejected
from bot.links import Link, host_allowed, parse_link, redirected
from bot.media.sniff import HEAD_BYTES
from bot.model import Attachment, MediaSource

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    size: int
    head: bytes


def file_hosts(official: tuple[str, ...], *, api_url: str | None, api_host: str) -> tuple[str, ...]:
    """A platform's own file hosts, and the host of its API URL when that is overridden: a proxy or a test double
    then serves the files too."""
    host = urlsplit(api_url or "").netloc
    return (*official, host) if host and host != api_host else official


def download_client() -> httpx.AsyncClient:
    """The HTTP client downloads go through (the caller closes it)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), event_hooks={"response": [_check_redirect]})


async def _check_redirect(response: httpx.Response) -> None:
    """A redirect's Location is checked, and named if it is wrong, before httpx reads it: httpx builds the next
    request even when it is not to follow it, and fails on a malformed Location without saying which."""
    if response.has_redirect_location:
        redirected(parse_link(str(response.request.url)), response.headers["Location"])


async def download(
    attachment: Attachment,
    *,
    http: httpx.AsyncClient,
    work_dir: Path,
    max_bytes: int,
    limit_name: str = "BOT_MAX_MEDIA_MB",
) -> Downloaded:
    """Stream an attachment to a temporary file in `work_dir`; the caller owns (and removes) the file.

    Args:
        limit_name: what sets `max_bytes`, as a refusal names it (a setting, or a fixed limit's reason).
    """
    name = attachment.filename
    limit = _Limit(max_bytes, limit_name)
    if attachment.size is not None and attachment.size > max_bytes:
        raise limit.refusal(name, attachment.size)
    source = attachment.source
    if source is None:
        raise MediaRejected(f"I don't know where `{name}` may be fetched from.")
    if source.local_files and attachment.url.startswith("file://"):
        return _copy_local(Path(unquote(urlsplit(attachment.url).path)), work_dir=work_dir, limit=limit, name=name)
    try:
        link = parse_link(attachment.url)
        return await _follow(link, source, http=http, work_dir=work_dir, limit=limit, name=name)
    except BadLink as exc:
        raise MediaRejected(f"`{name}` could not be downloaded: {exc.user_message}") from exc
    except httpx.HTTPError as exc:
        logger.warning("downloading %s failed: %s", name, type(exc).__name__)
        raise MediaRejected(f"`{name}` could not be downloaded right now. Try again.") from exc


async def _follow(
    link: Link, source: MediaSource, *, http: httpx.AsyncClient, work_dir: Path, limit: _Limit, name: str
) -> Downloaded:
    for _ in range(MAX_REDIRECTS + 1):
        if not host_allowed(link, source.allowed_hosts):
            logger.warning("refused to fetch %s from %s", name, link.netloc)
            raise MediaRejected(f"`{name}` points somewhere I may not fetch from, so I did not download it.")
        headers = _auth(link, source)
        async with http.stream("GET", link.url, headers=headers, follow_redirects=False) as response:
            if response.is_redirect:
                link = redirected(link, response.headers.get("Location", ""))
                continue
            if response.status_code in (401, 403, 404, 410):
                raise MediaRejected(
                    f"`{name}` could not be downloaded ({response.status_code}): the link may have expired. "
                    "Upload it again and retry."
                )
            if response.status_code != 200:
                raise MediaRejected(f"`{name}` could not be downloaded right now ({response.status_code}). Try again.")
            return await _save(response, work_dir=work_dir, limit=limit, name=name)
    raise MediaRejected(f"`{name}` redirected too many times, so I did not download it.")


def _auth(link: Link, source: MediaSource) -> dict[str, str]:
    """The token goes only to its hosts, and only encrypted (loopback aside: a proxy or a test double)."""
    private = link.scheme == "https" or link.host in ("127.0.0.1", "localhost", "::1")
    if source.bearer_token and private and host_allowed(link, source.token_hosts):
        return {"Authorization": f"Bearer {source.bearer_token}"}
    return {}


async def _save(response: httpx.Response, *, work_dir: Path, limit: _Limit, name: str) -> Downloaded:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit.bytes:
        raise limit.refusal(name, int(declared))
    digest, size, head = hashlib.sha256(), 0, b""
    handle, temp = tempfile.mkstemp(dir=work_dir, prefix="download-")
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in response.aiter_bytes(CHUNK):
                size += len(chunk)
                if size > limit.bytes:
                    raise limit.refusal(name, size, at_least=True)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(temp)
        raise
    return Downloaded(path=Path(temp), sha256=digest.hexdigest(), size=size, head=head)


def _copy_local(path: Path, *, work_dir: Path, limit: _Limit, name: str) -> Downloaded:
    if not path.is_file():
        raise MediaRejected(f"There is no file at `{path}`.")
    size = path.stat().st_size
    if size > limit.bytes:
        raise limit.refusal(name, size)
    digest = hashlib.sha256()
    handle, temp = tempfile.mkstemp(dir=work_dir, prefix="local-")
    with os.fdopen(handle, "wb") as out, path.open("rb") as source:
        head = source.read(HEAD_BYTES)
        source.seek(0)
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return Downloaded(path=Path(temp), sha256=digest.hexdigest(), size=size, head=head)


@dataclass(frozen=True)
class _Limit:
    bytes: int
    name: str  # what sets it, as the refusal says

    def refusal(self, file: str, size: int, *, at_least: bool = False) -> MediaRejected:
        more = "more than " if at_least else ""
        return MediaRejected(
            f"`{file}` is {more}{_megabytes(size)}; the limit is {_megabytes(self.bytes)} ({self.name})."
        )


def _megabytes(size: int) -> str:
    """Whole megabytes, with one decimal below 10 so that a small limit never reads as "0 MB"."""
    megabytes = size / 1024 / 1024
    return f"{megabytes:,.1f} MB" if megabytes < 10 else f"{megabytes:,.0f} MB"
