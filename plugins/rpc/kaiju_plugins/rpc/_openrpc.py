"""The OpenRPC 1.x document of a method table (what ``rpc.discover`` answers).

Built once per distinct caller scope of a method table, when first asked for (``rpc.discover``,
the docs page, the ``openrpc`` command), then kept until the table changes: a caller sees the
methods its scope may call, and nothing is computed per request. Imported only then, with the
schema modules: an app that is never asked does not pay for them at start-up.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import RPCError
from ._raises import raises
from ._schema import SchemaBuilder
from ._types import type_hints

if TYPE_CHECKING:
    from ._routes import Route

__all__ = ["OPENRPC_VERSION", "Documents", "build_document", "raises"]

OPENRPC_VERSION = "1.3.2"
_P = inspect.Parameter


def _error_object(err: type[RPCError] | RPCError) -> dict[str, Any]:
    if isinstance(err, RPCError):
        out = {"code": err.error_code, "message": err.error_message}
        if err.data is not None:
            out["data"] = err.data
        return out
    doc = (inspect.getdoc(err) or err.__name__).split("\n")[0].rstrip(".")
    return {"code": err.code, "message": getattr(err, "message", None) or doc}


def _method(route: Route, builder: SchemaBuilder) -> dict[str, Any]:
    func = route.original
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        sig = inspect.Signature([_P("params", _P.VAR_POSITIONAL)])
    hints = type_hints(func)
    params = []
    kinds = set()
    for param in sig.parameters.values():
        kinds.add(param.kind)
        if param.kind is _P.VAR_KEYWORD:
            continue
        schema = builder.schema(hints.get(param.name, param.annotation))
        item: dict[str, Any] = {"name": param.name, "schema": schema,
                                "required": param.default is _P.empty and param.kind is not _P.VAR_POSITIONAL}
        if param.kind is _P.VAR_POSITIONAL:
            item["description"] = "any number of positional values of this schema (by-position only)"
            item["x-variadic"] = True
        elif param.default is not _P.empty and _json_default(param.default):
            item["schema"] = {**schema, "default": param.default} if "$ref" not in schema else {
                "allOf": [schema], "default": param.default}
        params.append(item)
    if _P.POSITIONAL_ONLY in kinds or _P.VAR_POSITIONAL in kinds:
        structure = "by-position"
    elif _P.KEYWORD_ONLY in kinds:
        structure = "by-name"
    else:
        structure = "either"
    result_tp = hints.get("return", sig.return_annotation)
    doc = inspect.getdoc(func) or ""
    out: dict[str, Any] = {"name": route.method, "params": params, "paramStructure": structure,
                           "result": {"name": "result", "schema": builder.schema(result_tp)}}
    if route.doc:
        out["summary"] = route.doc
    if doc and doc.strip() != route.doc:
        out["description"] = doc
    errors = getattr(func, "__rpc_errors__", None) or getattr(getattr(func, "__func__", None),
                                                              "__rpc_errors__", ())
    if errors:
        out["errors"] = [_error_object(e) for e in errors]
    return out


def _json_default(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float, str)


def build_document(routes: Iterable[Route], *, title: str, version: str, servers: list[dict[str, Any]],
                   description: str | None = None) -> dict[str, Any]:
    """The OpenRPC document of ``routes`` (sorted by name), with the shared schemas they use."""
    builder = SchemaBuilder()
    methods = [_method(route, builder) for route in sorted(routes, key=lambda r: r.method)]
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {"openrpc": OPENRPC_VERSION, "info": info, "servers": servers, "methods": methods}
    if builder.components:
        doc["components"] = {"schemas": dict(sorted(builder.components.items()))}
    return doc


class Documents:
    """The documents of one method table, one per set of methods a caller scope sees."""

    def __init__(self, routes: Mapping[str, Route], *, title: str, version: str,
                 servers: list[dict[str, Any]], permissions: bool) -> None:
        self._scopes = sorted({r.scope for r in routes.values()}) if permissions else []
        self._docs: dict[int | None, dict[str, Any]] = {}
        if not permissions:
            self._docs[None] = build_document(routes.values(), title=title, version=version, servers=servers)
            return
        for scope in self._scopes:  # the routes a caller of this scope (or one just below) may call
            self._docs[scope] = build_document([r for r in routes.values() if scope <= r.scope],
                                               title=title, version=version, servers=servers)
        self._docs[None] = build_document([], title=title, version=version, servers=servers)

    def for_scope(self, scope: int | None) -> dict[str, Any]:
        """The document a caller of ``scope`` sees (``None``: permissions are off)."""
        if scope is None or not self._scopes:  # permissions off (or no routes)
            return self._docs[None]
        i = bisect.bisect_left(self._scopes, scope)
        return self._docs[self._scopes[i]] if i < len(self._scopes) else self._docs[None]
