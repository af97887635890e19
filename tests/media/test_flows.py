"""Uploads end to end: a local file in the console becomes a post whose contentUrl serves the same bytes; media
are shared by content, kept while needed, and cleaned up after."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.console import ConsoleAdapter
from app.runtime import Runtime, start_runtime
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.media.files import MP4, image
from tests.processes import free_port


@pytest.fixture
async def console(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> AsyncIterator[tuple[ConsoleAdapter, Runtime]]:
    port = free_port()
    settings = make_settings(
        tmp_path,
        api_key="sk_test_x",
        api_url=sandbox.url,
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        media_keep_days=7,
    )
    async with start_runtime(settings, clock=clock, workers=False) as runtime, runtime.web:
        yield ConsoleAdapter(runtime.core, out=io.StringIO()), runtime


def creates(sandbox: SandboxServer) -> list[Any]:
    return [r.body for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_a_local_file_becomes_a_post_whose_link_serves_the_same_bytes(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path
) -> None:
    adapter, runtime = console
    video = tmp_path / "launch.mov"  # the name says QuickTime; the bytes say MP4, and the bytes win
    video.write_bytes(MP4)
    reply = await adapter.handle_line(f"/post {video} to acc_1 in 2 hours -- launch")
    assert reply is not None
    assert not reply.error, reply.text
    [body] = creates(sandbox)
    assert body["contentType"] == "video"
    assert body["contentUrl"].startswith(f"http://127.0.0.1:{runtime.web.port}/media/")
    assert body["contentUrl"].split("?")[0].endswith(".mp4")
    served = await fetch(body["contentUrl"])
    assert served.status_code == 200
    assert served.content == MP4


async def test_png_uploads_become_jpeg_slides(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path
) -> None:
    adapter, _ = console
    (tmp_path / "a.png").write_bytes(image("PNG"))
    (tmp_path / "b.webp").write_bytes(image("WEBP"))
    reply = await adapter.handle_line(f"/post {tmp_path}/a.png {tmp_path}/b.webp to acc_1 in 1 hour slides 4")
    assert reply is not None
    assert not reply.error, reply.text
    [body] = creates(sandbox)
    assert body["contentType"] == "slideshow"
    first, second = body["contentUrl"]
    assert first.split("?")[0].endswith(".jpg")
    assert (await fetch(first)).headers["Content-Type"] == "image/jpeg"
    assert (await fetch(second)).content == image("WEBP")


@pytest.mark.parametrize("name", ["clip", "clip.bin", "notes.txt"])
async def test_an_upload_whose_name_says_nothing_is_judged_by_its_bytes(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path, name: str
) -> None:
    adapter, _ = console
    (tmp_path / name).write_bytes(MP4)
    refused = await adapter.handle_line(f"/post {tmp_path}/{name} to acc_1 in 1 hour slides 4")
    assert refused is not None
    assert refused.text == "`slides` only applies to slideshows (several images)."
    reply = await adapter.handle_line(f"/post {tmp_path}/{name} to acc_1 in 1 hour")
    assert reply is not None
    assert not reply.error, reply.text
    [body] = creates(sandbox)
    assert body["contentType"] == "video"
    assert (await fetch(body["contentUrl"])).content == MP4


async def test_refused_uploads_name_the_file_and_store_nothing(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path
) -> None:
    adapter, runtime = console
    (tmp_path / "notes.mp4").write_text("not a video at all")
    reply = await adapter.handle_line(f"/post {tmp_path}/notes.mp4 to acc_1 in 1 hour")
    assert reply is not None
    assert reply.error
    assert "`notes.mp4` is not a video or an image" in reply.text
    assert creates(sandbox) == []
    assert await runtime.ctx.storage.requests.get(1) is None
    for path in (tmp_path / "nothing.mp4", tmp_path):  # missing, and a folder
        missing = await adapter.handle_line(f"/post {path} video to acc_1 in 1 hour")
        assert missing is not None
        assert "There is no file at" in missing.text


async def test_the_same_upload_twice_is_stored_once(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path
) -> None:
    adapter, runtime = console
    for name in ("one.mp4", "two.mp4"):
        (tmp_path / name).write_bytes(MP4)
        await adapter.handle_line(f"/post {tmp_path}/{name} to acc_1 in 1 hour")
    first, second = creates(sandbox)
    assert first["contentUrl"].split("?")[0] == second["contentUrl"].split("?")[0]
    assert len(await runtime.ctx.media.store.keys()) == 1


async def test_links_outlive_the_scheduled_time_by_the_margin(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path, clock: FakeClock
) -> None:
    adapter, _ = console
    (tmp_path / "v.mp4").write_bytes(MP4)
    await adapter.handle_line(f"/post {tmp_path}/v.mp4 to acc_1 in 2 hours")
    link = creates(sandbox)[0]["contentUrl"]
    clock.advance(hours=2 + 47)
    assert (await fetch(link)).status_code == 200
    clock.advance(hours=2)
    assert (await fetch(link)).status_code == 403


async def test_rescheduling_later_renews_the_link(
    console: tuple[ConsoleAdapter, Runtime], sandbox: SandboxServer, tmp_path: Path, clock: FakeClock
) -> None:
    adapter, _ = console
    (tmp_path / "v.mp4").write_bytes(MP4)
    await adapter.handle_line(f"/post {tmp_path}/v.mp4 to acc_1 in 2 hours")
    post_id = next(iter(sandbox.state.posts))
    reply = await adapter.handle_line(f"/reschedule {post_id} dec 20 9am")
    assert reply is not None
    assert not reply.error, reply.text
    patch = next(r.body for r in sandbox.state.received if r.method == "PATCH")
    assert patch["contentType"] == "video"
    clock.advance(days=22)  # past the first link's life, before the new one's end
    assert (await fetch(sandbox.state.posts[post_id]["contentUrl"])).content == MP4


async def test_media_of_finished_posts_are_deleted_after_the_keep_days(
    console: tuple[ConsoleAdapter, Runtime], tmp_path: Path, clock: FakeClock
) -> None:
    adapter, runtime = console
    (tmp_path / "done.mp4").write_bytes(MP4)
    (tmp_path / "later.mp4").write_bytes(MP4 + b"different")
    await adapter.handle_line(f"/post {tmp_path}/done.mp4 to acc_1 in 1 hour")
    await adapter.handle_line(f"/post {tmp_path}/later.mp4 to acc_1 on dec 24 at 9am")
    clock.advance(hours=2)
    await adapter.handle_line("/posts refresh")  # the first one is live now
    media = runtime.ctx.media
    assert await media.clean_up(keep=runtime.ctx.settings.media_keep_days_delta) == 0
    clock.advance(days=8)
    assert await media.clean_up(keep=runtime.ctx.settings.media_keep_days_delta) == 1
    assert len(await media.store.keys()) == 1  # the Christmas post still needs its file


async def test_start_up_sweep_removes_files_no_post_refers_to(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
    settings.media_dir.mkdir(parents=True)
    stray = settings.media_dir / ("0" * 64 + ".mp4")
    stray.write_bytes(MP4)
    # Files the store never names so, which someone else keeps in or beside its folder: never touched.
    others = [
        settings.media_dir / "holiday_video_2024_final.mp4",
        settings.media_dir / ("A" * 64 + ".mp4"),
        settings.media_dir / ("0" * 64 + ".png"),
        settings.media_dir / "kept" / ("1" * 64 + ".mp4"),
        settings.media_dir.parent / ("2" * 64 + ".mp4"),
    ]
    for other in others:
        other.parent.mkdir(exist_ok=True)
        other.write_bytes(MP4)
    async with start_runtime(settings, clock=clock, workers=False):
        assert not stray.exists()
    assert all(other.exists() for other in others)
