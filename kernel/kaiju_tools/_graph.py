"""Dependency ordering: a stable topological sort that reports cycles."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from .exceptions import DependencyCycle

__all__ = ["start_order"]


def start_order(names: Sequence[str], deps: Mapping[str, Sequence[str]]) -> list[str]:
    """Order ``names`` so that each comes after its dependencies; ties keep ``names`` order.

    :raises DependencyCycle: with the names of one cycle, in order
    """
    index = {name: i for i, name in enumerate(names)}
    waiting = {name: {d for d in deps.get(name, ()) if d in index and d != name} for name in names}
    users: dict[str, list[str]] = {name: [] for name in names}
    for name, needs in waiting.items():
        for dep in needs:
            users[dep].append(name)
    ready = [(index[n], n) for n, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for user in users[name]:
            waiting[user].discard(name)
            if not waiting[user]:
                heapq.heappush(ready, (index[user], user))
    if len(order) != len(names):
        raise DependencyCycle(_find_cycle({n: w for n, w in waiting.items() if w}))
    return order


def _find_cycle(waiting: Mapping[str, set[str]]) -> list[str]:
    start = min(waiting)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min(waiting[node] & set(waiting)) if waiting[node] & set(waiting) else min(waiting[node])
        if node in seen:
            return [*path[seen[node]:], node]
        seen[node] = len(path)
        path.append(node)
