"""What a form submission's ack decided, for its lazy listener: slack-bolt runs the lazy listener alongside the
ack, not after it, so the listener waits for the ack's verdict before doing anything."""

from __future__ import annotations

import asyncio
import time
from typing import Any

FORGOTTEN_AFTER = 60.0  # seconds: a verdict never waited for (its listener gave up first) is dropped


def submission_key(body: dict[str, Any]) -> str:
    """One form submission: each has its own trigger_id."""
    return str(body.get("trigger_id") or body["view"].get("id"))


class Verdicts:
    """Per submission: whether its ack kept the form open (or closed it for good), so that the listener leaves it
    alone."""

    def __init__(self) -> None:
        self._verdicts: dict[str, tuple[float, asyncio.Future[bool]]] = {}

    def decide(self, body: dict[str, Any], *, left_alone: bool) -> None:
        """The ack's verdict. True: the lazy listener does nothing."""
        verdict = self._of(body)
        if not verdict.done():
            verdict.set_result(left_alone)

    async def left_alone(self, body: dict[str, Any], *, within: float) -> bool:
        """What the ack decided; False (go ahead, as if the form had closed) if it never decides in time."""
        try:
            async with asyncio.timeout(within):
                return await asyncio.shield(self._of(body))
        except TimeoutError:
            return False
        finally:
            self._verdicts.pop(submission_key(body), None)

    def _of(self, body: dict[str, Any]) -> asyncio.Future[bool]:
        now = time.monotonic()
        for key, (made, _) in list(self._verdicts.items()):
            if now - made > FORGOTTEN_AFTER:
                del self._verdicts[key]
        _, verdict = self._verdicts.setdefault(submission_key(body), (now, asyncio.get_running_loop().create_future()))
        return verdict
