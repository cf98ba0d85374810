"""``kaiju gen-client``: a typed Python client module from an OpenRPC document.

Component object schemas become dataclasses (when every optional property has a default) or
``TypedDict``\\ s (``NotRequired`` for optional keys); enum schemas become ``StrEnum`` /
``IntEnum``; methods are grouped by the prefix of their name (``calc.add`` -> ``CalcService.add``),
each an ``async def`` with typed params and result that calls :class:`JSONRPCClient` (so the
correlation id and the remaining deadline are forwarded as for any call).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

__all__ = ["generate"]

_FORMATS = {"date-time": "datetime.datetime", "date": "datetime.date", "time": "datetime.time",
            "uuid": "uuid.UUID", "decimal": "decimal.Decimal"}
_SCALARS = {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "null": "None"}


def _ident(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    if not out or out[0].isdigit():
        out = "_" + out
    return out + "_" if keyword.iskeyword(out) else out


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[\W_]+", name) if part) or "Root"


def _doc(text: str, indent: str) -> list[str]:
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = body.splitlines() or [""]
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}', *[f"{indent}{line}".rstrip() for line in lines[1:]], f'{indent}"""']


class _Writer:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
        self.names = {key: _camel(key) for key in self.schemas}
        self.enums: set[str] = set()

    def type_of(self, schema: Any) -> str:
        """The Python annotation (source text) of a JSON Schema."""
        if not isinstance(schema, dict) or not schema:
            return "Any"
        if "$ref" in schema:
            return self.names.get(schema["$ref"].rsplit("/", 1)[-1], "Any")
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.type_of(schema["allOf"][0])
        if "anyOf" in schema or "oneOf" in schema:
            members = [self.type_of(s) for s in schema.get("anyOf") or schema.get("oneOf") or []]
            if "Any" in members:
                return "Any"
            return " | ".join(dict.fromkeys(members))
        if "enum" in schema:
            return f"Literal[{', '.join(repr(v) for v in schema['enum'])}]"
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.type_of({**schema, "type": k}) for k in kind)
        if kind == "string":
            return _FORMATS.get(schema.get("format", ""), "str")
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, list):
                return f"tuple[{', '.join(self.type_of(i) for i in items)}]" if items else "tuple[()]"
            return f"list[{self.type_of(items)}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            return f"dict[str, {self.type_of(extra) if isinstance(extra, dict) else 'Any'}]"
        return "Any"

    def default(self, schema: dict[str, Any], annotation: str) -> str:
        value = schema["default"]
        if annotation in self.enums:
            return f"{annotation}({value!r})"
        return repr(value)

    def component(self, key: str, schema: dict[str, Any]) -> list[str]:
        name = self.names[key]
        description = schema.get("description")
        if ("enum" in schema and isinstance(schema.get("type"), str)
                and schema["type"] in ("string", "integer")):
            base = "enum.StrEnum" if schema["type"] == "string" else "enum.IntEnum"
            lines = [f"class {name}({base}):"]
            if description:
                lines += _doc(description, "    ")
            names = schema.get("x-enum-varnames") or []
            for i, value in enumerate(schema["enum"]):
                if i < len(names) and isinstance(names[i], str):
                    member = _ident(names[i])
                else:
                    member = (_ident(str(value).upper()) if isinstance(value, str)
                              else f"V{value}".replace("-", "M"))
                lines.append(f"    {member} = {value!r}")
            return lines
        props = schema.get("properties")
        if schema.get("type") != "object" or not isinstance(props, dict):
            return [f"{name} = {self.type_of({k: v for k, v in schema.items() if k != 'title'})}"]
        required = set(schema.get("required", []))
        dataclass = all(key in required or "default" in _unwrap(value) for key, value in props.items())
        lines = ["@dataclasses.dataclass", f"class {name}:"] if dataclass else [f"class {name}(TypedDict):"]
        if description:
            lines += [*_doc(description, "    "), ""]
        ordered = sorted(props.items(), key=lambda kv: kv[0] not in required)  # required first (dataclasses)
        for prop, value in ordered:
            annotation = self.type_of(value)
            field = _ident(prop)
            if dataclass:
                default = "" if prop in required else f" = {self.default(_unwrap(value), annotation)}"
                lines.append(f"    {field}: {annotation}{default}")
            else:
                kind = annotation if prop in required else f"NotRequired[{annotation}]"
                lines.append(f"    {field}: {kind}")
        if not props:
            lines.append("    pass")
        return lines

    def method(self, method: dict[str, Any], name: str) -> list[str]:
        params = method.get("params", [])
        structure = method.get("paramStructure", "either")
        signature = ["self"]
        positional = structure == "by-position" or any(p.get("x-variadic") for p in params)
        keyword_only = structure == "by-name"
        if keyword_only and params:
            signature.append("*")
        for param in params:
            annotation = self.type_of(param.get("schema"))
            pname = _ident(param["name"])
            if param.get("x-variadic"):
                signature.append(f"*{pname}: {annotation}")
            elif param.get("required"):
                signature.append(f"{pname}: {annotation}")
            else:
                signature.append(f"{pname}: {annotation} | _Unset = UNSET")
        if positional and not any(p.get("x-variadic") for p in params) and len(params):
            signature.append("/")
        result = self.type_of(method.get("result", {}).get("schema"))
        lines = [f"    async def {_ident(name)}({', '.join(signature)}) -> {result}:"]
        text = "\n\n".join(t for t in (method.get("summary"), method.get("description")) if t)
        if method.get("summary") and method.get("description", "").startswith(method["summary"]):
            text = method["description"]
        errors = [f"{e['code']} {e['message']}" for e in method.get("errors", [])]
        text = ((text or f"Call ``{method['name']}``.")
                + (f"\n\nErrors: {'; '.join(errors)}." if errors else ""))
        lines += _doc(text, "        ")
        if positional:
            lines.append("        params: list[Any] = []")
            for param in params:
                pname = _ident(param["name"])
                if param.get("x-variadic"):
                    lines.append(f"        params.extend(to_json(v) for v in {pname})")
                elif param.get("required"):
                    lines.append(f"        params.append(to_json({pname}))")
                else:
                    lines += [f"        if not isinstance({pname}, _Unset):",
                              f"            params.append(to_json({pname}))"]
        else:
            lines.append("        params: dict[str, Any] = {}")
            for param in params:
                pname = _ident(param["name"])
                if param.get("required"):
                    lines.append(f"        params[{param['name']!r}] = to_json({pname})")
                else:
                    lines += [f"        if not isinstance({pname}, _Unset):",
                              f"            params[{param['name']!r}] = to_json({pname})"]
        lines.append(f"        out: {result} = from_json({_runtime(result)}, "
                     f"await self._client.call({method['name']!r}, params))")
        lines.append("        return out")
        return lines


