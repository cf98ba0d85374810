"""``invoke(params)``: one route's call for any params shape, prepared once per route.

The three shapes a JSON-RPC call's params take -- absent (:data:`NOTHING`), an array, an
object -- are told apart in one closure per route, ``Route.invoke``: every caller (the
engine's fast single path, its batch loop, the innermost layer of the ``kaiju_wrap_call``
chain) calls ``route.invoke(params)``, one Python call for a list. The closure is
``ParamsChecker.call_list`` (``_params``): it checks a list inline (unrolled for up to 3
annotated params) and hands the other two shapes to :func:`other_shapes`. A typed decoder
or a per-call check therefore goes in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["NOTHING", "NO_PARAMS", "other_shapes"]

NOTHING: Any = object()
"""A member absent from the request object (``params`` not sent)."""
NO_PARAMS = ()
"""The params of a call without params, as the positional check sees them."""


def other_shapes(func: Callable[..., Any], check_list: Callable[[Any], None],
                 check_dict: Callable[[Any], None], bare: bool) -> Callable[[Any], Any]:
    """The part of ``invoke`` for params that are not a list: absent (:data:`NOTHING`) or an object.

    :param bare: a call without params binds (nothing is required): it needs no check
    """
    if bare:
        def absent_or_named(params: Any) -> Any:
            if params is NOTHING:
                return func()
            check_dict(params)
            return func(**params)
    else:
        def absent_or_named(params: Any) -> Any:
            if params is NOTHING:
                check_list(NO_PARAMS)  # raises InvalidParams: a required parameter is missing
                return func()
            check_dict(params)
            return func(**params)
    return absent_or_named
