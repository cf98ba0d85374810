"""The methods both benchmark servers serve (the raw handler calls the very same functions).

Nothing from kaiju is imported here: the raw handler's process must not load the framework
(its start-up is the limit of ``startup_bench.py``). ``rpc_service.py`` serves them in ours.
"""

from __future__ import annotations

__all__ = ["add", "ping"]


async def ping() -> str:
    """No params."""
    return "pong"


async def add(a: int, b: int) -> int:
    """Two int params."""
    return a + b
