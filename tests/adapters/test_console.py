"""The console adapter in the test's own process: what it shares with every platform through the core."""

from __future__ import annotations

import asyncio
import io
import time

from adapters.console import ConsoleAdapter
from app.runtime import Runtime
from bot.core import Core
from sandbox import Fault, SandboxServer


async def test_the_console_works_on_no_more_commands_at_once_than_the_core_admits(
    runtime: Runtime, sandbox: SandboxServer
) -> None:
    console = ConsoleAdapter(Core(runtime.ctx, max_in_flight=1), out=io.StringIO())
    sandbox.state.faults = [Fault(kind="latency", route="create", seconds=0.4, times=None)]
    started = time.monotonic()
    replies = await asyncio.gather(
        *(console.handle_line(f"/post https://e.com/{n}.mp4 to acc_1 now") for n in range(2))
    )
    assert time.monotonic() - started >= 0.8  # one after the other: each create takes 0.4 seconds
    assert all(reply is not None and "Scheduled" in reply.text for reply in replies), replies
    assert [r.path for r in sandbox.state.received if r.method == "POST"] == ["/v1/posts"] * 2
