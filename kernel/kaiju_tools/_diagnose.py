"""Diagnosing plugins: registration checks, misspelt hook names, which inactive plugin provides a class."""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .registry import close_matches

if TYPE_CHECKING:
    from .plugins import PluginInfo

__all__ = ["HOOK_NAMES", "UNKNOWN_CLASS", "check_async", "check_pending", "class_names", "unknown_hook"]


def check_async(pm: pluggy.PluginManager, module: Any, info: PluginInfo) -> str:
    for caller in pm.get_hookcallers(module) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not module:
                continue
            is_async = inspect.iscoroutinefunction(impl.function) or inspect.isasyncgenfunction(impl.function)
            if is_async and caller.name not in hookspecs.ASYNC_HOOKS:
                sig = f"async def {caller.name}{inspect.signature(impl.function)}"
                return (f"hook {caller.name} must not be async (`{sig}`): pluggy cannot await it. "
                        "Only lifecycle hooks may be async; make it a plain def")
            if (impl.hookwrapper or impl.wrapper) and caller.name in hookspecs.ASYNC_HOOKS:
                return f"hook {caller.name} cannot be a wrapper: lifecycle hooks are awaited one by one"
    return ""


HOOK_NAMES = frozenset(n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "kaiju_spec"))
UNKNOWN_CLASS = re.compile(r"unknown service class '(\w+)'")


def class_names(info: PluginInfo) -> list[str]:
    """Names of the service classes a plugin registers (``[]`` when it cannot be imported or asked)."""
    try:
        module = info.entry_point.load()
        classes = list(getattr(module, "kaiju_register_services", lambda: ())() or ())
    except Exception:  # noqa: BLE001 -- an inactive plugin that is broken explains nothing here
        return []
    return [getattr(c, "__name__", "") for c in classes]


def unknown_hook(name: str) -> str:
    hint = close_matches(name, HOOK_NAMES, n=1)
    return f"{name} is not a kaiju hook ({hint or 'see kaiju_tools.hookspecs for the names'})"


def check_pending(pm: pluggy.PluginManager, info: PluginInfo) -> str:
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        unknown = [n for n in info.hooks if n not in HOOK_NAMES]
        if unknown:
            return "unknown hook implementation: " + "; ".join(unknown_hook(n) for n in unknown)
        return f"unknown hook implementation: {exc} (check the name against kaiju_tools.hookspecs)"
    return ""
