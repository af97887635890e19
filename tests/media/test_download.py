"""Downloads go only to the platform's own hosts, carry the token only there, and stop at the size cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.errors import MediaRejected
from bot.links import host_allowed, parse_link
from bot.media.download import download, download_client
from bot.model import Attachment, MediaSource
from bot.web import start_site
from tests.media.files import MP4


@dataclass
class FileHost:
    port: int = 0
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (host, path, authorization)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def files() -> AsyncIterator[FileHost]:
    host = FileHost()

    async def handle(request: web.Request) -> web.StreamResponse:
        host.seen.append((request.host.split(":")[0], request.path, request.headers.get("Authorization", "")))
        name = request.match_info["name"]
        if name == "video.mp4":
            return web.Response(body=MP4, content_type="video/mp4")
        if name == "huge.mp4":
            response = web.StreamResponse()
            response.enable_chunked_encoding()  # no Content-Length: only counting the bytes can stop it
            await response.prepare(request)
            for _ in range(64):
                await response.write(b"\x00" * 16384)
            await response.write_eof()
            return response
        if name == "to-foreign":
            raise web.HTTPFound("http://files.evil.example/steal")
        if name == "to-other-host":
            raise web.HTTPFound(host.url("/video.mp4", host="localhost"))
        if name.startswith("to-malformed-"):
            location = MALFORMED_REDIRECTS[name.removeprefix("to-malformed-")][0]
            return web.Response(status=302, headers={"Location": location})  # as sent, not tidied by yarl
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{name}", handle)
    runner, host.port = await start_site(app, host="127.0.0.1", port=0)
    yield host
    await runner.cleanup()


def attachment(url: str, *, hosts: tuple[str, ...], token_hosts: tuple[str, ...] = ()) -> Attachment:
    source = MediaSource(allowed_hosts=hosts, bearer_token="xoxb-secret", token_hosts=token_hosts)
    return Attachment(filename=url.rsplit("/", 1)[-1], url=url, source=source)


async def test_a_download_hashes_and_keeps_the_bytes(files: FileHost, tmp_path: Path) -> None:
    here = (f"127.0.0.1:{files.port}",)
    async with download_client() as http:
        got = await download(
            attachment(files.url("/video.mp4"), hosts=here, token_hosts=here),
            http=http,
            work_dir=tmp_path,
            max_bytes=10**6,
        )
    assert got.path.read_bytes() == MP4
    assert got.size == len(MP4)
    assert files.seen == [("127.0.0.1", "/video.mp4", "Bearer xoxb-secret")]


async def test_a_stream_larger_than_the_cap_is_stopped_and_leaves_nothing(files: FileHost, tmp_path: Path) -> None:
    here = (f"127.0.0.1:{files.port}",)
    async with download_client() as http:
        with pytest.raises(MediaRejected) as caught:
            await download(
                attachment(files.url("/huge.mp4"), hosts=here), http=http, work_dir=tmp_path, max_bytes=100_000
            )
    assert "`huge.mp4` is more than 0.2 MB; the limit is 0.1 MB" in caught.value.user_message
    assert "BOT_MAX_MEDIA_MB" in caught.value.user_message
    assert list(tmp_path.iterdir()) == []


async def test_a_declared_size_over_the_cap_is_refused_before_downloading(tmp_path: Path) -> None:
    big = Attachment(
        filename="big.mov",
        url="https://files.slack.com/big.mov",
        size=5 * 1024**3,
        source=MediaSource(allowed_hosts=(".slack.com",)),
    )
    async with download_client() as http:
        with pytest.raises(MediaRejected, match="5,120 MB; the limit is 1,024 MB"):
            await download(big, http=http, work_dir=tmp_path, max_bytes=1024**3)


async def test_hosts_outside_the_allow_list_are_never_contacted(tmp_path: Path) -> None:
    async with download_client() as http:
        with pytest.raises(MediaRejected, match="somewhere I may not fetch from"):
            await download(
                attachment("https://evil.example/x.mp4", hosts=(".slack.com",)),
                http=http,
                work_dir=tmp_path,
                max_bytes=10**6,
            )


async def test_a_redirect_to_a_foreign_host_is_refused(files: FileHost, tmp_path: Path) -> None:
    here = (f"127.0.0.1:{files.port}",)
    async with download_client() as http:
        with pytest.raises(MediaRejected, match="somewhere I may not fetch from"):
            await download(
                attachment(files.url("/to-foreign"), hosts=here, token_hosts=here),
                http=http,
                work_dir=tmp_path,
                max_bytes=10**6,
            )
    assert [path for _, path, _ in files.seen] == ["/to-foreign"]


async def test_the_token_goes_only_to_token_hosts_even_across_redirects(files: FileHost, tmp_path: Path) -> None:
    token_host = (f"127.0.0.1:{files.port}",)
    both = (*token_host, f"localhost:{files.port}")
    async with download_client() as http:
        got = await download(
            attachment(files.url("/to-other-host"), hosts=both, token_hosts=token_host),
            http=http,
            work_dir=tmp_path,
            max_bytes=10**6,
        )
    assert got.path.read_bytes() == MP4
    assert files.seen == [("127.0.0.1", "/to-other-host", "Bearer xoxb-secret"), ("localhost", "/video.mp4", "")]


async def test_an_expired_link_says_so(files: FileHost, tmp_path: Path) -> None:
    here = (f"127.0.0.1:{files.port}",)
    async with download_client() as http:
        with pytest.raises(MediaRejected, match="the link may have expired"):
            await download(
                attachment(files.url("/gone.mp4"), hosts=here), http=http, work_dir=tmp_path, max_bytes=10**6
            )


MALFORMED_REDIRECTS = {
    "hostless": ("https:evil.com/x", "`https:evil.com/x` is not a web link"),
    "ipv6": ("https://[::1/v.mp4", "its host `[::1` lacks the closing `]`"),
    "fullwidth": ("https://files\uff0eslack.com/v.mp4", "has characters that stand for others"),
}


@pytest.mark.parametrize("case", MALFORMED_REDIRECTS)
async def test_a_malformed_link_or_redirect_is_named_with_what_is_wrong(
    files: FileHost, tmp_path: Path, case: str
) -> None:
    here = (f"127.0.0.1:{files.port}", ".slack.com")
    location, problem = MALFORMED_REDIRECTS[case]
    async with download_client() as http:
        for url in (location, files.url(f"/to-malformed-{case}")):  # given as the upload's link, or redirected to
            with pytest.raises(MediaRejected) as caught:
                await download(attachment(url, hosts=here), http=http, work_dir=tmp_path, max_bytes=10**6)
            assert caught.value.user_message.startswith(f"`{url.rsplit('/', 1)[-1]}` could not be downloaded: ")
            assert f"`{location}`" in caught.value.user_message
            assert problem in caught.value.user_message
    assert [path for _, path, _ in files.seen] == [f"/to-malformed-{case}"]  # nothing fetched but the first


@pytest.mark.parametrize(
    ("url", "hosts", "allowed"),
    [
        ("https://files.slack.com/a", (".slack.com",), True),
        ("https://slack.com.evil.example/a", (".slack.com",), False),
        ("https://cdn.discordapp.com/a", ("cdn.discordapp.com",), True),
        ("https://cdn.discordapp.com.evil.example/a", ("cdn.discordapp.com",), False),
        ("http://127.0.0.1:8080/a", ("127.0.0.1:8080",), True),
        ("http://127.0.0.1:8081/a", ("127.0.0.1:8080",), False),
        ("https://FILES.Slack.com/a", (".slack.com",), True),
        ("https://user@evil.example/a", ("evil.example.good",), False),
    ],
)
def test_host_allow_list(url: str, hosts: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(parse_link(url), hosts) is allowed


async def test_the_token_never_travels_unencrypted(tmp_path: Path) -> None:
    from bot.media.download import _auth

    source = MediaSource(allowed_hosts=(".slack.com",), bearer_token="xoxb-secret", token_hosts=(".slack.com",))
    assert _auth(parse_link("https://files.slack.com/f"), source) == {"Authorization": "Bearer xoxb-secret"}
    assert _auth(parse_link("http://files.slack.com/f"), source) == {}
