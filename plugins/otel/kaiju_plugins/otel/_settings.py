"""The plugin's settings: ``etc.otel`` of the app's config, checked with dotted keys."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kaiju_tools.exceptions import ConfigProblem

__all__ = ["ATTRIBUTE_LEVELS", "EXPORTERS", "SPAN_KINDS", "OtelSettings", "parse_settings"]

EXPORTERS = ("otlp", "console", "none", "memory")
"""Values of ``etc.otel.exporter``: OTLP over HTTP (protobuf), the console (JSON on stdout),
none (spans are made, for propagation and log ids, and dropped), memory (kept in the
process for tests and benchmarks: ``get_tracing(app).exporter.get_finished_spans()``)."""

ATTRIBUTE_LEVELS = ("recommended", "required")
"""Values of ``etc.otel.attributes``: the semantic conventions' recommended attributes too, or
only the required ones (each attribute costs the SDK about 7000 instructions per span)."""

SPAN_KINDS = ("http", "rpc", "tasks", "client")
"""Keys of ``etc.otel.spans``: which spans are made (each ``true`` by default)."""

_KEYS = ("exporter", "endpoint", "headers", "timeout", "sample_ratio", "resource", "spans", "attributes")
_WHERE = "etc.otel"


@dataclass(frozen=True)
class OtelSettings:
    """What ``etc.otel`` says (every key optional)."""

    exporter: str = "otlp"
    """One of :data:`EXPORTERS`."""
    endpoint: str | None = None
    """OTLP/HTTP traces URL (default: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` /
    ``OTEL_EXPORTER_OTLP_ENDPOINT``, else ``http://localhost:4318/v1/traces``)."""
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP headers sent with every export (an API key...)."""
    timeout: float = 10.0
    """Seconds an export may take."""
    sample_ratio: float = 1.0
    """Fraction of new traces sampled (0..1); a propagated parent's decision is kept."""
    resource: dict[str, str] = field(default_factory=dict)
    """Resource attributes added to (or overriding) those from ``main``."""
    spans: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(SPAN_KINDS, True))
    """Which spans are made: ``http``, ``rpc``, ``tasks``, ``client``."""
    attributes: str = "recommended"
    """One of :data:`ATTRIBUTE_LEVELS`."""


def _kind(value: Any) -> str:
    return type(value).__name__


def parse_settings(raw: Any) -> tuple[OtelSettings, list[ConfigProblem]]:
    """Check ``etc.otel`` (``None``: all defaults); every problem names its dotted key.

    :return: the settings (defaults where a value was wrong) and the problems found
    """
    problems: list[ConfigProblem] = []

    def bad(key: str, problem: str, hint: str) -> None:
        problems.append(ConfigProblem(f"{_WHERE}.{key}" if key else _WHERE, problem, hint))

    if raw is None:
        return OtelSettings(), problems
    if not isinstance(raw, Mapping):
        bad("", f"expected a mapping, got {_kind(raw)} {raw!r:.60}", "write `etc: {otel: {exporter: otlp}}`")
        return OtelSettings(), problems
    values: dict[str, Any] = {}
    for key in raw:
        if key not in _KEYS:
            bad(str(key), "unknown key", f"the keys are {', '.join(_KEYS)}")
    exporter = raw.get("exporter", "otlp")
    if exporter not in EXPORTERS:
        bad("exporter", f"expected one of {', '.join(EXPORTERS)}, got {exporter!r:.60}",
            "use `exporter: otlp`")
    else:
        values["exporter"] = exporter
    endpoint = raw.get("endpoint")
    if endpoint is not None:
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            bad("endpoint", f"expected an http(s) URL, got {endpoint!r:.60}",
                "e.g. `endpoint: http://otel-collector:4318/v1/traces`")
        else:
            values["endpoint"] = endpoint
    for key in ("headers", "resource"):
        mapping = raw.get(key)
        if mapping is None:
            continue
        if not isinstance(mapping, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            bad(key, f"expected a mapping of strings to strings, got {mapping!r:.60}",
                f"e.g. `{key}: {{name: value}}` with quoted values")
        else:
            values[key] = dict(mapping)
    timeout = raw.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        bad("timeout", f"expected a positive number of seconds, got {timeout!r:.60}", "e.g. `timeout: 10`")
    else:
        values["timeout"] = float(timeout)
    ratio = raw.get("sample_ratio", 1.0)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
        bad("sample_ratio", f"expected a number from 0 to 1, got {ratio!r:.60}",
            "1 samples every trace, 0.1 one in ten")
    else:
        values["sample_ratio"] = float(ratio)
    level = raw.get("attributes", "recommended")
    if level not in ATTRIBUTE_LEVELS:
        bad("attributes", f"expected one of {', '.join(ATTRIBUTE_LEVELS)}, got {level!r:.60}",
            "`required` keeps only the attributes the semantic conventions require")
    else:
        values["attributes"] = level
    spans = raw.get("spans")
    if spans is not None:
        if not isinstance(spans, Mapping):
            bad("spans", f"expected a mapping, got {_kind(spans)}", "e.g. `spans: {tasks: false}`")
        else:
            chosen = dict.fromkeys(SPAN_KINDS, True)
            for key, on in spans.items():
                if key not in SPAN_KINDS:
                    bad(f"spans.{key}", "unknown span kind", f"the kinds are {', '.join(SPAN_KINDS)}")
                elif not isinstance(on, bool):
                    bad(f"spans.{key}", f"expected true or false, got {on!r:.60}", f"`{key}: false`")
                else:
                    chosen[key] = on
            values["spans"] = chosen
    return OtelSettings(**values), problems
