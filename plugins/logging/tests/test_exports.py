"""The public surface: exported names, lazy names in kaiju_tools, the entry point, clean imports."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from importlib import metadata

import kaiju_plugins.logging as package

PUBLIC = [
    "DataFormatter", "HandlerSettings", "JSONHandler", "LogQueue", "LoggerSettings", "LoggingService",
    "QueueHandler", "StreamHandler", "TextFormatter", "TextHandler",
]


def test_all_is_exactly_the_public_names_sorted() -> None:
    assert package.__all__ == sorted(PUBLIC)
    assert {name for name in dir(package) if not name.startswith("_") and name[0].isupper()} == set(PUBLIC)


def test_kaiju_tools_resolves_the_plugin_names() -> None:
    import kaiju_tools

    for name in ("LoggingService", "JSONHandler", "TextHandler", "TextFormatter", "DataFormatter"):
        assert getattr(kaiju_tools, name) is getattr(package, name)


def test_entry_point_is_the_plugin_module() -> None:
    (entry,) = [ep for ep in metadata.entry_points(group="kaiju.plugins") if ep.name == "logging"]
    assert entry.dist is not None and entry.dist.name == "kaiju-plugin-logging"
    module = entry.load()
    assert module.kaiju_register_services() == [package.LoggingService]
    assert module.kaiju_register_log_handlers()["JSONHandler"] is package.JSONHandler


def test_no_init_in_the_namespace_package() -> None:
    import kaiju_plugins

    assert not hasattr(kaiju_plugins, "__file__") or kaiju_plugins.__file__ is None


def test_every_module_imports_alone_without_warnings() -> None:
    names = [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    assert f"{package.__name__}.plugin" in names
    procs = {name: subprocess.Popen([sys.executable, "-W", "error", "-c", f"import {name}"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in names}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (name, err)
        importlib.import_module(name)
