"""``kaiju_tools.templates.parse_literal``: env and ``-e`` values are literals, never code."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_tools import parse_literal
from kaiju_tools.config import parse_env_arg

JSON_SCALARS = (st.none() | st.booleans() | st.integers()
                | st.floats(allow_nan=False, allow_infinity=False) | st.text())
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42), ("-7", -7), ("1.5", 1.5), ("1e3", 1000.0),
    ("true", True), ("false", False), ("null", None),
    ("True", True), ("False", False), ("None", None),
    ('"quoted"', "quoted"), ("'quoted'", "quoted"), ('"42"', "42"),
    ("[1, 2]", [1, 2]), ('{"a": 1}', {"a": 1}), ("{'a': [1, None]}", {"a": [1, None]}),
    (" 42 ", 42), ("\t[1]\n", [1]),
])
def test_literals_are_parsed(text: str, expected: Any) -> None:
    value = parse_literal(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", [
    "localhost", "127.0.0.1", "hello world", "a=b", "", "   ", "x-y", "1+1", "2 * 3",
    "--1", "dev", "INFO", "http://h:80/p", "[unclosed", "{'a': }", "1 if 1 else 2",
    "b'bytes'", "1j", "1+2j", "frozenset()", "\x00", "9" * 5000,
])
def test_anything_else_stays_the_string_itself(text: str) -> None:
    assert parse_literal(text) == text


@pytest.mark.parametrize("code", [
    "__import__('pathlib').Path('pwned').touch()",
    "open('pwned', 'w')",
    "exec(\"open('pwned', 'w')\")",
    "[__import__('pathlib').Path('pwned').touch()]",
    "{'a': open('pwned', 'w')}",
    "(lambda: open('pwned', 'w'))()",
])
def test_code_is_never_evaluated(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_literal(code) == code
    assert not (tmp_path / "pwned").exists()


def test_deep_nesting_stays_a_string() -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert parse_literal(text) == text
    assert parse_literal("[" * 100_000) == "[" * 100_000


def test_a_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expects a str"):
        parse_literal(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["...", "[...]", '{"a": ...}', "[{1, 2}]", "[b'x']", "[1j]", "{(1, 2): 3}"])
def test_results_are_always_plain_data(text: str) -> None:
    value = parse_literal(text)
    json.dumps(value)  # plain data: serialisable without a default= hook
    assert value == text or not isinstance(value, str)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_literals_round_trip(value: Any) -> None:
    assert parse_literal(json.dumps(value)) == value
    assert parse_literal(f"  {json.dumps(value)}\n") == value


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    value = parse_literal(text)
    if isinstance(value, str) and value != text:
        # only a quoted string literal is unwrapped
        assert text.strip()[:1] in {'"', "'"} or text.strip()[:2].lower() in {'r"', "r'", 'u"', "u'"}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["open", "print", "exec", "eval", "__import__", "getattr", "os.system", "exit"]),
       JSON_VALUES)
def test_calls_are_never_evaluated(func: str, arg: Any) -> None:
    text = f"{func}({json.dumps(arg)})"
    assert parse_literal(text) == text


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False) | st.integers())
def test_numbers_keep_their_value(number: float) -> None:
    value = parse_literal(repr(number))
    assert value == number or (math.isinf(number) and value == repr(number))


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True), st.text())
def test_property_e_splits_at_the_first_equals_sign(key: str, value: str) -> None:
    assert parse_env_arg(f"{key}={value}") == (key, parse_literal(value))


@pytest.mark.parametrize("arg", ["novalue", "=1", " =1", ""])
def test_a_bad_e_argument_says_what_was_expected(arg: str) -> None:
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_env_arg(arg)


_PY_ATOMS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
             | st.binary(max_size=3) | st.complex_numbers() | st.just(...))
_PY_OBJECTS = st.recursive(_PY_ATOMS, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                           | st.frozensets(st.integers(), max_size=3)
                           | st.dictionaries(st.integers() | st.text(max_size=3) | st.tuples(st.integers()),
                                             inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(_PY_OBJECTS)
def test_property_python_reprs_give_plain_data_or_the_text(obj: Any) -> None:
    text = repr(obj)
    value = parse_literal(text)
    if value != text:
        json.dumps(value)  # plain data: no sets, bytes, complex numbers, Ellipsis, tuple keys
