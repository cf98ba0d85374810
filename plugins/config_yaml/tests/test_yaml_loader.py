"""``load_yaml``: real files in, data and the line of every value out; clear errors."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.config_yaml import load_yaml
from kaiju_tools import ConfigError


def write(tmp_path: Path, text: str, name: str = "config.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_data_and_the_line_of_every_value(tmp_path: Path) -> None:
    path = write(tmp_path, """
        main:
          name: app
        services:
          - cls: A
            settings:
              x: 1
          - B
    """)
    source = load_yaml(path)
    assert source.data == {"main": {"name": "app"}, "services": [{"cls": "A", "settings": {"x": 1}}, "B"]}
    assert source.path == path
    assert source.origins[("main", "name")] == f"{path}:2"
    assert source.origins[("services", 0, "settings", "x")] == f"{path}:6"
    assert source.origins[("services", 1)] == f"{path}:7"


def test_an_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "")).data == {}
    assert load_yaml(write(tmp_path, "# only a comment\n")).data == {}


def test_anchors(tmp_path: Path) -> None:
    path = write(tmp_path, """
        base: &base
          a: 1
        etc:
          copy: *base
    """)
    assert load_yaml(path).data["etc"] == {"copy": {"a": 1}}


def test_merge_keys_can_be_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, """
        base: &base
          a: 1
          b: 2
        etc:
          <<: *base
          b: 3
    """)
    assert load_yaml(path).data["etc"] == {"a": 1, "b": 3}


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "main:\n  name: x\n   bad: indent\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    [text] = problems(exc)
    assert text.startswith(f"{path}:3:")
    assert "malformed YAML" in text
    assert "hint:" in text


def test_a_top_level_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "# a list, not a mapping\n- a\n- b\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    [text] = problems(exc)
    assert text.startswith(f"{path}:2:")
    assert "expected a mapping of settings at the top of the file, got list" in text


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """
        main:
          name: a
          name: b
        etc: {}
        etc: {}
    """)
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    texts = problems(exc)
    assert len(texts) == 2
    assert texts[0].startswith(f"{path}:3: duplicate key 'name' (first at line 2)")
    assert texts[1].startswith(f"{path}:5: duplicate key 'etc' (first at line 4)")


@pytest.mark.parametrize("text", [
    "x: !!python/object/apply:os.system ['touch pwned']\n",
    "x: !!python/name:os.system\n",
])
def test_python_tags_are_refused(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as exc:
        load_yaml(write(tmp_path, text))
    assert "malformed YAML" in problems(exc)[0]
    assert not (tmp_path / "pwned").exists()


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_bytes(b"main:\n  name: \xff\xfe\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    assert "not UTF-8" in problems(exc)[0]
    assert str(path) in problems(exc)[0]


def test_a_directory_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_yaml(tmp_path)
    assert problems(exc)[0].startswith(f"{tmp_path}: cannot read")


KEYS = st.text(string.ascii_letters + "_", min_size=1, max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=20))
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(KEYS, inner, max_size=3), max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, TREES, max_size=4))
def test_property_safe_dump_round_trips_with_an_origin_per_value(tmp_path: Path,
                                                                 data: dict[str, Any]) -> None:
    path = tmp_path / "dumped.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")  # allow_unicode=True breaks NEL (PyYAML)
    source = load_yaml(path)
    assert source.data == data
    for key in data:
        where = source.origins[(key,)]
        assert where.startswith(f"{path}:")
        line = int(where.rsplit(":", 1)[1])
        assert 1 <= line <= path.read_text(encoding="utf-8").count("\n") + 1


@pytest.mark.parametrize("text", ["\x1f", "main:\n  name: a\x07b\n"])
def test_control_characters_are_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ctl.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_yaml(path)
    assert str(path) in str(exc.value)


PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), max_size=200)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PRINTABLE)
def test_property_arbitrary_text_loads_or_raises_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yml"
    path.write_text(text, encoding="utf-8")
    try:
        source = load_yaml(path)
    except ConfigError as exc:
        assert exc.problems and all(str(path) in str(p) for p in exc.problems)
    else:
        assert isinstance(source.data, dict)
