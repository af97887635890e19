"""The gateway websocket: HELLO, heartbeats, IDENTIFY answered with READY and GUILD_CREATE (or the close code a
test set), then the events tests queue on `FakeDiscord.dispatches`.

A session that identifies with `shard: [id, count]` gets what Discord sends a shard: READY says the shard back
and lists only that shard's servers, whose events alone it receives; a server is on shard
`(guild_id >> 22) % count`, and events with no server (direct messages) go to shard 0. A session without a
`shard` is the one shard of an unsharded bot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord.fake import FAKE, FakeDiscord
from tests.fakes.discord.payloads import BOT_TOKEN, GUILD_ID, ready_object

INVALID_SHARD = 4010


def shard_of(guild_id: int | str | None, count: int) -> int:
    """The shard that receives a server's events."""
    return (int(guild_id) >> 22) % count if guild_id else 0


def _valid_shard(shard: Any) -> bool:
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(number, int) and not isinstance(number, bool) for number in shard)
        and 0 <= shard[0] < shard[1]
    )


async def gateway(request: web.Request) -> web.WebSocketResponse:
    fake = request.app[FAKE]
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    sequence = itertools.count(1)
    shard, count = 0, 1

    async def dispatch(event: str, data: dict[str, Any]) -> None:
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": next(sequence), "d": data}))

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
                if "shard" in message["d"]:
                    if not _valid_shard(message["d"]["shard"]):
                        await socket.close(code=INVALID_SHARD, message=b"Invalid shard.")
                        break
                    shard, count = message["d"]["shard"]
                on_this_shard = shard_of(GUILD_ID, count) == shard
                await dispatch(
                    "READY", ready_object(fake.gateway_url, shard=message["d"].get("shard"), guilds=on_this_shard)
                )
                if on_this_shard:
                    await dispatch("GUILD_CREATE", fake.guild())
                fake.sessions[shard] = dispatch
                writing = asyncio.create_task(_write(fake, count))
    finally:
        if writing is not None:
            writing.cancel()
        if fake.sessions.get(shard) is dispatch:
            del fake.sessions[shard]
    return socket


async def _write(fake: FakeDiscord, count: int) -> None:
    """Send the queued events, each over the session of its server's shard; an event for a shard no session
    here runs is lost, as it would be to this process (another replica would have it)."""
    while True:
        event, data = await fake.dispatches.get()
        session = fake.sessions.get(shard_of(data.get("guild_id"), count))
        if session is not None:
            await session(event, data)
