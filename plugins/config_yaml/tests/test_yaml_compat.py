"""libyaml's parser and the pure-Python one side by side: same data, provenance and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.config_yaml import _yaml_compat, load_yaml
from kaiju_tools import ConfigError
from kaiju_tools.config import ConfigLimits

pytestmark = pytest.mark.skipif(not _yaml_compat.HAS_C, reason="PyYAML is built without libyaml")

DOCS = [
    "main:\n  name: x\n  port: 8080\nlist: [1, 2.5, true, null, 2020-01-02, !!binary aGk=]\n",
    "base: &b {a: 1, b: [x, y]}\nother:\n  <<: *b\n  c: *b\n",
    "a: 1\na: 2\n",
    "a: [1, 2\n",
    "a: 'unclosed\n",
    "a:\n  - b\n c: d\n",
    "- 1\n- 2\n",
    "a: *missing\n",
    "a: !!python/object:os.system x\n",
    "a: \x07bell\n",
    "a: &x [*x]\n",
    "{a: 1}: b\n",
    "a:\tb\n",
    "\ufeffa: 1\n",
    "a: [[[[[[1]]]]]]\n",
    "a: &a [1, 2, 3]\nb: [*a, *a, *a, *a]\nc: [*a, *a]\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "",
    "# only a comment\n",
]


def outcome(path: Path, fast: bool) -> tuple[str, object, object]:
    previous = _yaml_compat.use_c(fast)
    try:
        source = load_yaml(path, ConfigLimits(max_depth=5, max_values=12))
        return "ok", source.data, source.origins
    except ConfigError as exc:
        return "error", [str(p) for p in exc.problems], None
    finally:
        _yaml_compat.use_c(previous)


@pytest.mark.parametrize("text", DOCS)
def test_same_outcome(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")
    assert outcome(path, True) == outcome(path, False)


def test_the_c_parser_is_used() -> None:
    assert type(_yaml_compat.new_loader("a: 1", 5, True)).__name__ == "_CLoader"
    assert isinstance(_yaml_compat.new_loader("a: 1", 5, False), _yaml_compat.PyLoader)
    assert isinstance(_yaml_compat.new_loader("a:\tb", 5, True), _yaml_compat.PyLoader)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="ab:-[]{}&*#'\" \n,?1.@`=~", max_size=40))
def test_same_outcome_on_any_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "h.yml"
    path.write_text(text, encoding="utf-8")
    assert outcome(path, True) == outcome(path, False)
