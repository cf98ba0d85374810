"""The decoding wrapper of a typed route, prepared once when the route is built.

A route whose annotations are all JSON builtins (``int``, ``str``, ``list``, ``dict | None``...)
gets no wrapper: it keeps the untyped path and its cost. Any richer annotation (a dataclass,
an enum, ``list[Point]``, ``dict[str, list[int]]``, ``datetime``...) gets one: each annotated
argument is decoded by its prepared decoder before the call, and the result is encoded back
to JSON values when the return annotation needs it. A mismatch is :class:`InvalidParams` with
``data.path`` (``params.points[3].x``), ``data.expected`` and ``data.found``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from types import CoroutineType
from typing import Any

from ._encoding import encode
from ._errors import InvalidParams
from ._types import Decoder, Mismatch, decoder, is_builtin, needs_encoding, type_hints

__all__ = ["typed_call"]

_P = inspect.Parameter
_SCALARS = frozenset((int, float, str, bool, None, type(None)))


def _same(value: Any) -> Any:
    return value


async def _encoded(coro: Coroutine[Any, Any, Any]) -> Any:
    return encode(await coro)


def typed_call(method: str, func: Callable[..., Any],
               inspected: tuple[inspect.Signature | None, dict[str, Any] | None] | None = None,
               ) -> Callable[..., Any] | None:
    """A wrapper of ``func`` that decodes its params and encodes its result, or ``None`` when
    every annotation is a builtin (the route is called as it is).

    The wrapper keeps ``func``'s signature and annotations (``__wrapped__``).

    :param inspected: ``func``'s signature and hints when the caller has read them already
        (``_params.inspect_route``)
    """
    if inspected is None:
        try:
            sig: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            sig = None
        hints = None
    else:
        sig, hints = inspected
    if sig is None:
        return None
    if hints is None:
        hints = type_hints(func)  # unresolvable forward references: what is there
    typed: dict[str, Decoder] = {}
    star: Decoder | None = None
    star_kw: Decoder | None = None
    names: list[str] = []
    for param in sig.parameters.values():
        tp = hints.get(param.name, param.annotation)
        if param.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD):
            names.append(param.name)
        if tp is _P.empty or is_builtin(tp):
            continue
        if param.kind is _P.VAR_POSITIONAL:
            star = decoder(tp)
        elif param.kind is _P.VAR_KEYWORD:
            star_kw = decoder(tp)
        else:
            typed[param.name] = decoder(tp)
    result = hints.get("return", _P.empty)
    encodes = result is not _P.empty and needs_encoding(result)
    if not typed and star is None and star_kw is None and not encodes:
        return None
    # a typed route may put typed values in a result annotated loosely (``dict[str, Any]``, none)
    encodes = encodes or result not in _SCALARS
    n_pos = len(names)
    known = frozenset(sig.parameters)

    def fail(name: str, exc: Mismatch) -> InvalidParams:
        return InvalidParams(data={"method": method, "param": name, "path": exc.where(f"params.{name}"),
                                   "expected": exc.expected, "found": exc.found,
                                   "problem": f"{exc.where(name)}: expected {exc.expected}, got {exc.found}"})

    by_pos = [typed.get(n) or _same for n in names]  # a decoder per position (``_same``: untyped)
    by_name = {n: typed.get(n) or _same for n in known}
    rest, rest_kw = star or _same, star_kw or _same

    def locate(args: tuple[Any, ...], kwargs: dict[str, Any]) -> InvalidParams:
        """The error of the first param that does not decode (the fast path only knows one failed)."""
        for i, value in enumerate(args):
            try:
                (by_pos[i] if i < n_pos else rest)(value)
            except Mismatch as exc:
                return fail(names[i] if i < n_pos else f"*args[{i - n_pos}]", exc)
        for name, value in kwargs.items():
            try:
                by_name.get(name, rest_kw)(value)
            except Mismatch as exc:
                return fail(name, exc)
        return InvalidParams(  # pragma: no cover
            data={"method": method, "problem": "the params do not decode"})

    def finish(out: Any) -> Any:
        if type(out) is CoroutineType:
            return _encoded(out)
        return encode(out)

    def call(*args: Any, **kwargs: Any) -> Any:
        decoded = list(args)
        try:  # loops, not comprehensions: a comprehension is a function call of its own on 3.11
            for i, value in enumerate(args):
                decoded[i] = (by_pos[i] if i < n_pos else rest)(value)
            named = {}
            for name, value in kwargs.items():
                named[name] = by_name.get(name, rest_kw)(value)
        except Mismatch:
            raise locate(args, kwargs) from None
        out = func(*decoded, **named)
        return finish(out) if encodes else out

    if n_pos >= 1 and star is None:  # the common call, one positional param: no list, no loop
        d0 = by_pos[0]

        def call_1(*args: Any, **kwargs: Any) -> Any:
            if len(args) != 1 or kwargs:
                return call(*args, **kwargs)
            try:
                a = d0(args[0])
            except Mismatch:
                raise locate(args, kwargs) from None
            out = func(a)
            return finish(out) if encodes else out

        return functools.update_wrapper(call_1, func)

    return functools.update_wrapper(call, func)
