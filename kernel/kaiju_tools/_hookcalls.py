"""Calling hooks one implementation at a time (errors name the plugin), and tracing them."""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from ._keys import PLUGINS_KEY
from .exceptions import PluginError

__all__ = ["await_lifecycle", "call_each", "collect", "collect_first"]

TRACE_ENV = "KAIJU_TRACE_HOOKS"


def _install_tracer(pm: pluggy.PluginManager) -> None:
    starts: list[float] = []

    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        starts.append(time.perf_counter())

    def after(outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        took = (time.perf_counter() - starts.pop()) * 1e6
        names = ",".join(i.plugin_name for i in reversed(impls)) or "-"
        print(f"kaiju-trace: hook={hook_name} plugins={names} duration_us={took:.0f}", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def _tracing() -> bool:
    return os.environ.get(TRACE_ENV, "").strip() not in ("", "0", "false", "no")


def _trace(hook_name: str, plugin: str, start: float) -> None:
    took = (time.perf_counter() - start) * 1e6
    print(f"kaiju-trace: hook={hook_name} plugins={plugin} duration_us={took:.0f}", file=sys.stderr)


def _impls(pm: pluggy.PluginManager, hook_name: str) -> list[Any]:
    caller = getattr(pm.hook, hook_name)
    return [i for i in reversed(caller.get_hookimpls()) if not (i.hookwrapper or i.wrapper)]


def _failed(impl: Any, what: str, hook_name: str, exc: Exception) -> PluginError:
    return PluginError(f"plugin {impl.plugin_name!r}: {what} {hook_name} raised {type(exc).__name__}: {exc}")


def _call(impl: Any, hook_name: str, kwargs: dict[str, Any], trace: bool, what: str = "hook") -> Any:
    """Call one implementation with the arguments it asks for; errors name its plugin."""
    start = time.perf_counter()
    try:
        result = impl.function(**{a: kwargs[a] for a in impl.argnames})
    except Exception as exc:
        raise _failed(impl, what, hook_name, exc) from exc
    if trace:
        _trace(hook_name, impl.plugin_name, start)
    return result


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a hook's implementations one by one (pluggy call order) -> ``[(plugin, result)]``.

    Unlike ``pm.hook.<name>()``, an error names the plugin that raised it.
    """
    trace = _tracing()
    out = []
    for impl in _impls(pm, hook_name):
        result = _call(impl, hook_name, kwargs, trace)
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


async def await_lifecycle(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> None:
    """Call a lifecycle hook, awaiting each implementation's result in call order."""
    trace = _tracing()
    for impl in _impls(pm, hook_name):
        result = _call(impl, hook_name, kwargs, trace, "lifecycle hook")
        if inspect.isawaitable(result):
            try:
                await result
            except Exception as exc:
                raise _failed(impl, "lifecycle hook", hook_name, exc) from exc


def collect(app: Any, hook_name: str) -> list[Any]:
    """Results of a hook for an app's active plugins (call once at start-up, not per request)."""
    return [result for _, result in call_each(app[PLUGINS_KEY].pm, hook_name, app=app)]


def collect_first(app: Any, hook_name: str) -> Any:
    """The first non-``None`` result of a hook for an app's active plugins (pluggy order)."""
    trace = _tracing()
    for impl in _impls(app[PLUGINS_KEY].pm, hook_name):
        result = _call(impl, hook_name, {"app": app}, trace)
        if result is not None:
            return result
    return None
