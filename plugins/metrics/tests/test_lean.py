"""The lean one-process counters and histograms (``kaiju_plugins.metrics._lean``): what a scrape says
after known updates (parsed by prometheus_client's own parser), label checks, bucket edges, random
observations against a plain reference count, and the wrappers on lean and on the client's metrics."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.metrics import Metrics, MetricsSettings
from kaiju_plugins.metrics._lean import LeanCounter, LeanHistogram
from kaiju_plugins.metrics._wrappers import call_wrapper
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(registry: CollectorRegistry) -> Samples:
    """Every sample of the registry's exposition, parsed by prometheus_client."""
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def at(parsed: Samples, name: str, **labels: str) -> float:
    return parsed[(name, tuple(sorted(labels.items())))]


def test_a_counter_scrapes_as_the_clients_counter() -> None:
    registry = CollectorRegistry(auto_describe=True)
    calls = LeanCounter("rpc_calls", "RPC calls", ["method", "outcome"], namespace="kaiju", registry=registry)
    calls.labels("a.b", "result").inc()
    calls.labels("a.b", "result").inc(2.5)
    calls.labels(method="a.b", outcome="-32603").inc()
    parsed = scrape(registry)
    assert at(parsed, "kaiju_rpc_calls_total", method="a.b", outcome="result") == 3.5
    assert at(parsed, "kaiju_rpc_calls_total", method="a.b", outcome="-32603") == 1
    assert at(parsed, "kaiju_rpc_calls_created", method="a.b", outcome="result") > 1.7e9
    text = generate_latest(registry).decode()
    assert "# HELP kaiju_rpc_calls_total RPC calls\n# TYPE kaiju_rpc_calls_total counter\n" in text


def test_the_exposition_is_the_clients_own_but_for_created_times() -> None:
    def text(counter: Any, histogram: Any, registry: CollectorRegistry) -> list[str]:
        for value in (0.0005, 0.001, 0.02, 0.02, 7.0, 100.0):
            histogram.labels("m").observe(value)
        for outcome in ("result", "result", "-32601"):
            counter.labels("m", outcome).inc()
        return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]

    buckets = (0.001, 0.01, 0.1, 1.0, 10.0)
    lean, client = CollectorRegistry(), CollectorRegistry()
    ours = text(LeanCounter("c", "doc", ["method", "outcome"], namespace="ns", registry=lean),
                LeanHistogram("h_seconds", "doc", ["method"], namespace="ns", registry=lean, buckets=buckets),
                lean)
    theirs = text(Counter("c", "doc", ["method", "outcome"], namespace="ns", registry=client),
                  Histogram("h_seconds", "doc", ["method"], namespace="ns", registry=client, buckets=buckets),
                  client)
    assert ours == theirs


def test_histogram_buckets_sum_count_and_edges() -> None:
    registry = CollectorRegistry()
    hist = LeanHistogram("d_seconds", "Durations", ["method"], registry=registry, buckets=(0.1, 0.5, 1.0))
    child = hist.labels("m")
    for value in (0.05, 0.1, 0.3, 1.0, 2.0, math.inf):  # 0.1 and 1.0 sit on bounds: in those buckets
        child.observe(value)
    parsed = scrape(registry)
    cumulative = {"0.1": 2, "0.5": 3, "1.0": 4, "+Inf": 6}
    for le, count in cumulative.items():
        assert at(parsed, "d_seconds_bucket", method="m", le=le) == count
    assert at(parsed, "d_seconds_count", method="m") == 6
    assert at(parsed, "d_seconds_sum", method="m") == math.inf
    assert child.get() == ([(0.1, 2), (0.5, 3), (1.0, 4), (math.inf, 6)], math.inf)


def test_nan_goes_to_the_sum_and_no_bucket_as_in_the_client() -> None:
    hist = LeanHistogram("d", "doc", ["k"], buckets=(1.0,))
    child = hist.labels("x")
    child.observe(0.5)
    child.observe(math.nan)
    buckets, total = child.get()
    assert buckets == [(1.0, 1), (math.inf, 1)] and math.isnan(total)


def test_created_samples_follow_the_clients_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_DISABLE_CREATED_SERIES", "true")
    registry = CollectorRegistry()
    LeanCounter("c", "doc", ["k"], registry=registry).labels("x").inc()
    LeanHistogram("h", "doc", ["k"], registry=registry, buckets=(1.0,)).labels("x").observe(1)
    names = {name for name, _ in scrape(registry)}
    assert names == {"c_total", "h_bucket", "h_count", "h_sum"}


