"""YAML and ``.env.json`` configuration loaders for kaiju-kernel.

The plugin answers the kernel's ``kaiju_load_config_source`` hook for ``.yml`` /
``.yaml`` files (project settings, with the line of every value) and ``.json`` files
(flat env maps, with the line of every key). Malformed files raise
:class:`kaiju_tools.ConfigError` naming the file, line and column. Files are read under
:class:`kaiju_tools.config.ConfigLimits` (nesting depth, values after YAML alias expansion):
an alias is counted as its anchor's values without being walked again.
"""

from __future__ import annotations

from ._cache import load_yaml
from ._json import load_json

__all__ = ["load_json", "load_yaml"]
