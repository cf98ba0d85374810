"""The cache of parsed YAML files: same data and provenance as a parse, errors never cached."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kaiju_plugins.config_yaml import _cache, load_yaml
from kaiju_tools import ConfigError
from kaiju_tools.config import ConfigLimits

TEXT = "main:\n  name: x\nbase: &b {a: 1, b: [x, 2.5, true, null]}\nother:\n  <<: *b\n  c: *b\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("KAIJU_CACHE_DIR", str(where))
    return where


def test_hit_equals_parse(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(TEXT)
    first = load_yaml(path)
    assert len(list((cache / "config").iterdir())) == 1
    again = load_yaml(path)
    assert (again.data, again.origins, again.path) == (first.data, first.origins, first.path)
    path.write_text(TEXT + "more: 1\n")
    assert load_yaml(path).data["more"] == 1  # other text: a parse
    with pytest.raises(ConfigError, match="max_depth"):  # the limits are part of the key
        load_yaml(path, ConfigLimits(max_depth=3))


def test_a_hit_does_not_import_pyyaml(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(TEXT)
    load_yaml(path)
    code = ("import sys, json; from pathlib import Path; from kaiju_plugins.config_yaml import load_yaml; "
            f"s = load_yaml(Path({str(path)!r})); print(json.dumps(['yaml' in sys.modules, s.data]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, data = json.loads(result.stdout)
    assert not imported and data == json.loads(json.dumps(load_yaml(path).data))


def test_errors_and_dates_are_not_cached(tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("a: 1\na: 2\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="duplicate key"):
            load_yaml(bad)
    dated = tmp_path / "dated.yml"
    dated.write_text("when: 2020-01-02\n")
    assert load_yaml(dated).data == load_yaml(dated).data
    assert not (cache / "config").exists()


@pytest.mark.parametrize("content", [b"", b"junk", b"\xe3\x00", b"\xe9\x02\x00\x00\x00"])
def test_corrupt_entry_means_a_parse(tmp_path: Path, cache: Path, content: bytes) -> None:
    path = tmp_path / "c.yml"
    path.write_text(TEXT)
    target = _cache.cache_path(path, TEXT, ConfigLimits())
    assert target is not None
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    source = load_yaml(path)
    assert source.data["main"] == {"name": "x"} and source.origins[("main", "name")].endswith("c.yml:2")


def test_unwritable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("KAIJU_CACHE_DIR", str(blocker))
    path = tmp_path / "c.yml"
    path.write_text(TEXT)
    assert load_yaml(path).data == load_yaml(path).data


def test_the_cache_keeps_a_bounded_number_of_parsed_files(tmp_path: Path, cache: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # every change of a file's text makes a new entry: without a bound the directory grows for ever
    monkeypatch.setattr(_cache, "_KEEP", 3)
    path = tmp_path / "c.yml"
    for i in range(8):
        path.write_text(f"main:\n  name: x{i}\n")
        assert load_yaml(path).data["main"]["name"] == f"x{i}"
    assert len(list((cache / "config").glob("*.marshal"))) == 3
    assert load_yaml(path).data["main"]["name"] == "x7"  # the newest is kept (a hit)
