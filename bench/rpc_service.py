"""The ``Bench`` service: serves the bench methods over JSON-RPC in our example app."""

from __future__ import annotations

from typing import Any

from kaiju_tools import SERVICE_CLASS_REGISTRY, Service
from rpc_methods import add, ping

__all__ = ["Bench"]


class Bench(Service):
    """Exposes ``bench.ping`` and ``bench.add`` over JSON-RPC (a ``routes`` mapping, guest scope)."""

    @property
    def routes(self) -> dict[str, Any]:
        return {"ping": ping, "add": add}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": 1000}


SERVICE_CLASS_REGISTRY.register(Bench)
