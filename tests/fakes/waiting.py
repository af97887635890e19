"""Waiting on a fake: the bot works after it acknowledges, so a test waits until what it expects has happened."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def wait_until(condition: Callable[[], Any], *, timeout: float, so_far: Callable[[], object]) -> Any:
    """The first truthy result of `condition()` (sync or async); past `timeout` seconds, an AssertionError that
    shows `so_far()`: what the fake has seen, to tell what went missing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting; so far: {so_far()}")
