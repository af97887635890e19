"""Writes on the acknowledgement's path, gathered: what arrives while one write is under way goes in the next, in
one statement. A burst of commands then costs a few statements, not one each queued on the same connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.errors import StorageError

Item = TypeVar("Item")
Result = TypeVar("Result")

BATCH_MOST = 500  # items written in one statement, far below either database's limit on parameters


class Batched(Generic[Item, Result]):
    """`await batched(item)`: the result of `write`, which takes a batch of items and returns one result for each,
    in their order."""

    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]) -> None:
        self._write_batch = write
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:BATCH_MOST], self._waiting[BATCH_MOST:]
                try:
                    results = await self._write_batch([item for item, _ in batch])
                except Exception as exc:  # whatever it was, those waiting must hear of it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc if isinstance(exc, StorageError) else StorageError())
                    continue
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():  # its caller may have given up meanwhile
                        done.set_result(result)
        finally:
            self._writer = None
