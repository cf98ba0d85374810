"""Limits of the loaders: random nestings and alias structures end in data or a ConfigError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.config_yaml import load_json, load_yaml
from kaiju_tools import ConfigError
from kaiju_tools.config import ConfigLimits

LIMITS = ConfigLimits(max_bytes=2**20, max_depth=12, max_values=400)


def expanded(value: Any) -> tuple[int, int]:
    """(values, levels) of constructed data, aliases counted at every place they appear."""
    if isinstance(value, dict):
        below = [expanded(v) for v in value.values()]
    elif isinstance(value, list):
        below = [expanded(v) for v in value]
    else:
        return 1, 0
    return 1 + sum(n for n, _ in below), 1 + max((d for _, d in below), default=0)


@st.composite
def alias_documents(draw: st.DrawFn) -> str:
    """A mapping of anchored nodes; each is a flow list or map of scalars and earlier aliases."""
    lines = []
    for i in range(draw(st.integers(1, 7))):
        alias = st.integers(max(i - 2, 0), max(i - 1, 0)).map(lambda j, i=i: f"*a{j}" if i else "x")
        items = draw(st.lists(st.one_of(st.integers(0, 9).map(str), alias, alias), min_size=0, max_size=8))
        if draw(st.booleans()):
            body = "[" + ", ".join(items) + "]"
        else:
            body = "{" + ", ".join(f"k{n}: {item}" for n, item in enumerate(items)) + "}"
        for _ in range(draw(st.integers(0, 2))):
            body = draw(st.sampled_from(["[{}]", "{{w: {}}}"])).format(body)
        lines.append(f"a{i}: &a{i} {body}")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=alias_documents())
def test_alias_structures_load_within_the_limits_or_fail_with_a_config_error(tmp_path: Path,
                                                                             text: str) -> None:
    path = tmp_path / "a.yml"
    path.write_text(text, encoding="utf-8")
    try:
        source = load_yaml(path, LIMITS)
    except ConfigError as exc:
        text_of = str(exc)
        assert str(path) in text_of
        assert "(max_values)" in text_of or "(max_depth)" in text_of
        return
    assert source.data == yaml.safe_load(text)
    values, levels = expanded(source.data)
    assert values <= LIMITS.max_values and levels <= LIMITS.max_depth
    assert len(source.origins) <= (text.count(",") + text.count(":") + text.count("[")
                                   + 2 * len(text.splitlines()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 30), style=st.sampled_from(["flow", "block"]))
def test_nesting_over_the_limit_names_its_line(tmp_path: Path, depth: int, style: str) -> None:
    if style == "flow":
        text = "k: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "v: 1\n"
    path = tmp_path / "a.yml"
    path.write_text(text, encoding="utf-8")
    levels = depth + 1  # the top mapping is a level
    try:
        load_yaml(path, LIMITS)
    except ConfigError as exc:
        assert levels > LIMITS.max_depth
        line = 1 if style == "flow" else LIMITS.max_depth + 1
        assert str(exc.problems[0]).startswith(f"{path}:{line}: ")
        assert f"KAIJU_CONFIG_MAX_DEPTH={LIMITS.max_depth * 4}" in str(exc)
    else:
        assert levels <= LIMITS.max_depth


json_values = st.recursive(
    st.one_of(st.integers(), st.text(alphabet='[]{}"\\ab', max_size=6), st.none()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{"x', max_size=3), inner,
                                                                 max_size=3),
    max_leaves=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_env_json_nesting_is_checked_exactly(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"k": value}, indent=1), encoding="utf-8")
    levels = expanded({"k": value})[1]
    try:
        source = load_json(path, ConfigLimits(max_depth=4))
    except ConfigError as exc:
        assert levels > 4
        assert "(max_depth)" in str(exc) and f"{path}:" in str(exc)
    else:
        assert levels <= 4
        assert source.data == {"k": value}


def test_an_alias_records_its_own_line_once(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("base: &b\n  x: [1, 2, 3]\nuse:\n  one: *b\n  many: [*b, *b]\n", encoding="utf-8")
    source = load_yaml(path)
    assert source.origins[("use", "one")] == f"{path}:4 (alias of line 1)"
    assert source.origins[("use", "many", 1)] == f"{path}:5 (alias of line 1)"
    assert ("use", "one", "x") not in source.origins  # the alias's content is the anchor's
    assert source.data["use"]["many"][1] == {"x": [1, 2, 3]}


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("k: " + "x" * 100 + "\n", encoding="utf-8")
    for loader in (load_yaml, load_json):
        try:
            loader(path, ConfigLimits(max_bytes=50))
        except ConfigError as exc:
            assert str(exc.problems[0]).startswith(
                f"{path}: the file is 104 bytes: over the limit of 50 bytes")
        else:
            raise AssertionError("expected a ConfigError")
