"""Discord's CDN, which serves attachment files at their signed links."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from tests.fakes.discord.fake import FAKE, FakeDiscord


async def cdn(request: web.Request) -> web.StreamResponse:
    """Discord's CDN: a signed link serves its file until the `ex` time it carries, then 404."""
    fake = request.app[FAKE]
    fake.downloads.append(request.path)
    fake.downloading += 1
    fake.most_downloads_at_once = max(fake.most_downloads_at_once, fake.downloading)
    try:
        return await serve_file(fake, request)
    finally:
        fake.downloading -= 1


async def serve_file(fake: FakeDiscord, request: web.Request) -> web.StreamResponse:
    gone = web.Response(status=404, text="This content is no longer available.")
    expiry, signature = request.query.get("ex", ""), request.query.get("hm", "")
    attachment_id = int(request.match_info["attachment"])
    await fake.hold(request.method, request.path)
    fault = fake.file_faults.get(attachment_id)
    if fault is not None:
        status, location = fault
        return web.Response(status=status, headers={"Location": location} if location else None)
    stored = fake.files.get(attachment_id)
    if stored is None or not signature or not expiry or int(expiry, 16) < time.time():
        return gone
    if attachment_id not in fake.trickles:
        return web.Response(body=stored[0], headers={"Content-Type": stored[1]})  # as Discord: `; charset=utf-8` too
    response = web.StreamResponse(headers={"Content-Type": stored[1], "Content-Length": str(len(stored[0]))})
    await response.prepare(request)
    for start in range(0, len(stored[0]), 64):
        await response.write(stored[0][start : start + 64])
        await asyncio.sleep(fake.trickles[attachment_id])
    await response.write_eof()
    return response
