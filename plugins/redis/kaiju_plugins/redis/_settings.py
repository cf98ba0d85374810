"""Validation of service settings, with errors that name the config key and the fix."""

from __future__ import annotations

import contextlib
import math
from typing import Any

from kaiju_tools.exceptions import ConfigError, ConfigProblem

__all__ = ["bad_setting", "check_name", "check_number", "check_redis", "setting_key"]


def setting_key(service: Any, key: str) -> str:
    """``services[2].settings.port``-style path of a setting of ``service``."""
    where = f"services.{service.service_name}.settings.{key}"
    with contextlib.suppress(Exception):  # a service built outside a kaiju app
        from kaiju_tools.app import get_services

        if service.app is not None:
            where = f"{get_services(service.app).entry(service.service_name).key}.settings.{key}"
    return where


def bad_setting(service: Any, key: str, expected: str, value: Any, hint: str = "") -> ConfigError:
    """A :class:`ConfigError` for one bad setting (raise it)."""
    cls = type(service).__name__
    return ConfigError(ConfigProblem(
        setting_key(service, key),
        f"{cls} {service.service_name!r}: `{key}` must be {expected}, got {value!r}",
        hint or f"fix or remove `{key}:` in the settings of service {service.service_name!r}",
    ))


def check_number(service: Any, key: str, value: Any, *, minimum: float, none_ok: bool = False,
                 integer: bool = False, above: bool = False) -> Any:
    """Return ``value`` when it is a finite number ``>= minimum`` (``> minimum`` with ``above``)."""
    if value is None and none_ok:
        return None
    kinds = (int,) if integer else (int, float)
    ok = (not isinstance(value, bool) and isinstance(value, kinds) and math.isfinite(value)
          and (value > minimum if above else value >= minimum))
    if not ok:
        what = "an integer" if integer else "a number"
        bound = f"> {minimum:g}" if above else f">= {minimum:g}"
        raise bad_setting(service, key, f"{what} {bound}" + (" or null" if none_ok else ""), value)
    return value


def check_name(service: Any, key: str, value: Any, *, none_ok: bool = False) -> Any:
    """Return ``value`` when it is a non-empty string."""
    if value is None and none_ok:
        return None
    if not isinstance(value, str) or not value:
        raise bad_setting(service, key, "a non-empty string" + (" or null" if none_ok else ""), value)
    return value


def check_redis(service: Any, value: Any) -> Any:
    """``value`` when it is a :class:`~.service.RedisService` (the ``redis`` setting, resolved by the
    service container), else a :class:`ConfigError` naming the key and the fix."""
    from .service import RedisService  # service.py imports this module

    if not isinstance(value, RedisService):
        raise bad_setting(service, "redis", "the name of a RedisService", value,
                          "add `- cls: RedisService` to `services:` before this service")
    return value
