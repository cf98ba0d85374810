"""The plugin's settings: ``etc.metrics`` of the app's config, checked with dotted keys."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kaiju_tools.exceptions import ConfigProblem

__all__ = ["DEFAULT_BUCKETS", "MetricsSettings", "parse_settings"]

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: the RPC duration histogram's buckets (1 ms .. 1 min)."""

_KEYS = ("path", "port", "host", "prefix", "buckets", "process")
_WHERE = "etc.metrics"
_PREFIX = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").fullmatch


@dataclass(frozen=True)
class MetricsSettings:
    """What ``etc.metrics`` says (every key optional)."""

    path: str = "/metrics"
    """The URL path of the scrape."""
    port: int | None = None
    """Serve the scrape on this port of its own (``None``: on the app's port)."""
    host: str = "0.0.0.0"
    """The address the separate port binds (with ``port``)."""
    prefix: str = "kaiju"
    """The namespace of every metric name (``<prefix>_rpc_calls_total``); ``""``: none."""
    buckets: tuple[float, ...] = field(default=DEFAULT_BUCKETS)
    """The duration histograms' upper bounds, seconds, increasing."""
    process: bool = True
    """Export the process metrics (CPU, memory, open files; single-process mode only)."""


def parse_settings(raw: Any) -> tuple[MetricsSettings, list[ConfigProblem]]:
    """Check ``etc.metrics`` (``None``: all defaults); every problem names its dotted key.

    :return: the settings (defaults where a value was wrong) and the problems found
    """
    if raw is None:
        return MetricsSettings(), []
    if not isinstance(raw, dict):
        return MetricsSettings(), [ConfigProblem(_WHERE, f"expected a mapping, got {type(raw).__name__}")]
    problems: list[ConfigProblem] = []
    values: dict[str, Any] = {}
    for key in raw:
        if key not in _KEYS:
            problems.append(ConfigProblem(f"{_WHERE}.{key}",
                                          f"unknown key; expected one of {', '.join(_KEYS)}"))
    path = raw.get("path", "/metrics")
    if isinstance(path, str) and path.startswith("/"):
        values["path"] = path
    else:
        problems.append(ConfigProblem(f"{_WHERE}.path",
                                      f"expected a URL path starting with '/', got {path!r}"))
    port = raw.get("port")
    if port is None or (isinstance(port, int) and not isinstance(port, bool) and 0 <= port < 65536):
        values["port"] = port
    else:
        problems.append(ConfigProblem(f"{_WHERE}.port", f"expected a TCP port (or null), got {port!r}"))
    host = raw.get("host", "0.0.0.0")
    if isinstance(host, str) and host:
        values["host"] = host
    else:
        problems.append(ConfigProblem(f"{_WHERE}.host", f"expected an address, got {host!r}"))
    prefix = raw.get("prefix", "kaiju")
    if isinstance(prefix, str) and (prefix == "" or _PREFIX(prefix)):
        values["prefix"] = prefix
    else:
        problems.append(ConfigProblem(f"{_WHERE}.prefix",
                                      f"expected a name prefix [a-zA-Z_][a-zA-Z0-9_]*, got {prefix!r}"))
    buckets = raw.get("buckets", DEFAULT_BUCKETS)
    if (isinstance(buckets, (list, tuple)) and buckets
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0 for b in buckets)
            and list(buckets) == sorted(set(buckets))):
        values["buckets"] = tuple(float(b) for b in buckets)
    else:
        problems.append(ConfigProblem(f"{_WHERE}.buckets",
                                      f"expected increasing positive seconds, got {buckets!r}"))
    process = raw.get("process", True)
    if isinstance(process, bool):
        values["process"] = process
    else:
        problems.append(ConfigProblem(f"{_WHERE}.process", f"expected true or false, got {process!r}"))
    return MetricsSettings(**values), problems
