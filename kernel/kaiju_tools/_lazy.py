"""Names the guide imports from ``kaiju_tools`` that a plugin provides, resolved lazily."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LAZY", "resolve"]

_PLUGINS = {
    "kaiju_plugins.rpc": ("kaiju-plugin-rpc", ("JSONRPCServer", "PublicInterface", "PermissionKeys",
                                               "JSONRPCClient", "JSONRPCView")),
    "kaiju_plugins.scheduler": ("kaiju-plugin-scheduler", ("Scheduler", "ExecPolicy")),
    "kaiju_plugins.logging": ("kaiju-plugin-logging", ("LoggingService", "JSONHandler", "TextHandler",
                                                       "TextFormatter", "DataFormatter")),
}

LAZY: dict[str, tuple[str, str]] = {
    name: (module, dist) for module, (dist, names) in _PLUGINS.items() for name in names
}
"""``{name: (module, distribution)}``."""


def resolve(owner: str, name: str) -> Any:
    """Import ``name`` from the plugin that provides it, or explain which to install."""
    try:
        module, dist = LAZY[name]
    except KeyError:
        raise AttributeError(f"module {owner!r} has no attribute {name!r}") from None
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ImportError(
                f"{owner}.{name} is provided by the plugin distribution {dist!r}, which is not "
                f"installed: pip install {dist} (or kaiju-kernel[all] for every first-party plugin)",
                name=name,
            ) from None
        raise
    except AttributeError:
        raise ImportError(f"{owner}.{name}: the installed {dist} does not provide {name!r}; "
                          f"upgrade {dist}", name=name) from None
