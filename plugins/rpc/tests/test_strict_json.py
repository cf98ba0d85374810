"""Every codec reads standard JSON only: NaN / Infinity and lone surrogates are parse errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.rpc._codec import CODECS, get_codec

PARSE_ERROR = {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}


def available() -> list[str]:
    names = []
    for name in CODECS:
        try:
            get_codec(name)
        except ValueError:
            continue
        names.append(name)
    return names


CODEC_NAMES = available()
NON_STANDARD = [b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b'{"a": Infinity}', b'"\\ud800"',
                b'["\\udfff x"]', b'{"\\uDBFF": 1}', b'"\\ud800\\u0041"', b'"a\\udc00"']


def test_the_default_codecs_are_installed_here():
    assert {"ujson", "json"} <= set(CODEC_NAMES)  # orjson (an extra) is tested when installed


@pytest.mark.parametrize("codec", CODEC_NAMES)
@pytest.mark.parametrize("body", NON_STANDARD)
def test_non_standard_json_is_rejected_by_every_codec(codec, body):
    loads, _ = get_codec(codec)
    with pytest.raises(ValueError):
        loads(body)


@pytest.mark.parametrize("codec", CODEC_NAMES)
@pytest.mark.parametrize("body, value", [
    (b'"NaN Infinity"', "NaN Infinity"), (b'{"NaN": "-Infinity"}', {"NaN": "-Infinity"}),
    (b'"\\ud83d\\ude00"', "\U0001f600"), (b'"\\\\ud800"', "\\ud800"),
    (b'"\\u00e9\\uD83D\\uDE00"', "\xe9\U0001f600"),
    (b'{"a": 1, "a": 2}', {"a": 2}),  # duplicate keys: the last one wins, in every codec
])
def test_standard_json_that_merely_spells_them_is_read(codec, body, value):
    loads, _ = get_codec(codec)
    assert loads(body) == value


@pytest.mark.parametrize("codec", CODEC_NAMES)
@pytest.mark.parametrize("params", ["[NaN]", "[Infinity]", "[-Infinity]", '["\\ud800"]'])
def test_the_server_answers_a_parse_error_for_each_codec(serve_app, codec, params):
    async def go() -> Any:
        async with serve_app({"codec": codec}) as served:
            body = '{"jsonrpc": "2.0", "method": "calc.echo", "params": ' + params + ', "id": 1}'
            out = await served.post_raw(body)
            calc = served.service("calc")
            return out, calc

    (status, out, _), _ = asyncio.run(go())
    assert (status, out) == (200, PARSE_ERROR)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False,
                                                                         allow_infinity=False)
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(value=json_values, literal=st.sampled_from(["NaN", "Infinity", "-Infinity"]),
       where=st.integers(0, 1000))
def test_a_non_standard_literal_anywhere_is_rejected_and_standard_json_is_read_alike(value, literal, where):
    text = json.dumps(value)
    for codec in CODEC_NAMES:
        loads, _ = get_codec(codec)
        assert loads(text.encode()) == value, codec
    spliced = (json.dumps([value, 0]).replace("0]", literal + "]") if where % 2
               else json.dumps({"k": 0, "v": value}).replace('"k": 0', f'"k": {literal}', 1))
    for codec in CODEC_NAMES:
        loads, _ = get_codec(codec)
        with pytest.raises(ValueError):
            loads(spliced.encode())
