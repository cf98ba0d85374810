"""Lean labelled counters and histograms for one process: plain Python values, no locks.

``prometheus_client``'s own metrics pay, per update, a lock and a value object (which in
multiprocess mode is an mmap-backed file entry), and a histogram's ``observe`` loops over its
buckets. In one process the app's updates all run on its event loop's thread, so none of that is
needed: a :class:`LeanCounter` child is a float, a :class:`LeanHistogram` child a list of bucket
counts (the bucket found with :func:`bisect.bisect_left`) and a sum.

The values still reach the scrape through ``prometheus_client``: each lean metric is a custom
collector (its public API: ``collect()`` returning ``CounterMetricFamily`` /
``HistogramMetricFamily`` from ``prometheus_client.core``, added with ``registry.register``), so
the client writes the exposition format, with the names, help texts and samples its own
``Counter`` / ``Histogram`` write: ``<name>_total`` and ``<name>_created`` for a counter,
``<name>_bucket`` (cumulative, ``le`` up to ``+Inf``), ``<name>_count``, ``<name>_sum`` and
``<name>_created`` for a histogram. ``_created`` samples are left out when the environment sets
``PROMETHEUS_DISABLE_CREATED_SERIES`` (read when the metric is made, as the client reads it at
import; the client's ``disable_created_metrics()`` does not reach these metrics).

**Threads.** Nothing here takes a lock. An update is a read-modify-write of a Python attribute or
list item; under the GIL it never corrupts a value or raises, but updates of the *same child* from
two threads at once can lose increments. The plugin updates them from the event loop's thread
only (the RPC and HTTP wrappers, the scheduler's wrapper) and from a logging handler, whose
``emit`` runs under the handler's own lock. A scrape from another thread reads a snapshot of the
children (it may see an update half done: a bucket counted before its sum). Under
``PROMETHEUS_MULTIPROC_DIR`` the plugin uses ``prometheus_client``'s metrics instead (their
values live in the shared files).

Only the interface the plugin and its users need is offered: ``labels(*values)`` or
``labels(**values)`` returning a child with ``inc(amount=1)`` (counter) or ``observe(value)``
(histogram) and ``get()``; ``remove(*values)`` and ``clear()``. Lean metrics always have labels.
"""

from __future__ import annotations

import os
import re
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

__all__ = ["LeanCounter", "LeanCounterChild", "LeanHistogram", "LeanHistogramChild"]

_INF = float("inf")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").fullmatch
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").fullmatch


def _created_series() -> bool:
    """Whether ``_created`` samples are written (``PROMETHEUS_DISABLE_CREATED_SERIES``, as the client)."""
    return os.environ.get("PROMETHEUS_DISABLE_CREATED_SERIES", "False").lower() not in ("true", "1", "t")


class LeanCounterChild:
    """One labelled series of a :class:`LeanCounter`: ``value`` only grows (no lock: see the module)."""

    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        """The count; the plugin's wrappers add to it directly (``child.value += 1.0``)."""
        self.created = time.time()
        """When the series was made (the ``_created`` sample)."""

    def inc(self, amount: float = 1) -> None:
        """Add ``amount`` (not negative: a counter never goes down)."""
        if amount < 0:
            raise ValueError(f"a counter can only be increased, got inc({amount!r})")
        self.value += amount

    def get(self) -> float:
        """The count."""
        return self.value


