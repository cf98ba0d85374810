"""JSON Schema (draft 7, what OpenRPC 1.x embeds) of the annotations :mod:`._types` decodes.

Classes (dataclasses, ``TypedDict``, enums, msgspec / pydantic models) go to shared
``components/schemas`` entries referred to by ``$ref``; everything else is inline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
import types
import typing
import uuid
from collections import abc
from typing import Any

from ._classes import is_msgspec_struct, is_pydantic_model, typeddict_required
from ._constraints import collect
from ._types import type_hints

__all__ = ["SchemaBuilder"]

_NONE = type(None)
_SIMPLE: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"}, bool: {"type": "boolean"},
    _NONE: {"type": "null"}, None: {"type": "null"}, list: {"type": "array"}, tuple: {"type": "array"},
    set: {"type": "array", "uniqueItems": True}, frozenset: {"type": "array", "uniqueItems": True},
    dict: {"type": "object"}, dt.datetime: {"type": "string", "format": "date-time"},
    dt.date: {"type": "string", "format": "date"}, dt.time: {"type": "string", "format": "time"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    decimal.Decimal: {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"},
}
_ARRAYS = (list, tuple, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection,
           abc.Set, abc.MutableSet)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)
_JSON_KEYS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", _NONE: "null"}
    return names.get(type(value), "string")


class SchemaBuilder:
    """Builds schemas and collects the shared ``components/schemas`` they refer to."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self._names: dict[Any, str] = {}

    def schema(self, tp: Any) -> dict[str, Any]:
        """The schema of annotation ``tp`` (``{}`` when anything goes)."""
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Required, typing.NotRequired):
            return self.schema(args[0])
        if tp is Any or tp is object or tp is inspect.Parameter.empty:
            return {}
        if isinstance(tp, typing.Hashable) and tp in _SIMPLE:
            return dict(_SIMPLE[tp])
        out: dict[str, Any]
        if origin is typing.Annotated:
            out = self.schema(args[0])
            rules = collect(args[1:])
            target = out
            if "$ref" in out:  # keywords beside $ref are ignored by draft 7: wrap it
                out = target = {"allOf": [out]}
            for key, value in rules.items():
                if key in _JSON_KEYS:
                    target[_JSON_KEYS[key]] = value
                elif key in ("min_length", "max_length"):
                    kind = out.get("type")
                    word = ({"array": "Items", "object": "Properties"}.get(kind, "Length")
                            if isinstance(kind, str) else "Length")
                    target[("min" if key == "min_length" else "max") + word] = value
                elif key == "pattern":
                    target["pattern"] = value
            for meta in args[1:]:
                if isinstance(getattr(meta, "description", None), str):
                    target["description"] = meta.description
            return out
        if origin is typing.Union or origin is types.UnionType:
            members = [self.schema(a) for a in args]
            return members[0] if len(members) == 1 else {"anyOf": members}
        if origin is typing.Literal:
            values = [a.value if isinstance(a, enum.Enum) else a for a in args]
            kinds = sorted({_json_type(v) for v in values})
            return {"enum": values, "type": kinds[0] if len(kinds) == 1 else kinds}
        if origin in _ARRAYS or tp in _ARRAYS:
            out = {"type": "array"}
            if origin in (set, frozenset, abc.Set, abc.MutableSet) or tp in (abc.Set, abc.MutableSet):
                out["uniqueItems"] = True
            if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
                if args == ((),):
                    return {"type": "array", "maxItems": 0}
                out.update(items=[self.schema(a) for a in args], minItems=len(args), maxItems=len(args))
            elif args:
                item = self.schema(args[0])
                if item:
                    out["items"] = item
            return out
        if origin in _MAPPINGS or tp in _MAPPINGS:
            out = {"type": "object"}
            if len(args) == 2:
                value = self.schema(args[1])
                if value:
                    out["additionalProperties"] = value
            return out
        if isinstance(tp, type):
            return self._class(tp)
        return {}

    def _class(self, tp: type) -> dict[str, Any]:
        if issubclass(tp, enum.Enum):
            body: dict[str, Any] | None = self._enum(tp)
        elif (dataclasses.is_dataclass(tp) or typing.is_typeddict(tp) or is_msgspec_struct(tp)
              or is_pydantic_model(tp)):
            body = None
        else:
            return {}
        name = self._names.get(tp)
        if name is None:
            name = base = tp.__name__
            n = 2
            while name in self.components:
                name, n = f"{base}{n}", n + 1
            self._names[tp] = name
            self.components[name] = {}  # taken (a class may refer to itself)
            if body is None:
                body = self._object(tp)
            own = tp.__dict__.get("__doc__")  # not an inherited one (StrEnum's, TypedDict's)
            doc = inspect.cleandoc(own) if isinstance(own, str) else None
            if doc and not doc.startswith(f"{tp.__name__}(") and "description" not in body:
                body["description"] = doc
            body.setdefault("title", tp.__name__)
            self.components[name] = body
        return {"$ref": f"#/components/schemas/{name}"}

    def _enum(self, tp: type[enum.Enum]) -> dict[str, Any]:
        values = [m.value for m in tp]
        kinds = sorted({_json_type(v) for v in values})
        return {"enum": values, "type": kinds[0] if len(kinds) == 1 else kinds,
                "x-enum-varnames": [m.name for m in tp]}  # the member names (for generated clients)

    def _object(self, tp: type) -> dict[str, Any]:
        if is_msgspec_struct(tp):
            import msgspec

            _, defs = msgspec.json.schema_components([tp], ref_template="#/components/schemas/{name}")
            for key, value in defs.items():
                self.components.setdefault(key, value)
            return dict(defs.get(tp.__name__, {"type": "object"}))
        if is_pydantic_model(tp):
            schema = tp.model_json_schema(ref_template="#/components/schemas/{model}")  # type: ignore[attr-defined]
            for key, value in schema.pop("$defs", {}).items():
                self.components.setdefault(key, value)
            return dict(schema)
        hints = type_hints(tp)
        if dataclasses.is_dataclass(tp):
            fields = [f for f in dataclasses.fields(tp) if f.init]
            required = [f.name for f in fields
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
            props = {}
            for f in fields:
                prop = self.schema(hints.get(f.name, Any))
                if f.default is not dataclasses.MISSING and _plain(f.default):
                    prop = {**prop, "default": _plain_value(f.default)} if "$ref" not in prop else {
                        "allOf": [prop], "default": _plain_value(f.default)}
                props[f.name] = prop
        else:
            need = typeddict_required(tp, hints)
            props = {key: self.schema(hint) for key, hint in hints.items()}
            required = [key for key in hints if key in need]
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        return out


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, enum.Enum))


def _plain_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
