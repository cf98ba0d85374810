"""Every test of this plugin runs with both YAML loaders: libyaml's C parser and the pure-Python one
(same results, same errors, same lines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kaiju_plugins.config_yaml import _yaml_compat


@pytest.fixture(autouse=True, params=["c", "python"])
def yaml_parser(request: pytest.FixtureRequest) -> Iterator[str]:
    """Choose the parser for one test (``c`` is skipped when PyYAML has no libyaml)."""
    if request.param == "c" and not _yaml_compat.HAS_C:
        pytest.skip("PyYAML is built without libyaml")
    previous = _yaml_compat.use_c(request.param == "c")
    try:
        yield request.param
    finally:
        _yaml_compat.use_c(previous)


@pytest.fixture(autouse=True)
def no_parse_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file is parsed (the parse cache has its own tests)."""
    monkeypatch.setenv("KAIJU_CACHE_DIR", "-")
