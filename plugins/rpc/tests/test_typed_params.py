"""Typed params and results: decoded before the call, encoded after; mismatches are -32602 with a path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import sys
import uuid
from asyncio import run
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))  # typed_service.py (pytest imports tests with importlib)
from kaiju_plugins.rpc._encoding import encode
from kaiju_plugins.rpc._types import decoder, is_builtin
from typed_service import Color, Everything, Point, Tag, Tree
from typed_strategies import decimals as _decimals
from typed_strategies import everything as _everything
from typed_strategies import finite as _finite

TYPED = [{"cls": "Typed", "name": "typed"}]


def _call(serve_app: Any, method: str, params: Any) -> Any:
    async def go() -> Any:
        async with serve_app(services=TYPED) as served:
            return await served.call(method, params)

    return run(go())


def test_a_dataclass_param_arrives_as_the_dataclass_and_the_result_is_encoded(serve_app: Any) -> None:
    out = _call(serve_app, "typed.centroid", [[{"x": 2, "y": 4}, {"x": 4}]])
    assert out["result"] == {"x": 3, "y": 2}


def test_a_mismatch_deep_inside_names_the_json_path_the_expected_type_and_what_was_found(
        serve_app: Any) -> None:
    out = _call(serve_app, "typed.centroid", {"points": [{"x": 1}, {"x": 2}, {"x": 3}, {"x": "four"}]})
    assert out["error"]["code"] == -32602
    data = out["error"]["data"]
    assert data["path"] == "params.points[3].x"
    assert data["expected"] == "integer" and data["found"] == "string 'four'"
    assert data["method"] == "typed.centroid" and data["param"] == "points"


@pytest.mark.parametrize(("method", "params", "path", "expected"), [
    ("typed.paint", ["blue"], "params.color", "Color: one of 'red', 'green'"),
    ("typed.paint", ["red", 3], "params.level", "Level: one of 1, 2"),
    ("typed.paint", ["red", True], "params.level", "Level: one of 1, 2"),
    ("typed.paint", {"color": "red", "mode": "medium"}, "params.mode", "one of 'fast', 'slow'"),
    ("typed.shift", ["yesterday", 1], "params.when", "string (date-time)"),
    ("typed.shift", ["2024-01-01T00:00:00", 1, "not-a-uuid"], "params.ident", "string (uuid)"),
    ("typed.shift", {"when": "2024-01-01T00:00:00", "days": 1, "amount": "1.2.3"}, "params.amount",
     "string (decimal)"),
    ("typed.tree", [{"label": "a", "children": [{"label": "b", "children": [{"label": 5}]}]}],
     "params.root.children[0].children[0].label", "string"),
    ("typed.bounded", [11], "params.n", "a value <= 10"),
    ("typed.bounded", [1, "ABC"], "params.name", "a string matching '^[a-z]+$'"),
    ("typed.bounded", [1, "abcdef"], "params.name", "a length <= 5"),
    ("typed.tags", [{"a": [1, "2"]}, {"name": "t"}], "params.by_name.a[1]", "integer"),
    ("typed.tags", [{}, {"weight": 1.0}], "params.tag.name", "a value (required by Tag)"),
    ("typed.tags", [{}, {"name": "t", "colour": 1}], "params.tag.colour",
     "one of the keys of Tag: name, weight"),
    ("typed.tags", [{}, {"name": "t"}, {"when": "2024-13-01"}], "params.extra.when", "string (date)"),
    ("typed.named", {"p": {"y": 1}}, "params.p.x", "a value (required by Point)"),
])
def test_every_kind_of_mismatch_is_invalid_params_with_its_path(serve_app: Any, method: str, params: Any,
                                                                 path: str, expected: str) -> None:
    out = _call(serve_app, method, params)
    assert out["error"]["code"] == -32602, out
    assert out["error"]["data"]["path"] == path
    assert out["error"]["data"]["expected"] == expected


def test_enums_literals_dates_uuids_and_decimals_are_decoded_and_encoded_back(serve_app: Any) -> None:
    assert _call(serve_app, "typed.paint", ["green", 2, "slow"])["result"] == ["green", 2, "slow"]
    ident = str(uuid.uuid4())
    out = _call(serve_app, "typed.shift", ["2024-02-28T12:00:00+00:00", 2, ident, "1.25"])["result"]
    assert out == {"when": "2024-03-01T12:00:00+00:00", "ident": ident, "amount": "2.50"}


def test_positional_only_and_keyword_only_typed_params(serve_app: Any) -> None:
    assert _call(serve_app, "typed.positional", [{"x": 2}, 3])["result"] == 5
    assert _call(serve_app, "typed.named", {"p": {"x": 2}, "k": 1})["result"] == 2
    assert _call(serve_app, "typed.named", [{"x": 2}])["error"]["code"] == -32602


def test_builtin_only_routes_get_no_wrapper() -> None:
    from kaiju_plugins.rpc._routes import Route

    def add(a: int, b: int | None = None, *rest: float, **kw: dict[str, Any]) -> list[Any]:
        return []

    route = Route("m", add, 0, "s")
    assert route.func is add  # today's path, today's cost
    assert is_builtin(list[Any]) and not is_builtin(list[int]) and not is_builtin(Point)
    typed = Route("m", Typed_centroid, 0, "s")
    assert typed.func is not Typed_centroid and typed.original is Typed_centroid


async def Typed_centroid(points: list[Point]) -> Point:  # noqa: N802 -- a route named like a class's
    return points[0]


# ---- hypothesis: values of every supported type survive encode -> JSON -> decode ---------------------

ROUND_TRIPS: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (Everything, _everything), (list[Point], st.lists(st.from_type(Point), max_size=4)),
    (Tree, st.from_type(Tree)), (dict[str, list[int]], st.dictionaries(st.text(), st.lists(st.integers()))),
    (Color, st.sampled_from(Color)),
    (Point | None, st.none() | st.from_type(Point)), (dt.datetime, st.datetimes()), (dt.date, st.dates()),
    (uuid.UUID, st.uuids()), (decimal.Decimal, _decimals),
    (tuple[int, str], st.tuples(st.integers(), st.text())),
    (float, _finite), (list[Tag], st.lists(st.from_type(Tag), max_size=3)),
]


@pytest.mark.parametrize(("tp", "values"), ROUND_TRIPS, ids=lambda v: getattr(v, "__name__", str(v))[:30])
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_values_round_trip_through_json(tp: Any, values: st.SearchStrategy[Any], data: st.DataObject) -> None:
    value = data.draw(values)
    wire = json.loads(json.dumps(encode(value)))
    back = decoder(tp)(wire)
    assert back == value
    assert type(back) is type(value) or (value is None and back is None)
    assert json.loads(json.dumps(encode(back))) == wire  # and the JSON form is stable


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | _finite | st.text(),
                    lambda inner: (st.lists(inner, max_size=3)
                                   | st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                    max_leaves=10))
def test_any_json_value_is_decoded_or_refused_with_a_mismatch_never_another_error(value: Any) -> None:
    from kaiju_plugins.rpc._types import Mismatch

    for tp, _ in ROUND_TRIPS:
        try:
            decoder(tp)(value)
        except Mismatch as exc:
            assert exc.expected and exc.found
            assert exc.where("params.x").startswith("params.x")


def test_nan_free_floats_only() -> None:
    assert math.isfinite(decoder(float)(1))
    assert type(decoder(float)(1)) is float
    assert dataclasses.is_dataclass(decoder(Point)({"x": 1}))


def test_rpc_api_names_the_types_of_typed_routes(serve_app: Any) -> None:
    methods = {m["method"]: m for m in _call(serve_app, "rpc.api", None)["result"]}
    assert {p["name"]: p["type"] for p in methods["typed.centroid"]["params"]} == {"points": "list[Point]"}
    shift = {p["name"]: p["type"] for p in methods["typed.shift"]["params"]}
    assert shift == {"when": "datetime", "days": "int", "ident": "UUID | null", "amount": "Decimal"}
    assert {p["name"]: p["type"] for p in methods["typed.paint"]["params"]}["mode"] == "'fast' | 'slow'"