class LeanHistogramChild:
    """One labelled series of a :class:`LeanHistogram` (no lock: see the module).

    ``buckets[i]`` counts the observations ``v`` with ``bounds[i-1] < v <= bounds[i]`` (not
    cumulative; the scrape adds them up); the last bound is ``+Inf``. The count is not kept
    apart: it is the sum of ``buckets`` (as ``prometheus_client``'s own histogram reports it).
    """

    __slots__ = ("bounds", "buckets", "created", "sum")

    def __init__(self, bounds: list[float]) -> None:
        self.bounds = bounds
        """The upper bounds, increasing, ending with ``+Inf`` (shared by the metric's children)."""
        self.buckets = [0] * len(bounds)
        """Observations per bucket, not cumulative."""
        self.sum = 0.0
        """The sum of the observations."""
        self.created = time.time()
        """When the series was made (the ``_created`` sample)."""

    def observe(self, value: float) -> None:
        """Count ``value`` in the first bucket whose bound is ``>= value`` and add it to the sum.

        A NaN adds to the sum (making it NaN) and to no bucket, as in ``prometheus_client``.
        """
        if value == value:  # not NaN
            self.buckets[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def get(self) -> tuple[list[tuple[float, int]], float]:
        """The cumulative buckets ``[(bound, count of values <= bound), ...]`` and the sum."""
        acc = 0
        cumulative: list[tuple[float, int]] = []
        for bound, count in zip(self.bounds, self.buckets, strict=True):
            acc += count
            cumulative.append((bound, acc))
        return cumulative, self.sum


Child = TypeVar("Child", LeanCounterChild, LeanHistogramChild)


class _Lean(Generic[Child]):
    """A labelled metric whose children are plain objects, exposed as a custom collector."""

    _reserved: tuple[str, ...] = ()

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str], *, namespace: str = "",
                 registry: CollectorRegistry | None = None) -> None:
        full = f"{namespace}_{name}" if namespace else name
        if not _NAME(full):
            raise ValueError(f"invalid metric name {full!r}")
        self.name = full
        """The full name (``<namespace>_<name>``; a counter's without ``_total``)."""
        self.documentation = documentation
        """The help text."""
        self.labelnames = tuple(labelnames)
        """The label names, in the order ``labels()`` takes the values."""
        if not self.labelnames:
            raise ValueError(f"{full}: a lean metric needs label names")
        for label in self.labelnames:
            if not _LABEL(label) or label.startswith("__") or label in self._reserved:
                raise ValueError(f"{full}: invalid label name {label!r}")
        if len(set(self.labelnames)) != len(self.labelnames):
            raise ValueError(f"{full}: repeated label names {self.labelnames!r}")
        self._created = _created_series()
        self._children: dict[tuple[str, ...], Child] = {}
        if registry is not None:
            registry.register(self)

    def _new_child(self) -> Child:
        raise NotImplementedError

    def _key(self, values: Sequence[object], named: dict[str, object]) -> tuple[str, ...]:
        """The label values as a tuple of strings, checked against the label names."""
        names = self.labelnames
        if named:
            if values:
                raise ValueError(f"{self.name}: label values by position or by name, not both")
            if set(named) != set(names):
                raise ValueError(f"{self.name}: expected the labels ({', '.join(names)}), "
                                 f"got ({', '.join(sorted(named))})")
            values = [named[label] for label in names]
        if len(values) != len(names):
            raise ValueError(f"{self.name}: expected {len(names)} label values ({', '.join(names)}), "
                             f"got {len(values)}: {tuple(values)!r}")
        return tuple(str(v) for v in values)

    def labels(self, *values: object, **named: object) -> Child:
        """The child of these label values (made on first use), by position or by name."""
        key = self._key(values, named)
        child = self._children.get(key)
        if child is None:
            child = self._children.setdefault(key, self._new_child())
        return child

    def remove(self, *values: object) -> None:
        """Forget the child of these label values (its series leaves the scrape)."""
        self._children.pop(self._key(values, {}), None)

    def clear(self) -> None:
        """Forget every child."""
        self._children.clear()

    def _family(self) -> Metric:
        raise NotImplementedError

    def describe(self) -> Iterator[Metric]:
        """The family without samples (the registry reads the names it takes)."""
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        """The family with each child's samples (the scrape; the client writes the text)."""
        raise NotImplementedError

    def _snapshot(self) -> list[tuple[tuple[str, ...], Child]]:
        # a copy: a child made while a scrape in another thread iterates does not break it
        return list(self._children.items())


class LeanCounter(_Lean[LeanCounterChild]):
    """A labelled counter of one process (``<name>_total``); children are :class:`LeanCounterChild`."""

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str], *, namespace: str = "",
                 registry: CollectorRegistry | None = None) -> None:
        if name.endswith("_total"):  # as prometheus_client's Counter: the suffix is the format's
            name = name[:-6]
        super().__init__(name, documentation, labelnames, namespace=namespace, registry=registry)

    def _new_child(self) -> LeanCounterChild:
        return LeanCounterChild()

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        """The counter family: ``_total`` (and ``_created``) per child."""
        family = self._family()
        created = self._created
        for key, child in self._snapshot():
            family.add_metric(key, child.value, created=child.created if created else None)
        yield family


class LeanHistogram(_Lean[LeanHistogramChild]):
    """A labelled histogram of one process; children are :class:`LeanHistogramChild`.

    :param buckets: upper bounds, increasing (``+Inf`` is added when missing); with a negative
        first bound the client's family writes no ``_sum`` and no ``_count`` (the plugin's are positive)
    """

    _reserved = ("le",)

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str], *, namespace: str = "",
                 registry: CollectorRegistry | None = None, buckets: Sequence[float]) -> None:
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must increase, got {list(buckets)!r}")
        if not bounds or bounds[-1] != _INF:
            bounds.append(_INF)
        if len(bounds) < 2:
            raise ValueError(f"{name}: at least one bucket below +Inf is needed")
        self.bounds = bounds
        """The upper bounds, increasing, ending with ``+Inf`` (shared by every child)."""
        # the ``le`` labels, as the client's own histogram writes them
        self._les: list[str] = [floatToGoString(b) for b in bounds]  # type: ignore[no-untyped-call]
        super().__init__(name, documentation, labelnames, namespace=namespace, registry=registry)

    def _new_child(self) -> LeanHistogramChild:
        return LeanHistogramChild(self.bounds)

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        """The histogram family: cumulative ``_bucket``, ``_count``, ``_sum`` (and ``_created``)."""
        family = self._family()
        names, les, created = self.labelnames, self._les, self._created
        for key, child in self._snapshot():
            cumulative, total = child.get()
            family.add_metric(key, [(le, acc) for le, (_, acc) in zip(les, cumulative, strict=True)], total)
            if created:
                family.add_sample(self.name + "_created", dict(zip(names, key, strict=True)), child.created)
        yield family
