"""``invoke(params)``: one route's call for any params shape, prepared once per route.

The three shapes a JSON-RPC call's params take -- absent (:data:`NOTHING`), an array, an
object -- are told apart here and only here; every caller (the engine's fast single path, its
batch loop, the innermost layer of the ``kaiju_wrap_call`` chain) calls ``route.invoke(params)``.
A typed decoder or a per-call check therefore goes in one place: the closure built below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._params import ParamsChecker

__all__ = ["NOTHING", "NO_PARAMS", "prepare_invoke"]

NOTHING: Any = object()
"""A member absent from the request object (``params`` not sent)."""
NO_PARAMS = ()
"""The params of a call without params, as the positional check sees them."""


def prepare_invoke(func: Callable[..., Any], checker: ParamsChecker) -> Callable[[Any], Any]:
    """``invoke(params)``: check ``params`` (:data:`NOTHING`, a list or a dict), call ``func``.

    It returns what ``func`` returns (a coroutine for an async method, not started) and raises
    :class:`~._errors.InvalidParams` naming the parameter when the params do not fit.
    """
    call_list = checker.call_list  # positional params: checked, then the call (one closure)
    check_dict = checker.check_dict
    if checker.accepts_no_params:
        def invoke(params: Any) -> Any:
            if type(params) is list:
                return call_list(params)
            if params is NOTHING:
                return func()  # nothing required: nothing to check
            check_dict(params)
            return func(**params)
    else:
        def invoke(params: Any) -> Any:
            if type(params) is list:
                return call_list(params)
            if params is NOTHING:
                return call_list(NO_PARAMS)  # raises: a required parameter is missing
            check_dict(params)
            return func(**params)
    return invoke
