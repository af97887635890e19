"""The local store served over real HTTP: signed links, tampering, expiry, ranges and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from bot.media.store import LocalStore, load_secret
from bot.web import WebServer
from tests.conftest import FakeClock
from tests.media.files import MP4

KEY = "a" * 64 + ".mp4"


@pytest.fixture
async def served(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[LocalStore, WebServer]]:
    web = WebServer(host="127.0.0.1", port=0)
    store = LocalStore(
        tmp_path / "media", secret=b"secret", base_url=lambda: f"http://127.0.0.1:{web.port}", clock=clock
    )
    web.app.router.add_get("/media/{key}", store.serve)
    async with web:
        upload = tmp_path / "upload"
        upload.write_bytes(MP4)
        await store.put(upload, KEY, content_type="video/mp4")
        yield store, web


async def test_a_signed_link_serves_the_bytes_with_the_right_headers(
    served: tuple[LocalStore, WebServer], clock: FakeClock
) -> None:
    store, _ = served
    async with httpx.AsyncClient() as http:
        response = await http.get(store.link(KEY, until=clock() + timedelta(hours=1)))
    assert response.status_code == 200
    assert response.content == MP4
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(MP4))
    assert response.headers["Accept-Ranges"] == "bytes"


async def test_range_requests(served: tuple[LocalStore, WebServer], clock: FakeClock) -> None:
    store, _ = served
    async with httpx.AsyncClient() as http:
        response = await http.get(store.link(KEY, until=clock() + timedelta(hours=1)), headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == MP4[10:20]
    assert response.headers["Content-Range"] == f"bytes 10-19/{len(MP4)}"


@pytest.mark.parametrize(
    ("asked", "status"),
    [
        *[(asked, 416) for asked in ("bytes=-0", "bytes=2080-", "bytes=99999-100000")],  # selects no byte
        # Not taken (several ranges, another unit, malformed): ignored, and the whole file served.
        *[(asked, 200) for asked in ("bytes=0-1,5-6", "items=0-5", "bytes=abc", "bytes=5-2", "bytes=-", "bytes=1-2-3")],
    ],
)
async def test_a_range_that_selects_no_byte_gets_416_and_one_not_taken_the_whole_file(
    served: tuple[LocalStore, WebServer], clock: FakeClock, asked: str, status: int
) -> None:
    store, _ = served
    async with httpx.AsyncClient() as http:
        response = await http.get(store.link(KEY, until=clock() + timedelta(hours=1)), headers={"Range": asked})
    assert response.status_code == status
    if status == 416:
        assert response.headers["Content-Range"] == f"bytes */{len(MP4)}"
    else:
        assert response.content == MP4
        assert "Content-Range" not in response.headers


def _tamper(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query)) | changes
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize("change", ["signature", "expiry", "key", "missing"])
async def test_a_tampered_link_gets_403_and_no_bytes(
    served: tuple[LocalStore, WebServer], clock: FakeClock, change: str
) -> None:
    store, _ = served
    link = store.link(KEY, until=clock() + timedelta(hours=1))
    exp = str(int((clock() + timedelta(hours=1)).timestamp()))
    tampered = {
        "signature": _tamper(link, sig="0" * 64),
        "expiry": _tamper(link, exp=str(int(exp) + 86400)),
        "key": link.replace(KEY, "b" * 64 + ".mp4"),
        "missing": link.split("?")[0],
    }[change]
    async with httpx.AsyncClient() as http:
        response = await http.get(tampered)
    assert response.status_code == 403
    assert MP4[:16] not in response.content


async def test_an_expired_link_gets_403(served: tuple[LocalStore, WebServer], clock: FakeClock) -> None:
    store, _ = served
    link = store.link(KEY, until=clock() + timedelta(minutes=5))
    clock.advance(minutes=6)
    async with httpx.AsyncClient() as http:
        assert (await http.get(link)).status_code == 403


async def test_path_tricks_are_refused(served: tuple[LocalStore, WebServer]) -> None:
    _, web = served
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{web.port}/media/..%2Fbot.db?exp=9999999999&sig=x")
        assert response.status_code in (403, 404)
        odd = await http.get(f"http://127.0.0.1:{web.port}/media/{KEY}?exp=9999999999&sig=%C3%A9")
        assert odd.status_code == 403


def test_media_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "media.secret"
    first = load_secret(None, path)
    assert load_secret(None, path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_secret("configured", path) == b"configured"


async def test_the_media_folder_and_files_are_private(served: tuple[LocalStore, WebServer]) -> None:
    store, _ = served
    assert store.directory.stat().st_mode & 0o777 == 0o700
    assert (store.directory / KEY).stat().st_mode & 0o777 == 0o600
