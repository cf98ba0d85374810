"""Fixtures of the logging plugin's tests: only this plugin active, loggers restored."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service

OTHER_PLUGINS = "rpc,scheduler"


class LogProbe(Service):
    """A service that only logs (the tests call ``probe.logger``)."""


SERVICE_CLASS_REGISTRY.register(LogProbe)


@pytest.fixture(autouse=True)
def only_this_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin works with only the kernel: other first-party plugins are disabled."""
    monkeypatch.setenv("KAIJU_DISABLE_PLUGINS", OTHER_PLUGINS)


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    """Put back handlers, levels and propagation of the loggers a test touched."""
    names = ["t", "t.probe", "t.logging", "other", "aiohttp.access", "asyncio", "third.party", ""]
    saved = {n: (lg.handlers[:], lg.level, lg.propagate) for n in names for lg in [logging.getLogger(n)]}
    yield
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


