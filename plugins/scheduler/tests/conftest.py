"""Helpers for the scheduler tests: real event loop, short real time, no timed asserts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

GUARD = 20.0
"""Seconds after which a waiting helper gives up (only to never hang, never asserted)."""


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a test coroutine on a fresh event loop; fail it instead of hanging."""

    async def guarded() -> Any:
        async with asyncio.timeout(GUARD * 2):
            return await coro

    return asyncio.run(guarded())


async def until(predicate: Callable[[], bool], what: str = "condition") -> None:
    """Wait (polling the loop) until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


class Records(logging.Handler):
    """Collects the records of the ``scheduler`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def data(self, message: str) -> list[dict[str, Any]]:
        """The ``record.data`` of records whose message is ``message``."""
        return [getattr(r, "data", {}) for r in self.records if r.getMessage() == message]


@pytest.fixture
def logs() -> Any:
    handler = Records()
    logger = logging.getLogger("scheduler")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = True


@pytest.fixture(name="run")
def run_fixture() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """``run(coro)``: run a test coroutine on a fresh loop."""
    return run


@pytest.fixture(name="until")
def until_fixture() -> Callable[..., Coroutine[Any, Any, None]]:
    """``await until(predicate, what)``: wait until a condition holds."""
    return until