def test_label_errors_name_the_metric_and_its_labels() -> None:
    calls = LeanCounter("rpc_calls", "doc", ["method", "outcome"], namespace="kaiju")
    expected = r"kaiju_rpc_calls: expected 2 label values \(method, outcome\), got 1: \('a.b',\)"
    with pytest.raises(ValueError, match=expected):
        calls.labels("a.b")
    named = r"kaiju_rpc_calls: expected the labels \(method, outcome\), got \(method\)"
    with pytest.raises(ValueError, match=named):
        calls.labels(method="a.b")
    with pytest.raises(ValueError, match="by position or by name"):
        calls.labels("a.b", outcome="result")
    with pytest.raises(ValueError, match=r"can only be increased"):
        calls.labels("a.b", "result").inc(-1)
    with pytest.raises(ValueError, match=r"h: invalid label name 'le'"):
        LeanHistogram("h", "doc", ["le"], buckets=(1.0,))
    with pytest.raises(ValueError, match="needs label names"):
        LeanCounter("c", "doc", [])
    with pytest.raises(ValueError, match="buckets must increase"):
        LeanHistogram("h", "doc", ["k"], buckets=(1.0, 0.5))


def test_label_values_are_strings_and_children_are_kept_per_values() -> None:
    counter = LeanCounter("c", "doc", ["route", "status"])
    assert counter.labels("/x", 200) is counter.labels("/x", "200")
    counter.labels("/x", 200).inc()
    counter.remove("/x", 200)
    assert counter.labels("/x", "200").get() == 0
    counter.clear()
    assert next(iter(counter.collect())).samples == []


def test_a_name_taken_twice_is_refused_by_the_registry() -> None:
    registry = CollectorRegistry()
    Counter("c", "doc", ["k"], registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        LeanCounter("c", "doc", ["k"], registry=registry)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=60),
       st.lists(st.sampled_from([0.001, 0.01, 0.1, 0.25, 1.0, 2.5, 10.0, 60.0]), min_size=1, unique=True))
def test_random_observations_match_a_plain_count(values: list[float], bounds: list[float]) -> None:
    bounds.sort()
    registry = CollectorRegistry()
    hist = LeanHistogram("h", "doc", ["k"], registry=registry, buckets=bounds)
    for value in values:
        hist.labels("x").observe(value)
    parsed = scrape(registry)
    if not values:
        assert parsed == {}  # no child yet: no series
        return
    for bound in [*bounds, math.inf]:
        le = "+Inf" if bound == math.inf else repr(bound)
        assert at(parsed, "h_bucket", k="x", le=le) == sum(1 for v in values if v <= bound)
    assert at(parsed, "h_count", k="x") == len(values)
    total = 0.0
    for value in values:
        total += value
    assert at(parsed, "h_sum", k="x") == total  # added in the same order; the text keeps repr's digits


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 5)), max_size=50))
def test_random_counts_match_a_plain_count(updates: list[tuple[str, int]]) -> None:
    registry = CollectorRegistry()
    counter = LeanCounter("n", "doc", ["k"], registry=registry)
    expected: dict[str, int] = {}
    for key, amount in updates:
        counter.labels(key).inc(amount)
        expected[key] = expected.get(key, 0) + amount
    parsed = scrape(registry)
    assert {dict(labels)["k"]: v for (name, labels), v in parsed.items() if name == "n_total"} == expected


class _Server:
    """Duck-typed RPC server: ``a.ok`` and ``a.fail`` registered."""

    def ascribe(self, method: str) -> str:
        return method if method in ("a.ok", "a.fail") else "unknown"


def _drive(metrics: Metrics) -> Samples:
    """Calls through the plugin's call wrapper: a.ok x3, a.fail x2 (an RPC error), an unknown method."""
    metrics.server = _Server()

    class Refused(Exception):
        code = -32099

    async def call(method: str, params: Any) -> Any:
        if method == "a.fail":
            raise Refused
        return "ok"

    counted = call_wrapper(metrics)(call)

    async def go() -> None:
        for method in ("a.ok", "a.ok", "a.fail", "nope", "a.fail", "a.ok"):
            try:
                await counted(method, None)
            except Refused:
                pass

    asyncio.run(go())
    return scrape(metrics.registry)


def _check(parsed: Samples) -> None:
    assert at(parsed, "kaiju_rpc_calls_total", method="a.ok", outcome="result") == 3
    assert at(parsed, "kaiju_rpc_calls_total", method="a.fail", outcome="-32099") == 2
    assert at(parsed, "kaiju_rpc_calls_total", method="unknown", outcome="result") == 1
    assert at(parsed, "kaiju_rpc_call_duration_seconds_count", method="a.ok") == 3
    assert at(parsed, "kaiju_rpc_call_duration_seconds_bucket", method="a.fail", le="+Inf") == 2
    assert at(parsed, "kaiju_rpc_call_duration_seconds_bucket", method="a.ok", le="60.0") == 3


def test_one_process_uses_lean_metrics_and_the_wrapper_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = Metrics(MetricsSettings(process=False))
    assert isinstance(metrics.rpc_calls, LeanCounter) and isinstance(metrics.rpc_duration, LeanHistogram)
    assert isinstance(metrics.http_requests, LeanCounter)
    _check(_drive(metrics))


def test_multiprocess_keeps_the_clients_metrics(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = Metrics(MetricsSettings(process=False))
    assert type(metrics.rpc_calls) is Counter and type(metrics.rpc_duration) is Histogram
    assert type(metrics.http_requests) is Counter and type(metrics.log_records) is Counter
    # the client chose its value class at import (no multiprocess dir then): the registry reads them
    _check(_drive(metrics))
