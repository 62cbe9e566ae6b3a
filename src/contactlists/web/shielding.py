"""Work that finishes even when the request awaiting it goes away.

A client that disconnects, or a server that cancels a request's task, must not
abort a create halfway: the create runs in a task of its own, the request awaits
it through `asyncio.shield`, and the app's shutdown waits for whatever is still
running before it closes the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from contactlists.core.errors import ApiError

T = TypeVar("T")
logger = logging.getLogger("contactlists")


def _report_orphan(task: asyncio.Task[Any]) -> None:
    """Retrieve the outcome nobody awaits any more; log it only if it is a bug."""
    if task.cancelled():
        return
    failure = task.exception()
    if failure is not None and not isinstance(failure, ApiError):
        logger.error("work failed after its request went away", exc_info=failure)


class ShieldedWork:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_report_orphan)
            raise

    async def drain(self) -> None:
        """Wait for everything still running (at shutdown)."""
        if self._running:
            await asyncio.wait(set(self._running))
