"""The methods both benchmark servers serve (the raw handler calls the very same functions)."""

from __future__ import annotations

from typing import Any

from kaiju_tools import SERVICE_CLASS_REGISTRY, Service

__all__ = ["Bench", "add", "ping"]


async def ping() -> str:
    """No params."""
    return "pong"


async def add(a: int, b: int) -> int:
    """Two int params."""
    return a + b


class Bench(Service):
    """Exposes ``bench.ping`` and ``bench.add`` over JSON-RPC (a ``routes`` mapping, guest scope)."""

    @property
    def routes(self) -> dict[str, Any]:
        return {"ping": ping, "add": add}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": 1000}


SERVICE_CLASS_REGISTRY.register(Bench)
