"""Templates ``"[key]"`` / ``"[key:default]"``: typed when whole, text when embedded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from kaiju_tools.templates import MISSING, find_templates, render
from kernel_support import AppDir
from suite_support import config_json, run

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
SCALARS = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10)


def lookup_from(env: dict[str, Any]):
    return lambda key: env.get(key, MISSING)


@pytest.mark.parametrize(("value", "expected"), [
    (9999, 9999), (True, True), (None, None), (1.5, 1.5), ([1, "a"], [1, "a"]),
    ({"a": 1}, {"a": 1}), ("text", "text"),
])
def test_a_whole_string_template_yields_the_typed_value(value: Any, expected: Any) -> None:
    assert render("[key]", lookup_from({"key": value})) == (expected, [])


@pytest.mark.parametrize(("text", "expected"), [
    ("http://[host]:[port]/rpc", "http://example.org:8080/rpc"),
    ("[host]:[port]", "example.org:8080"),
    (" [port]", " 8080"),
    ("debug=[debug]", "debug=true"),
    ("none=[nothing]", "none=null"),
])
def test_an_embedded_template_yields_text(text: str, expected: str) -> None:
    env = {"host": "example.org", "port": 8080, "debug": True, "nothing": None}
    assert render(text, lookup_from(env)) == (expected, [])


@pytest.mark.parametrize(("text", "expected"), [
    ("[main_env:'dev']", "dev"), ("[debug:false]", False), ("[port:8080]", 8080),
    ('[name:"x y"]', "x y"), ("[level:INFO]", "INFO"), ("[nothing:null]", None),
    ("[empty:]", ""), ("v[port:80]", "v80"),
])
def test_defaults_are_literals(text: str, expected: Any) -> None:
    assert render(text, lookup_from({})) == (expected, [])


def test_a_defined_key_beats_the_default() -> None:
    assert render("[main_env:'dev']", lookup_from({"main_env": "prod"})) == ("prod", [])


def test_every_missing_key_is_reported() -> None:
    value, missing = render("[a]/[b:1]/[c]", lookup_from({}))
    assert missing == ["a", "c"]
    assert value == "[a]/[b:1]/[c]"


@pytest.mark.parametrize("text", ["[1, 2]", "[]", "plain", "[ key]", "[%(levelname)s]", "a[b"])
def test_text_that_is_not_a_template_is_left_alone(text: str) -> None:
    assert find_templates(text) == []
    assert render(text, lookup_from({})) == (text, [])


@settings(max_examples=200, deadline=None)
@given(KEYS, VALUES)
def test_property_whole_template_is_the_value(key: str, value: Any) -> None:
    assert render(f"[{key}]", lookup_from({key: value})) == (value, [])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=20), KEYS,
       st.text(max_size=20), st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=20))
def test_property_embedded_string_value(prefix: str, key: str, value: str, suffix: str) -> None:
    assume(prefix or suffix)
    assert render(f"{prefix}[{key}]{suffix}", lookup_from({key: value})) == (prefix + value + suffix, [])


@settings(max_examples=200, deadline=None)
@given(KEYS, st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
       | st.text(alphabet=st.characters(blacklist_characters="]\\\"", blacklist_categories=("Cs", "Cc"))))
def test_property_default_round_trips_json_scalars(key: str, value: Any) -> None:
    assert render(f"[{key}:{json.dumps(value)}]", lookup_from({})) == (value, [])


@settings(max_examples=300, deadline=None)
@given(st.text(), st.dictionaries(KEYS, VALUES, max_size=3))
def test_property_arbitrary_text_never_raises(text: str, env: dict[str, Any]) -> None:
    value, missing = render(text, lookup_from(env))
    templates = find_templates(text)
    expected_missing = [t.key for t in templates if t.key not in env and t.default is MISSING]
    assert missing == expected_missing
    if not templates or missing:
        assert value == text


# ---- end to end: YAML templates filled from env.json ---------------------------------


@pytest.fixture
def templated(app_dir: AppDir) -> AppDir:
    app_dir.write("settings/config.yml", """
        main:
          name: "[main_name]"
          env: "[main_env:'dev']"
        run:
          host: "[run_host]"
          port: "[run_port]"
        etc:
          url: "http://[run_host]:[run_port]/rpc"
          debug: "[app_debug]"
          debug_text: "debug=[app_debug]"
          level: "[main_loglevel:'INFO']"
          items: "[items]"
          in_list: ["[run_port]", "x[run_port]"]
          nested: {deep: "[run_port]"}
          flag: "[flag:false]"
    """)
    app_dir.write("settings/env.json", json.dumps({
        "main_name": "my_app", "run_host": "localhost", "run_port": 9999, "app_debug": True,
        "main_loglevel": "DEBUG", "items": [1, 2]}))
    return app_dir


def test_templates_in_yaml_are_filled_from_env_files(templated: AppDir) -> None:
    data = config_json(templated)
    assert data["main"] == {"name": "my_app", "env": "dev"}
    assert data["run"] == {"host": "localhost", "port": 9999}
    etc = data["etc"]
    assert etc["url"] == "http://localhost:9999/rpc"
    assert etc["debug"] is True
    assert etc["debug_text"] == "debug=true"
    assert etc["level"] == "DEBUG"
    assert etc["items"] == [1, 2]
    assert etc["in_list"] == [9999, "x9999"]
    assert etc["nested"] == {"deep": 9999}
    assert etc["flag"] is False


def test_an_env_value_replaces_a_template_default(templated: AppDir) -> None:
    data = config_json(templated, "-e", "main_loglevel='WARNING'", "-e", "run_port=1234")
    assert data["etc"]["level"] == "WARNING"
    assert data["run"]["port"] == 1234
    assert data["etc"]["url"] == "http://localhost:1234/rpc"


def test_the_typed_value_reaches_project_settings(templated: AppDir) -> None:
    templated.write("tapp/commands.py", '''
        from kaiju_tools import Command, get_settings

        class Show(Command):
            name = "show"
            async def run(self, app, args):
                s = get_settings(app)
                print(repr(s.run.port), repr(s.run.host), repr(s.main.name), repr(s.main.loglevel))
    ''')
    templated.write("settings/config.yml", """
        main:
          name: "[main_name]"
          loglevel: "[main_loglevel:'INFO']"
        run:
          host: "[run_host]"
          port: "[run_port]"
    """)
    result = run(templated, "show")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["9999", "'localhost'", "'my_app'", "'DEBUG'"]
