"""``load_json``: flat env maps with the line of every key; clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.config_yaml import load_json
from kaiju_tools import ConfigError


def test_data_and_the_line_of_every_key(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{\n  "run_port": 9999,\n  "main_name": "my_app",\n  "quote\\"d": [1, 2]\n}\n',
                    encoding="utf-8")
    source = load_json(path)
    assert source.data == {"run_port": 9999, "main_name": "my_app", 'quote"d': [1, 2]}
    assert source.origins == {("run_port",): f"env file {path}:2", ("main_name",): f"env file {path}:3",
                              ('quote"d',): f"env file {path}:4"}


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{\n  "a": 1,\n  "b": 2,\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_json(path)
    [problem] = exc.value.problems
    assert problem.where == f"{path}:4:1"
    assert "malformed JSON" in problem.message
    assert problem.hint


@pytest.mark.parametrize(("text", "kind"),
                         [("[1, 2]", "list"), ('"x"', "str"), ("42", "int"), ("null", "NoneType")])
def test_a_top_level_that_is_not_an_object(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_json(path)
    [problem] = exc.value.problems
    assert problem.where == str(path)
    assert problem.message == f"expected a JSON object (a flat map of env values), got {kind}"


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_json(path)
    assert str(path) in str(exc.value)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ConfigError) as exc:
        load_json(path)
    assert exc.value.problems[0].where == str(path)


def test_the_line_of_a_non_ascii_key(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{\n  "a": 1,\n  "café": 2\n}\n', encoding="utf-8")
    assert load_json(path).origins[("café",)] == f"env file {path}:3"


def test_the_line_of_a_top_level_key_after_a_nested_one(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{\n  "db": {"port": 5432},\n  "port": 8080\n}\n', encoding="utf-8")
    assert load_json(path).origins[("port",)] == f"env file {path}:3"


ENV_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(min_size=1, max_size=10), ENV_VALUES, max_size=6), st.booleans(),
       st.booleans())
def test_property_round_trip_with_a_line_per_key(
    tmp_path: Path, data: dict[str, Any], pretty: bool, ascii_only: bool
) -> None:
    path = tmp_path / "env.json"
    text = json.dumps(data, indent=2 if pretty else None, ensure_ascii=ascii_only)
    path.write_text(text, encoding="utf-8")
    source = load_json(path)
    assert source.data == data
    assert set(source.origins) == {(key,) for key in data}
    if pretty:
        lines = text.split("\n")
        for key in data:
            line = int(source.origins[(key,)].rsplit(":", 1)[1])
            # the key's own line: at top-level indentation (nested keys are indented further)
            assert lines[line - 1].startswith("  " + json.dumps(key, ensure_ascii=ascii_only) + ":")
