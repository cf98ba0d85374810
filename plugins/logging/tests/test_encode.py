"""JSON encoding never raises and always produces one valid JSON line."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.logging._encode import dumps, safe_repr, sanitize


class BadRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr")


class Opaque:
    __slots__ = ()


leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.binary(max_size=8), st.builds(Opaque), st.builds(BadRepr),
    st.sets(st.integers(), max_size=3), st.integers(min_value=2**64, max_value=2**80),
)
keys = st.one_of(st.text(max_size=5), st.integers(), st.none(), st.tuples(st.integers()), st.booleans())
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(deadline=None)
@given(values)
def test_any_value_encodes_to_one_json_line(value: Any) -> None:
    text = dumps({"data": value})
    assert "\n" not in text
    assert isinstance(json.loads(text), dict)


def test_unencodable_values_become_their_repr() -> None:
    out = json.loads(dumps({"o": Opaque(), "b": b"x", "s": {1}}))
    assert out["b"] == "b'x'"
    assert out["s"] == "{1}"
    assert out["o"].startswith("<")


def test_non_finite_floats_cycles_and_broken_repr_are_strings() -> None:
    loop: list[Any] = []
    loop.append(loop)
    out = json.loads(dumps({"nan": math.nan, "inf": -math.inf, "loop": loop, "bad": BadRepr()}))
    assert out["nan"] == "nan" and out["inf"] == "-inf"
    assert out["loop"] == ["<cycle>"]
    assert out["bad"] == "<unrepresentable BadRepr: ValueError>"


def test_deep_nesting_is_cut() -> None:
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    out = json.loads(dumps({"deep": deep, "nan": math.nan}))
    assert "<too deep>" in json.dumps(out)


def test_non_string_keys_are_kept_as_text() -> None:
    assert json.loads(dumps({"d": {1: "a", None: "b", (1, 2): "c"}, "x": math.nan}))["d"] == {
        "1": "a", "None": "b", "(1, 2)": "c"}


def test_safe_repr_and_sanitize_keep_plain_values() -> None:
    assert safe_repr("a") == "'a'"
    assert sanitize({"a": [1, 2.5, None, True]}) == {"a": [1, 2.5, None, True]}
