"""``@raises``: the errors a route declares for its OpenRPC ``errors`` (a light module: the
decorator runs at import of every service, the document is built on first use)."""

from __future__ import annotations

from typing import Any

from ._errors import RPCError

__all__ = ["raises"]


def raises(*errors: type[RPCError] | RPCError) -> Any:
    """Declare the errors a route may answer (listed in its OpenRPC ``errors``)::

        @raises(NotFound, RPCError("Conflict", code=-32040))
        async def get(self, key: str) -> Item: ...

    :param errors: :class:`RPCError` subclasses (their ``code`` and docstring) or instances
    """
    def mark(func: Any) -> Any:
        func.__rpc_errors__ = (*getattr(func, "__rpc_errors__", ()), *errors)
        return func

    return mark
