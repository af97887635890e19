"""The gateway websocket: HELLO, heartbeats, IDENTIFY answered with READY and GUILD_CREATE (or the close code a
test set), then the events tests queue on `FakeDiscord.dispatches`."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord.fake import FAKE
from tests.fakes.discord.payloads import BOT_TOKEN, ready_object


async def gateway(request: web.Request) -> web.WebSocketResponse:
    fake = request.app[FAKE]
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    sequence = itertools.count(1)

    async def dispatch(event: str, data: dict[str, Any]) -> None:
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": next(sequence), "d": data}))

    async def writer() -> None:
        while True:
            event, data = await fake.dispatches.get()
            await dispatch(event, data)

    await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
    writing: asyncio.Task[None] | None = None
    try:
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 1:
                fake.heartbeats += 1
                await socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif message["op"] == 2:
                fake.identifies.append(message["d"])
                if message["d"].get("token") != BOT_TOKEN:
                    await socket.close(code=4004, message=b"Authentication failed.")
                    break
                if fake.identify_close is not None:
                    await socket.close(code=fake.identify_close, message=b"Disallowed intent(s).")
                    break
                await dispatch("READY", ready_object(fake.gateway_url))
                await dispatch("GUILD_CREATE", fake.guild())
                writing = asyncio.create_task(writer())
    finally:
        if writing is not None:
            writing.cancel()
    return socket
