"""kaiju-plugin-metrics: Prometheus metrics for kaiju-kernel apps, on ``prometheus_client``.

A first-party, opt-in plugin: active only when ``packages:`` lists ``metrics`` (or
``kaiju-plugin-metrics``). ``GET /metrics`` (configurable; or a port of its own) serves RPC calls
and durations by method, load, busy rejections, HTTP requests by route, scheduler runs, service
states, log records by level and the process metrics. See ``docs/plugins/metrics.md``.
"""

from ._metrics import METRICS_KEY, SERVICE_STATES, UNKNOWN, Metrics, get_metrics, multiprocess_dir
from ._settings import DEFAULT_BUCKETS, MetricsSettings, parse_settings

__all__ = [
    "DEFAULT_BUCKETS",
    "METRICS_KEY",
    "SERVICE_STATES",
    "UNKNOWN",
    "Metrics",
    "MetricsSettings",
    "get_metrics",
    "multiprocess_dir",
    "parse_settings",
]
