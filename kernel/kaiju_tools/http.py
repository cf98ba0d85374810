"""HTTP views the guide imports from ``kaiju_tools.http`` (provided by the rpc plugin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import resolve

if TYPE_CHECKING:  # its home, for type checkers; resolved lazily at run time (the rpc plugin)
    from kaiju_plugins.rpc import JSONRPCView

__all__ = ["JSONRPCView"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return resolve(__name__, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
