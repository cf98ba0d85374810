"""``invoke(params)``: one route's call for any params shape, prepared once per route.

The three shapes a JSON-RPC call's params take -- absent (:data:`NOTHING`), an array, an
object -- are told apart in one closure per route, ``Route.invoke``: every caller (the
engine's fast single path, its batch loop, the innermost layer of the ``kaiju_wrap_call``
chain) calls ``route.invoke(params)``: one Python call of ours for a list, and for absent
params when nothing is required (the method itself is called then). The closure is
``ParamsChecker.call_list`` (``_params``): it checks a list inline (unrolled for up to 3
annotated params) and hands the other two shapes to the pair :func:`other_shapes` makes. A
typed decoder or a per-call check therefore goes in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Absent = Callable[[], Any]
Named = Callable[[Any], Any]

__all__ = ["NOTHING", "NO_PARAMS", "other_shapes"]

NOTHING: Any = object()
"""A member absent from the request object (``params`` not sent)."""
NO_PARAMS = ()
"""The params of a call without params, as the positional check sees them."""


def other_shapes(func: Callable[..., Any], check_list: Callable[[Any], None],
                 check_dict: Callable[[Any], None], bare: bool) -> tuple[Absent, Named]:
    """The parts of ``invoke`` for params that are not a list: ``(absent, named)``.

    ``absent()`` calls without params (:data:`NOTHING`): ``func`` itself when the call binds
    (``bare``: nothing is required, no check and no Python frame of ours in between), else a
    closure raising :class:`InvalidParams` for the missing parameter. ``named(params)`` checks an
    object and calls with it.
    """
    absent: Absent = func
    if not bare:
        def absent() -> Any:
            check_list(NO_PARAMS)  # raises InvalidParams: a required parameter is missing
            return func()

    def named(params: Any) -> Any:
        check_dict(params)
        return func(**params)

    return absent, named
