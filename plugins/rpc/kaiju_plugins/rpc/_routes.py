"""The method table: every route of every ``PublicInterface`` service, prepared once."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from kaiju_tools import ConfigError, ConfigProblem

from ._interface import PermissionKeys, PublicInterface
from ._params import ParamsChecker, inspect_route
from ._typed import typed_call

__all__ = ["Route", "build_routes", "must_finish"]

F = TypeVar("F", bound=Callable[..., Any])


def must_finish(func: F) -> F:
    """Mark an RPC method that must run to its end once started, even when its caller goes away.

    By default (``cancel_on_disconnect: true``) a call whose HTTP client disconnects is
    cancelled; a started call of a method marked so is left to finish (a payment, a write
    that must not stop half-way). Calls still waiting for a slot are dropped either way.

    Example::

        @must_finish
        async def transfer(self, src: str, dst: str, amount: int) -> None: ...
    """
    func.__rpc_must_finish__ = True  # type: ignore[attr-defined]
    return func


class Route:
    """One RPC method: its callable, its prepared params check and its scope."""

    __slots__ = ("method", "func", "original", "is_async", "checker", "call_list", "bare", "scope", "service",
                 "doc", "must_finish", "invoke")

    def __init__(self, method: str, func: Callable[..., Any], scope: int, service: str) -> None:
        self.method = method
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
            getattr(func, "__call__", None))  # noqa: B004 -- the method itself, not a callable check
        self.original = func  # what the route serves (rpc.discover reads its signature)
        # read once: a typed wrapper keeps the signature and hints of the function it wraps
        inspected = inspect_route(func)
        func = typed_call(method, func, inspected) or func  # typed routes: decode params, encode the result
        self.func = func
        self.checker = ParamsChecker(method, func, inspected)
        self.call_list = self.checker.call_list  # check positional params, then call
        self.bare = self.checker.accepts_no_params  # a call without params needs no check
        self.scope = int(scope)
        self.service = service
        self.must_finish = getattr(func, "__rpc_must_finish__", False) is True
        doc = inspect.getdoc(func) or ""
        self.doc = doc.strip().split("\n\n")[0].replace("\n", " ")
        self.invoke = self.call_list  # every params shape (absent / list / object): checked, then the call

    def __repr__(self) -> str:
        return f"<Route {self.method}{self.checker.signature} scope={self.scope}>"

    def describe(self) -> dict[str, Any]:
        """What ``rpc.api`` shows of this route."""
        try:
            scope: Any = PermissionKeys(self.scope).name
        except ValueError:
            scope = self.scope
        params = self.checker.description
        if self.func is not self.original:  # a typed route: name its classes, not just "any"
            from ._types import type_hints
            from ._typetext import is_plain, type_text

            hints = type_hints(self.original)
            params = [{**p, "type": type_text(hints[p["name"]])} if p["name"] in hints
                      and not is_plain(hints[p["name"]]) else p for p in params]
        return {"method": self.method, "params": params, "doc": self.doc,
                "async": self.is_async, "scope": scope}


def _scope_of(route: str, permissions: Mapping[str, Any], where: str) -> int:
    if route in permissions:
        value = permissions[route]
    else:
        patterns = sorted(permissions, key=lambda p: -len(p.replace("*", "").replace("?", "")))
        value = next((permissions[p] for p in patterns if fnmatch.fnmatchcase(route, p)),
                     PermissionKeys.SYSTEM)
    if isinstance(value, str):
        try:
            return PermissionKeys[value.upper()]
        except KeyError:
            pass
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ConfigError(ConfigProblem(
        where, f"expected a permission scope (PermissionKeys.GUEST / USER / SYSTEM or an int) for "
               f"route {route!r}, got {value!r}", "fix the service's `permissions` mapping"))


def routes_key(services: Iterable[Any]) -> list[tuple[Any, ...]] | None:
    """What :func:`build_routes` reads of ``services``, to compare (``None``: cannot tell).

    Equal keys build equal tables: a server rebuilding its table with nothing changed reuses it.
    """
    key: list[tuple[Any, ...]] = []
    for service in services:
        try:
            routes = getattr(service, "routes", None)
            if not isinstance(service, PublicInterface) and not isinstance(routes, Mapping):
                continue
            key.append((service, getattr(service, "service_name", None),
                        getattr(service, "rpc_namespace", None), dict(routes or {}),
                        dict(getattr(service, "permissions", None) or {})))
        except Exception:  # noqa: BLE001 -- a service's own code: the build reports it
            return None
    return key


def build_routes(services: Iterable[Any]) -> dict[str, Route]:
    """Prepare the routes of every :class:`PublicInterface` among ``services``.

    A service that does not inherit :class:`PublicInterface` but has a ``routes`` mapping
    (and optionally ``permissions`` / ``rpc_namespace``) is served the same way, so an
    app's services need not import this plugin.

    :raises ConfigError: a route is not callable, a scope is malformed, or two services
        serve the same method name (every problem found is reported)
    """
    table: dict[str, Route] = {}
    problems: list[ConfigProblem] = []
    for service in services:
        if (not isinstance(service, PublicInterface)
                and not isinstance(getattr(service, "routes", None), Mapping)):
            continue
        name = getattr(service, "service_name", type(service).__name__)
        where = f"service {name!r} ({type(service).__module__}.{type(service).__qualname__})"
        namespace = getattr(service, "rpc_namespace", None)
        prefix = namespace if namespace is not None else name
        try:
            routes = dict(service.routes)
            permissions = dict(getattr(service, "permissions", None) or {"*": PermissionKeys.SYSTEM})
        except Exception as exc:  # noqa: BLE001 -- a service's own code: reported as a config problem
            problems.append(ConfigProblem(where, f"reading `routes` / `permissions` raised "
                                                 f"{type(exc).__name__}: {exc}"))
            continue
        for route, func in routes.items():
            method = f"{prefix}.{route}" if prefix else str(route)
            if not callable(func):
                problems.append(ConfigProblem(f"{where}.routes[{route!r}]",
                                              f"expected a callable, got {func!r}"))
                continue
            if method in table:
                problems.append(ConfigProblem(
                    f"{where}.routes[{route!r}]",
                    f"method {method!r} is served already by service {table[method].service!r}",
                    "rename the route or give one of the services another name"))
                continue
            try:
                table[method] = Route(method, func, _scope_of(route, permissions, where), name)
            except ConfigError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return table
