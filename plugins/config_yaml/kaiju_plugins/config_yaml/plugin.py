"""The ``config_yaml`` plugin: answers ``kaiju_load_config_source`` for .yml/.yaml/.json."""

from __future__ import annotations

from pathlib import Path

from kaiju_tools import ConfigSource
from kaiju_tools.config import ConfigLimits
from kaiju_tools.hookspecs import hookimpl

from ._cache import load_yaml
from ._json import load_json

__all__ = ["kaiju_load_config_source"]


@hookimpl
def kaiju_load_config_source(path: Path, kind: str, limits: ConfigLimits) -> ConfigSource | None:
    """Read ``.yml`` / ``.yaml`` as YAML and ``.json`` as JSON; leave other files to others."""
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return load_yaml(path, limits)
    if suffix == ".json":
        return load_json(path, limits)
    return None
