"""The distribution: its public names, its entry point, its hook implementations."""

from __future__ import annotations

import importlib
import subprocess
import sys

import kaiju_plugins.scheduler as package
from importlib_metadata import distribution, entry_points
from kaiju_tools.hookspecs import ASYNC_HOOKS


def test_public_names_are_exactly_these() -> None:
    assert package.__all__ == sorted(package.__all__)
    assert set(package.__all__) == {
        "ExecPolicy",
        "InvalidTaskError",
        "NoLockProviderError",
        "ScheduledTask",
        "Scheduler",
        "SchedulerError",
    }
    assert all(
        getattr(package, name).__module__.startswith("kaiju_plugins.scheduler") for name in package.__all__
    )


def test_entry_point_loads_the_plugin_module() -> None:
    (ep,) = [ep for ep in entry_points(group="kaiju.plugins") if ep.name == "scheduler"]
    assert ep.value == "kaiju_plugins.scheduler.plugin"
    assert ep.dist is not None and ep.dist.name == "kaiju-plugin-scheduler"
    module = ep.load()
    assert [cls.__name__ for cls in module.kaiju_register_services()] == ["Scheduler"]


def test_only_lifecycle_hooks_are_async() -> None:
    import inspect

    plugin = importlib.import_module("kaiju_plugins.scheduler.plugin")
    for name in plugin.__all__:
        if inspect.iscoroutinefunction(getattr(plugin, name)):
            assert name in ASYNC_HOOKS


def test_depends_on_the_kernel_and_the_cron_library_only() -> None:
    requires = distribution("kaiju-plugin-scheduler").requires or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert [r.split(">")[0].split("=")[0].strip() for r in runtime] == ["kaiju-kernel", "cronsim"]


def test_every_module_imports_alone_with_warnings_as_errors() -> None:
    for module in (
        "kaiju_plugins.scheduler",
        "kaiju_plugins.scheduler.plugin",
        "kaiju_plugins.scheduler.scheduler",
        "kaiju_plugins.scheduler._engine",
        "kaiju_plugins.scheduler._task",
        "kaiju_plugins.scheduler._schedule",
        "kaiju_plugins.scheduler._runs",
        "kaiju_plugins.scheduler._triggers",
        "kaiju_plugins.scheduler._misfire",
        "kaiju_plugins.scheduler._validate",
        "kaiju_plugins.scheduler._policy",
        "kaiju_plugins.scheduler._errors",
    ):
        subprocess.run([sys.executable, "-W", "error", "-c", f"import {module}"], check=True)
