"""Params checks prepared once per route from the route function's signature.

Each annotated parameter becomes a tuple of the exact JSON types it accepts (``int`` ->
``(int,)``, so ``true`` is not an ``int``; ``float`` -> ``(float, int)``; ``list[str]`` ->
``(list,)``; ``X | None`` adds ``NoneType``). Unannotated, ``Any`` and non-JSON classes are
not checked. Per call, a check is a length test plus one ``type(v) in allowed`` per
annotated value: the decoder only ever produces exact builtin types.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from kaiju_tools.settings import allowed_types, type_name, value_name

from ._errors import InvalidParams
from ._invoke import NOTHING, other_shapes

__all__ = ["ParamsChecker", "inspect_route"]

_POS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_allowed = allowed_types  # the kernel's rule, shared with service settings checks
_json_name = value_name


def _type_name(allowed: tuple[type, ...] | None) -> str:
    return "any" if allowed is None else type_name(allowed)


def _unrolled(func: Callable[..., Any], allowed: list[tuple[type, ...]], slow: Callable[[Any], None],
              absent: Callable[[], Any], named: Callable[[Any], Any]) -> Any:
    """Callers for 1-3 annotated positional params, unrolled (a loop costs ~4x as much); the
    values are passed one by one (no tuple made of the list, as ``func(*params)`` does)."""
    if len(allowed) == 1:
        (t0,) = allowed

        def call_1(params: Any) -> Any:
            if type(params) is not list:
                return absent() if params is NOTHING else named(params)
            if len(params) != 1 or type(a := params[0]) not in t0:
                slow(params)
            return func(a)

        return call_1
    if len(allowed) == 2:
        t0, t1 = allowed

        def call_2(params: Any) -> Any:
            if type(params) is not list:
                return absent() if params is NOTHING else named(params)
            if len(params) != 2 or type(a := params[0]) not in t0 or type(b := params[1]) not in t1:
                slow(params)
            return func(a, b)

        return call_2
    t0, t1, t2 = allowed

    def call_3(params: Any) -> Any:
        if type(params) is not list:
            return absent() if params is NOTHING else named(params)
        if (len(params) != 3 or type(a := params[0]) not in t0 or type(b := params[1]) not in t1
                or type(c := params[2]) not in t2):
            slow(params)
        return func(a, b, c)

    return call_3


def inspect_route(func: Callable[..., Any]) -> tuple[inspect.Signature | None, dict[str, Any] | None]:
    """``func``'s signature (``None``: it has none) and type hints (``None``: they do not resolve),
    read once per route and shared by :class:`ParamsChecker` and the typed wrapper."""
    try:
        sig: inspect.Signature | None = inspect.signature(func)
    except (TypeError, ValueError):
        sig = None
    try:
        hints: dict[str, Any] | None = typing.get_type_hints(func, include_extras=True)
    except Exception:  # noqa: BLE001 -- unresolvable forward references: each user decides
        hints = None
    return sig, hints


class ParamsChecker:
    """Checks the params of one route against its function's signature.

    :param method: the RPC method name (for messages)
    :param func: the route callable
    """

    __slots__ = ("method", "_sig", "_min_pos", "_max_pos", "_pos_names", "_pos_types", "_var_pos",
                 "_var_pos_types",
                 "_by_name", "_required", "_var_kw", "_var_kw_types", "_positional_only", "_keyword_only",
                 "description", "call_list", "accepts_no_params")

    def __init__(self, method: str, func: Callable[..., Any],
                 inspected: tuple[inspect.Signature | None, dict[str, Any] | None] | None = None) -> None:
        self.method = method
        sig, hints = inspect_route(func) if inspected is None else inspected
        if sig is None:
            sig = inspect.Signature([inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                                     inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])
        if hints is None:  # unresolvable forward references: no check from annotations
            hints = {}
        self._sig = sig
        self._min_pos = 0
        self._max_pos = 0
        self._pos_names: list[str] = []
        self._pos_types: list[tuple[int, str, tuple[type, ...]]] = []
        self._var_pos = False
        self._var_pos_types: tuple[type, ...] | None = None
        self._by_name: dict[str, tuple[type, ...] | None] = {}
        self._required: list[str] = []
        self._var_kw = False
        self._var_kw_types: tuple[type, ...] | None = None
        self._positional_only: list[str] = []
        self._keyword_only: list[str] = []
        self.description: list[dict[str, Any]] = []
        for param in sig.parameters.values():
            annotation = hints.get(param.name, param.annotation)
            allowed = _allowed(annotation)
            required = param.default is inspect.Parameter.empty
            kind = param.kind
            if kind in _POS:
                if allowed is not None:
                    self._pos_types.append((self._max_pos, param.name, allowed))
                self._max_pos += 1
                self._pos_names.append(param.name)
                if required:
                    self._min_pos = self._max_pos
            if kind is inspect.Parameter.POSITIONAL_ONLY:
                if required:
                    self._positional_only.append(param.name)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                self._var_pos, self._var_pos_types = True, allowed
            elif kind is inspect.Parameter.VAR_KEYWORD:
                self._var_kw, self._var_kw_types = True, allowed
            else:
                self._by_name[param.name] = allowed
                if required:
                    self._required.append(param.name)
                    if kind is inspect.Parameter.KEYWORD_ONLY:
                        self._keyword_only.append(param.name)
            self.description.append({
                "name": param.name, "type": _type_name(allowed), "required": required
                and kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD),
                "kind": kind.name.lower(),
            })
        self.accepts_no_params = self._min_pos == 0 and not self._required
        """True when a call without ``params`` passes the check (nothing is required)."""
        self.call_list: Callable[[Any], Any] = self._list_caller(func)
        """``Route.invoke``: check the params -- a list here; absent (``_invoke.NOTHING``) or an
        object in :func:`~._invoke.other_shapes` --, then call the function with them and return
        what it returns; raise :class:`InvalidParams` naming the parameter."""

    @property
    def signature(self) -> str:
        """The route's signature as text (``(a: int, b: int = 0)``), for messages."""
        return str(self._sig)

    def _fail(self, param: str | None, problem: str) -> InvalidParams:
        return InvalidParams(data={"method": self.method, "param": param, "problem": problem,
                                   "signature": self.signature})

    def _list_caller(self, func: Callable[..., Any]) -> Any:
        """A closure for the common case (no ``*args``, no keyword-only params): one length
        test and one ``type(v) in allowed`` per annotated value, then the call; on any doubt
        it hands over to the full check, which finds the problem and raises."""
        slow = self.check_list
        absent, named = other_shapes(func, slow, self.check_dict, self.accepts_no_params)
        if self._var_pos or self._keyword_only:
            def call_checked(params: Any) -> Any:
                if type(params) is not list:
                    return absent() if params is NOTHING else named(params)
                slow(params)
                return func(*params)

            return call_checked
        min_pos, max_pos = self._min_pos, self._max_pos
        pos_types = tuple(self._pos_types)
        if not pos_types:
            def call_counted(params: Any) -> Any:
                if type(params) is not list:
                    return absent() if params is NOTHING else named(params)
                if not min_pos <= len(params) <= max_pos:
                    slow(params)
                return func(*params)

            return call_counted
        if min_pos == max_pos == len(pos_types) <= 3:
            return _unrolled(func, [t for _, _, t in pos_types], slow, absent, named)

        def call_typed(params: Any) -> Any:
            if type(params) is not list:
                return absent() if params is NOTHING else named(params)
            n = len(params)
            if n < min_pos or n > max_pos:
                slow(params)
            for i, _, allowed in pos_types:
                if i < n and type(params[i]) not in allowed:
                    slow(params)
            return func(*params)

        return call_typed

    def check_list(self, params: Any) -> None:
        """Check positional params (a list); raise :class:`InvalidParams` naming the parameter."""
        n = len(params)
        if n < self._min_pos:
            raise self._fail(self._pos_names[n], "missing required parameter "
                             f"(expected at least {self._min_pos} positional params, got {n})")
        if n > self._max_pos and not self._var_pos:
            raise self._fail(None, f"expected at most {self._max_pos} positional params, got {n}")
        for i, name, allowed in self._pos_types:
            if i < n and type(params[i]) not in allowed:
                raise self._fail(name, f"expected {_type_name(allowed)}, got {_json_name(params[i])}")
        if self._keyword_only:
            raise self._fail(self._keyword_only[0],
                             "this parameter is keyword-only: pass params as an object")
        if self._var_pos_types is not None:
            for value in params[self._max_pos:]:
                if type(value) not in self._var_pos_types:
                    raise self._fail("*args", f"expected {_type_name(self._var_pos_types)}, "
                                              f"got {_json_name(value)}")

    def check_dict(self, params: dict[str, Any]) -> None:
        """Check named params; raise :class:`InvalidParams` naming the parameter."""
        by_name = self._by_name
        for key, value in params.items():
            if key in by_name:
                allowed = by_name[key]
            elif self._var_kw:
                allowed = self._var_kw_types
            elif key in self._positional_only:
                raise self._fail(key, "this parameter is positional-only: pass params as a list")
            else:
                raise self._fail(key,
                                 f"unexpected parameter; expected one of: {', '.join(by_name) or 'none'}")
            if allowed is not None and type(value) not in allowed:
                raise self._fail(key, f"expected {_type_name(allowed)}, got {_json_name(value)}")
        for name in self._required:
            if name not in params:
                raise self._fail(name, "missing required parameter")
        if self._positional_only:
            raise self._fail(self._positional_only[0],
                             "this parameter is positional-only: pass params as a list")
