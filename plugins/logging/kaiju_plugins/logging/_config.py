"""Checking the ``loggers`` / ``handlers`` settings of ``LoggingService``.

Every problem is collected (with its dotted config key and a hint) and raised together
as one :class:`kaiju_tools.ConfigError`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from kaiju_tools.caches import dataclass
from kaiju_tools.exceptions import ConfigProblem
from kaiju_tools.registry import close_matches

__all__ = ["HandlerSettings", "LoggerSettings", "check_settings"]

LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")
_HANDLER_KEYS = ("cls", "name", "level", "settings", "formatter", "formatter_settings", "enabled")
_LOGGER_KEYS = ("name", "handlers", "level", "propagate", "enabled")


@dataclass
class HandlerSettings:
    """One entry of ``handlers:``.

    :param cls: handler class name (``JSONHandler``, ``TextHandler``, or one a plugin registers)
    :param name: name loggers refer to it by (default: the class name)
    :param level: lowest level it writes (default: everything its loggers pass)
    :param settings: keyword arguments of the handler class (``stream: stderr``)
    :param formatter: formatter class name replacing the handler's default formatter
    :param formatter_settings: keyword arguments of the formatter class (of ``formatter``, else
        of the handler's own formatter: ``TextHandler`` with ``{pid: true}``)
    :param enabled: ``false`` leaves the handler out
    """

    cls: str
    name: str
    level: str = "NOTSET"
    settings: dict[str, Any] = field(default_factory=dict)
    formatter: str | None = None
    formatter_settings: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    key: str = ""
    """Dotted config key of this entry (``services[0].settings.handlers[1]``), for messages."""
    location: str = ""
    """`` (file:line)`` of this entry's settings, when known."""


@dataclass
class LoggerSettings:
    """One entry of ``loggers:``.

    :param name: logger name (``"[main_name]"`` for the app's logger, ``root`` or ``""`` for the root)
    :param handlers: ``true`` for every handler, or a list of handler names
    :param level: the logger's level (default: left as the kernel set it)
    :param propagate: also pass records to the parent logger's handlers (default: ``false``,
        so a record is never written twice)
    :param enabled: ``false`` leaves the logger untouched
    """

    name: str
    handlers: bool | list[str] = True
    level: str | None = None
    propagate: bool = False
    enabled: bool = True
    key: str = ""


def _no_location(key: str) -> str:
    return ""


class _Check:
    def __init__(self, where: str, locate: Callable[[str], str]) -> None:
        self.where = where
        self.locate = locate
        self.problems: list[ConfigProblem] = []

    def add(self, key: str, message: str, hint: str = "") -> None:
        self.problems.append(ConfigProblem(f"{self.where}.{key}{self.locate(key)}", message, hint))

    def level(self, value: Any, key: str) -> str | None:
        if isinstance(value, str) and value.upper() in LEVELS:
            return value.upper()
        hint = close_matches(str(value).upper(), LEVELS) if isinstance(value, str) else ""
        self.add(key, f"expected a log level name ({', '.join(LEVELS)}), got {value!r}", hint)
        return None

    def entries(self, value: Any, key: str, what: str) -> list[tuple[str, dict[str, Any]]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(key, f"expected a list of {what} settings, got {type(value).__name__}: {value!r}")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, Mapping):
                out.append((f"{key}[{i}]", dict(item)))
            else:
                self.add(f"{key}[{i}]", f"expected a mapping of {what} settings, got {item!r}")
        return out

    def unknown(self, item: Mapping[str, Any], allowed: tuple[str, ...], key: str) -> None:
        for name in item:
            if name not in allowed:
                hint = close_matches(str(name), allowed) or f"allowed keys: {', '.join(allowed)}"
                self.add(f"{key}.{name}", f"unknown key {name!r}", hint)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return dict(value)
        self.add(key, f"expected a mapping, got {type(value).__name__}: {value!r}")
        return {}

    def cls(self, name: Any, classes: Mapping[str, type], base: type, key: str, what: str) -> None:
        known = [n for n, c in classes.items() if issubclass(c, base)]
        if not isinstance(name, str) or name not in known:
            hint = (close_matches(str(name), known) if isinstance(name, str) else "") or (
                f"known {what} classes: {', '.join(sorted(known))}; a plugin can add more with "
                "the kaiju_register_log_handlers hook"
            )
            self.add(key, f"unknown {what} class {name!r}", hint)

    def kwargs(self, cls: type | None, kws: dict[str, Any], key: str) -> None:
        if cls is None:
            return
        try:
            params: Mapping[str, inspect.Parameter] = inspect.signature(cls).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            if not issubclass(cls, logging.Formatter):
                return
            # our formatters pass the rest on to logging.Formatter: check against both
            params = {**inspect.signature(logging.Formatter).parameters,
                      **{n: p for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}}
        for name in kws:
            if name not in params:
                accepts = ", ".join(params) or "nothing"
                hint = close_matches(name, params) or f"{cls.__name__} accepts: {accepts}"
                self.add(f"{key}.{name}", f"unknown setting {name!r} for {cls.__name__}", hint)


def check_settings(
    loggers: Any, handlers: Any, classes: Mapping[str, type], where: str,
    locate: Callable[[str], str] = _no_location,
) -> tuple[list[LoggerSettings], list[HandlerSettings], list[ConfigProblem]]:
    """Validate raw ``loggers`` / ``handlers`` settings; return them parsed, with all problems.

    :param classes: handler and formatter classes by name
    :param where: prefix of config keys in messages (``services[0].settings``)
    :param locate: ``" (file:line)"`` of a key below ``where`` (``"handlers[0].cls"``), or ``""``
    """
    check = _Check(where, locate)
    out_handlers: list[HandlerSettings] = []
    names: dict[str, str] = {}
    for key, item in check.entries(handlers, "handlers", "handler"):
        check.unknown(item, _HANDLER_KEYS, key)
        check.cls(item.get("cls"), classes, logging.Handler, f"{key}.cls", "handler")
        name = item.get("name", item.get("cls"))
        if not isinstance(name, str) or not name:
            check.add(f"{key}.name", f"expected a handler name (str), got {name!r}")
            continue
        entry = HandlerSettings(cls=str(item.get("cls")), name=name, key=f"{where}.{key}",
                               location=check.locate(f"{key}.settings") or check.locate(key))
        entry.enabled = bool(item.get("enabled", True))
        if item.get("level") is not None:
            entry.level = check.level(item["level"], f"{key}.level") or "NOTSET"
        entry.settings = check.mapping(item.get("settings"), f"{key}.settings")
        check.kwargs(classes.get(entry.cls), entry.settings, f"{key}.settings")
        if item.get("formatter") is not None:
            check.cls(item["formatter"], classes, logging.Formatter, f"{key}.formatter", "formatter")
            entry.formatter = str(item["formatter"])
        entry.formatter_settings = check.mapping(item.get("formatter_settings"), f"{key}.formatter_settings")
        if entry.formatter:
            check.kwargs(classes.get(entry.formatter), entry.formatter_settings, f"{key}.formatter_settings")
        elif entry.formatter_settings and entry.cls in classes:
            own = getattr(classes[entry.cls], "formatter_class", None)  # ours: TextHandler, JSONHandler
            if own is None:
                check.add(f"{key}.formatter_settings",
                          f"{entry.cls} has no formatter of its own to configure",
                          "name one with `formatter:` (TextFormatter, DataFormatter...)")
            else:
                check.kwargs(own, entry.formatter_settings, f"{key}.formatter_settings")
        if name in names:
            check.add(f"{key}.name", f"two handlers are named {name!r} ({names[name]} and {key})",
                      "give one of them another `name:`")
        names[name] = key
        out_handlers.append(entry)
    enabled = [h.name for h in out_handlers if h.enabled]
    out_loggers: list[LoggerSettings] = []
    for key, item in check.entries(loggers, "loggers", "logger"):
        check.unknown(item, _LOGGER_KEYS, key)
        name = item.get("name")
        if not isinstance(name, str):
            check.add(f"{key}.name", f"expected a logger name (str), got {name!r}",
                      'use "[main_name]" for the app logger or "root" for every logger')
            continue
        lentry = LoggerSettings(name=name, key=f"{where}.{key}")
        lentry.enabled = bool(item.get("enabled", True))
        lentry.propagate = bool(item.get("propagate", False))
        if item.get("level") is not None:
            lentry.level = check.level(item["level"], f"{key}.level")
        refs = item.get("handlers", True)
        if isinstance(refs, bool):
            lentry.handlers = refs
        elif isinstance(refs, list):
            lentry.handlers = []
            for i, ref in enumerate(refs):
                if not isinstance(ref, str):
                    check.add(f"{key}.handlers[{i}]", f"expected a handler name (str), got {ref!r}")
                elif ref in enabled:
                    lentry.handlers.append(ref)
                elif ref not in names:  # a disabled handler is left out quietly
                    hint = close_matches(str(ref), names) or (
                        f"defined handlers: {', '.join(names) or 'none'}; add it under `handlers:`"
                    )
                    check.add(f"{key}.handlers[{i}]", f"handler {ref!r} is not defined", hint)
        else:
            check.add(f"{key}.handlers", f"expected true or a list of handler names, got {refs!r}")
        out_loggers.append(lentry)
    return out_loggers, out_handlers, check.problems
