"""The docs page: an OpenRPC document as one self-contained HTML page (no external assets).

Served at the JSON-RPC server's ``docs_path`` (off unless set): the methods the caller may
call, their params, result and error types, the shared types, and an example request each.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from kaiju_tools import context, get_services

if TYPE_CHECKING:
    from ._server import JSONRPCServer

__all__ = ["docs_routes", "render", "sample"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;color:#b8c0d0}main{display:flex;gap:24px;padding:24px 32px}
nav{min-width:220px;position:sticky;top:12px;align-self:flex-start;font-size:14px}
nav a{display:block;color:#2456c4;text-decoration:none;padding:1px 0}nav h3{margin:14px 0 4px;font-size:13px;
text-transform:uppercase;color:#667}section{flex:1;min-width:0}
.method,.type{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:14px 18px;margin:0 0 16px}
.method h2,.type h2{margin:0 0 6px;font:600 18px ui-monospace,SFMono-Regular,Menlo,monospace}
.tag{display:inline-block;font-size:12px;background:#e8eefc;color:#2456c4;border-radius:3px;padding:0 6px;
margin-left:8px;vertical-align:middle}table{border-collapse:collapse;width:100%;margin:6px 0;font-size:14px}
th,td{text-align:left;border-bottom:1px solid #eceef2;padding:4px 8px;vertical-align:top}
th{color:#667;font-weight:600}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
pre{background:#f3f4f7;border-radius:4px;padding:8px 10px;overflow-x:auto;margin:6px 0}
.req{color:#b3261e;font-weight:600}.doc{white-space:pre-wrap;margin:4px 0 8px}
"""