def _unwrap(schema: Any) -> dict[str, Any]:
    return schema if isinstance(schema, dict) else {}


def _runtime(annotation: str) -> str:
    """The annotation as a runtime expression (``None`` alone is ``type(None)``)."""
    return "type(None)" if annotation == "None" else annotation


def generate(doc: dict[str, Any], source: str = "") -> str:
    """The source text of a typed client module for OpenRPC document ``doc``."""
    writer = _Writer(doc)
    for key, schema in writer.schemas.items():
        if "enum" in schema and schema.get("type") in ("string", "integer"):
            writer.enums.add(writer.names[key])
    info = doc.get("info", {})
    title, version = info.get("title", "app"), info.get("version", "")
    out = [(f'"""Typed JSON-RPC client of {title} {version}, generated by `kaiju gen-client` '
            "from its OpenRPC document"),
           f"{source + ' ' if source else ''}(do not edit: generate it again).",
           "",
           "    async with JSONRPCClient(url=...) as rpc:",
           "        client = Client(rpc)",
           "        ...",
           '"""',
           "", "from __future__ import annotations", "",
           "import dataclasses", "import datetime", "import decimal", "import enum", "import uuid",
           "from typing import Any, Literal, NotRequired, TypedDict", "",
           "from kaiju_plugins.rpc import JSONRPCClient, from_json, to_json", "",
           "__all__ = [" + ", ".join(repr(n) for n in sorted(["Client", *writer.names.values(),
                                                               *_service_names(doc)])) + "]",
           "", "",
           "class _Unset:", '    """An optional param not given: the server applies its default."""', "",
           "    def __repr__(self) -> str:", '        return "UNSET"', "", "",
           "UNSET = _Unset()", ""]
    for key, schema in writer.schemas.items():
        out += ["", *writer.component(key, schema), ""]
    services: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for method in doc.get("methods", []):
        prefix, _, name = method["name"].rpartition(".")
        services.setdefault(prefix, []).append((name, method))
    for prefix, methods in services.items():
        cls = _service_class(prefix)
        out += ["", f"class {cls}:", f'    """The methods ``{prefix + "." if prefix else ""}*``."""', "",
                "    def __init__(self, client: JSONRPCClient) -> None:", "        self._client = client"]
        for name, method in methods:
            out += ["", *writer.method(method, name)]
        out.append("")
    out += ["", "class Client:",
            f'    """Every service of {title}: ``Client(rpc).<service>.<method>(...)``."""', "",
            "    def __init__(self, client: JSONRPCClient) -> None:", "        self._client = client"]
    for prefix in services:
        attribute = _ident(prefix.replace(".", "_")) if prefix else "root"
        out.append(f"        self.{attribute} = {_service_class(prefix)}(client)")
    return "\n".join(out).rstrip() + "\n"


def _service_class(prefix: str) -> str:
    return f"{_camel(prefix)}Service" if prefix else "RootService"


def _service_names(doc: dict[str, Any]) -> list[str]:
    return sorted({_service_class(m["name"].rpartition(".")[0]) for m in doc.get("methods", [])})