def _type(schema: Any) -> str:
    """A short readable name of a schema (links to shared types)."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#type-{html.escape(name)}">{html.escape(name)}</a>'
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _type(schema["allOf"][0])
    if "anyOf" in schema or "oneOf" in schema:
        return " | ".join(_type(s) for s in schema.get("anyOf") or schema.get("oneOf") or [])
    if "enum" in schema:
        return " | ".join(html.escape(json.dumps(v)) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, list):
            return "[" + ", ".join(_type(i) for i in items) + "]"
        return f"array of {_type(items)}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    if kind == "string" and "format" in schema:
        return f"string ({html.escape(schema['format'])})"
    text = " | ".join(kind) if isinstance(kind, list) else str(kind or "any")
    rules = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                          "minLength", "maxLength", "pattern") if k in schema]
    return html.escape(text + (f" ({', '.join(map(str, rules))})" if rules else ""))


def sample(schema: Any, schemas: dict[str, Any], depth: int = 0) -> Any:
    """An example value of a schema (for the example requests)."""
    if not isinstance(schema, dict) or depth > 4:
        return None
    if "default" in schema:
        return schema["default"]
    if "$ref" in schema:
        return sample(schemas.get(schema["$ref"].rsplit("/", 1)[-1]), schemas, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], schemas, depth)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        needed = schema.get("required", list(props))
        return {k: sample(v, schemas, depth + 1) for k, v in props.items() if k in needed}
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, list):
            return [sample(i, schemas, depth + 1) for i in items]
        return [sample(items, schemas, depth + 1)] if items else []
    formats = {"date-time": "2024-01-31T12:00:00+00:00", "date": "2024-01-31", "time": "12:00:00",
               "uuid": "123e4567-e89b-12d3-a456-426614174000", "decimal": "1.50"}
    if kind == "string":
        return formats.get(schema.get("format", ""), "text")
    samples = {"integer": schema.get("minimum", 1), "number": 1.5, "boolean": True, "null": None}
    value = samples.get(kind or "")
    return value


def _method(method: dict[str, Any], schemas: dict[str, Any]) -> str:
    name = html.escape(method["name"])
    structure = html.escape(method.get("paramStructure", "either"))
    out = [f'<div class="method" id="method-{name}"><h2>{name}<span class="tag">{structure}</span></h2>']
    text = method.get("description") or method.get("summary")
    if text:
        out.append(f'<p class="doc">{html.escape(text)}</p>')
    params = method.get("params", [])
    if params:
        out.append("<table><tr><th>param</th><th>type</th><th>required</th></tr>")
        for p in params:
            req = '<span class="req">required</span>' if p.get("required") else "optional"
            out.append(f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{_type(p.get('schema'))}</td>"
                       f"<td>{req}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No params.</p>")
    out.append(f"<p><b>Result:</b> {_type(method.get('result', {}).get('schema'))}</p>")
    errors = method.get("errors", [])
    if errors:
        out.append("<p><b>Errors:</b> " + ", ".join(
            f"<code>{e['code']}</code> {html.escape(e['message'])}" for e in errors) + "</p>")
    by_position = method.get("paramStructure") == "by-position"
    values = {p["name"]: sample(p.get("schema"), schemas) for p in params if p.get("required")}
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method["name"]}
    if values:
        request["params"] = list(values.values()) if by_position else values
    out.append("<details open><summary>Example request</summary>"
               f"<pre>{html.escape(json.dumps(request, indent=2))}"
               "</pre></details></div>")
    return "".join(out)


def _component(name: str, schema: dict[str, Any]) -> str:
    esc = html.escape(name)
    out = [f'<div class="type" id="type-{esc}"><h2>{esc}</h2>']
    if schema.get("description"):
        out.append(f'<p class="doc">{html.escape(schema["description"])}</p>')
    props = schema.get("properties")
    if isinstance(props, dict):
        required = set(schema.get("required", []))
        out.append("<table><tr><th>field</th><th>type</th><th>required</th></tr>")
        for key, value in props.items():
            req = '<span class="req">required</span>' if key in required else "optional"
            out.append(f"<tr><td><code>{html.escape(key)}</code></td><td>{_type(value)}</td><td>{req}</td></tr>")
        out.append("</table>")
    else:
        out.append(f"<p>{_type({k: v for k, v in schema.items() if k not in ('title', 'description')})}</p>")
    out.append("</div>")
    return "".join(out)


def render(doc: dict[str, Any]) -> str:
    """The HTML page of an OpenRPC document."""
    info = doc.get("info", {})
    schemas = doc.get("components", {}).get("schemas", {})
    methods = doc.get("methods", [])
    title = html.escape(f"{info.get('title', 'app')} {info.get('version', '')}".strip())
    servers = ", ".join(html.escape(s.get("url", "")) for s in doc.get("servers", []))
    nav = ["<nav><h3>Methods</h3>",
           *(f'<a href="#method-{html.escape(m["name"])}">{html.escape(m["name"])}</a>'
                                      for m in methods)]
    if schemas:
        nav += ["<h3>Types</h3>",
                *(f'<a href="#type-{html.escape(n)}">{html.escape(n)}</a>' for n in schemas)]
    nav.append("</nav>")
    body = [*(_method(m, schemas) for m in methods)]
    if schemas:
        body += ["<h2>Types</h2>", *(_component(n, s) for n, s in schemas.items())]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}: JSON-RPC methods</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{title}</h1><p>JSON-RPC 2.0 at <code>{servers or '?'}</code> (POST) &middot; "
            f"OpenRPC {html.escape(doc.get('openrpc', ''))}: <code>rpc.discover</code> &middot; "
            f"{len(methods)} methods</p></header>"
            f"<main>{''.join(nav)}<section>{''.join(body)}</section></main>"
            "</body></html>")


def docs_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """``GET <docs_path>`` for each JSON-RPC server of the app that sets ``docs_path``."""
    from ._server import JSONRPCServer

    routes = []
    for service in get_services(app):
        if isinstance(service, JSONRPCServer) and service.docs_path:
            routes.append(("GET", service.docs_path, _handler(service)))
    return routes


def _handler(server: JSONRPCServer) -> Any:
    pages: dict[int, tuple[dict[str, Any], bytes]] = {}  # one page per document (per caller scope)

    async def docs_page(request: web.Request) -> web.Response:
        scope = context.scope.get() if server.enable_permissions else None
        doc = server.openrpc().for_scope(1000 if scope is None and server.enable_permissions else scope)
        cached = pages.get(id(doc))
        if cached is None or cached[0] is not doc:
            cached = pages[id(doc)] = (doc, render(doc).encode())
        return web.Response(body=cached[1], content_type="text/html", charset="utf-8")

    return docs_page
