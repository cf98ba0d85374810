"""Partition trials: two real processes, each behind its own TCP proxy process, contend for
one lock (or one cluster-wide task); the test cuts the current holder off (proxy paused
with SIGSTOP, or every connection dropped) until the other process takes over, then heals
the cut; 20 times. Both processes append ``<monotonic time> <process> <event> <fence>`` to
one timeline file; the holding intervals must never overlap."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from redis_support import GUARD, RedisServer, child_env
from tcp_proxy import Proxy

TTL = 1.0

WORKER = '''
import asyncio, os, sys, time
from kaiju_plugins.redis import LockNotAcquired, RedisLocks, RedisService, RedisUnavailableError

url, prefix, path, name, ttl = sys.argv[1:6]


def log(event, fence):
    with open(path, "a") as f:
        f.write(f"{time.monotonic()!r} {name} {event} {fence}\\n")


async def main():
    redis = RedisService(url=url, socket_timeout=2, connect_timeout=2)
    locks = RedisLocks(redis=redis, prefix=prefix)
    await redis.init()
    await locks.init()
    print("ready", flush=True)
    while True:
        try:
            async with locks.hold("hk", ttl=float(ttl), timeout=1) as held:
                log("start", held.fence)
                await held.lost.wait()  # the work goes on until the holder is told the lock is lost
                log("end", held.fence)
        except (LockNotAcquired, RedisUnavailableError):
            await asyncio.sleep(0.05)

asyncio.run(main())
'''

APP = '''
import asyncio, sys, time
from aiohttp import web
from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY, Scheduler, init_app

url, prefix, path, name, ttl = sys.argv[1:6]


def log(event, fence):
    with open(path, "a") as f:
        f.write(f"{time.monotonic()!r} {name} {event} {fence}\\n")


class Job(ContextableService):
    async def init(self):
        scheduler = self.discover_service(None, cls=Scheduler)
        scheduler.schedule_task(self.tick, 0.3, name="job.tick", cluster_wide=True, lock_ttl=float(ttl))

    async def tick(self):
        log("start", 0)
        try:
            await asyncio.sleep(3600)  # runs until cancelled (the lease lost, or shutdown)
        finally:
            log("end", 0)


SERVICE_CLASS_REGISTRY.register(Job)


async def main():
    app = init_app({"main": {"name": "t"}, "packages": ["redis"], "services": [
        {"cls": "RedisService", "settings": {"url": url, "socket_timeout": 2, "connect_timeout": 2}},
        {"cls": "RedisLocks", "settings": {"prefix": prefix}},
        {"cls": "Scheduler", "settings": {"shutdown_timeout": 0.5}},
        {"cls": "Job"},
    ]})
    runner = web.AppRunner(app)
    await runner.setup()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
'''


class Trials:
    """Two processes running ``code``, each through its own proxy, and their timeline."""

    def __init__(self, server: RedisServer, tmp: Path, code: str) -> None:
        self.path = tmp / "timeline.txt"
        prefix = f"trial-{uuid.uuid4().hex[:8]}:"
        self.proxies: dict[str, Proxy] = {}
        self.procs: dict[str, subprocess.Popen[str]] = {}
        for name in ("a", "b"):
            proxy = self.proxies[name] = Proxy(server.port)
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(code), proxy.url, prefix, str(self.path), name,
                 str(TTL)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
        for proc in self.procs.values():
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.communicate()[1]

    def events(self) -> list[tuple[float, str, str, int]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [(float(t), p, e, int(f)) for t, p, e, f in (line.split() for line in lines)]

    def wait_start(self, count: int) -> str:
        """Wait for the ``count``-th start; return the process that started."""
        deadline = time.monotonic() + GUARD
        while len(starts := [e for e in self.events() if e[2] == "start"]) < count:
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"process {name} exited: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, f"no start #{count}: {self.events()}"
            time.sleep(0.01)
        return starts[count - 1][1]

    def run(self, trials: int, seed: int) -> list[str]:
        """Cut the holder off ``trials`` times (pause and drop in turn); return the cuts."""
        rng = random.Random(seed)
        cuts = []
        holder = self.wait_start(1)
        for number in range(1, trials + 1):
            time.sleep(rng.uniform(0.0, TTL / 2))  # at any phase of the renewals
            proxy, cut = self.proxies[holder], ("pause", "drop")[number % 2]
            proxy.pause() if cut == "pause" else proxy.drop()
            try:
                taker = self.wait_start(number + 1)
            finally:
                proxy.resume() if cut == "pause" else proxy.accept()
            assert taker != holder, self.events()
            cuts.append(f"{cut} {holder}")
            holder = taker
        return cuts

    def close(self) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.communicate(timeout=GUARD)
        for proxy in self.proxies.values():
            proxy.stop()


def intervals(events: list[tuple[float, str, str, int]]) -> list[tuple[float, float, str, int]]:
    """``(start, end, process, fence)`` of each holding, in start order (``end`` may be open)."""
    open_: dict[str, tuple[float, int]] = {}
    found = []
    for at, proc, event, fence in events:
        if event == "start":
            assert proc not in open_, f"{proc} started twice without an end"
            open_[proc] = (at, fence)
        else:
            start, start_fence = open_.pop(proc)
            assert fence == start_fence
            found.append((start, at, proc, fence))
    found += [(start, float("inf"), proc, fence) for proc, (start, fence) in open_.items()]
    return sorted(found)


Span = tuple[float, float, str, int]


def overlaps(spans: list[Span]) -> list[tuple[Span, Span]]:
    return [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]


def gaps(spans: list[Span]) -> list[float]:
    return [b[0] - a[1] for a, b in itertools.pairwise(spans)]


def trials(server: RedisServer, tmp: Path, code: str, count: int) -> tuple[list[str], list[Span]]:
    run = Trials(server, tmp, code)
    try:
        cuts = run.run(count, seed=count)
    finally:
        run.close()
    return cuts, intervals(run.events())


def test_20_partitions_never_two_lock_holders(redis_server: RedisServer, tmp_path: Path) -> None:
    cuts, spans = trials(redis_server, tmp_path, WORKER, 20)
    assert len(cuts) == 20
    assert overlaps(spans) == []
    fences = [fence for *_, fence in spans]
    assert fences == sorted(fences) and len(set(fences)) == len(fences), fences  # strictly increasing
    found = gaps(spans)
    print(f"lock partition trials: {len(cuts)} cuts ({sum(c.startswith('pause') for c in cuts)} pause, "
          f"{sum(c.startswith('drop') for c in cuts)} drop), {len(spans)} holdings, 0 overlaps; "
          f"gap between a cut-off holder's end and the next start: min {min(found):.3f} s, "
          f"max {max(found):.3f} s "
          f"(TTL {TTL:g} s, margin {0.1 * TTL + 0.1:.1f} s)")


def test_a_cluster_wide_task_never_runs_twice_across_partitions(redis_server: RedisServer,
                                                                tmp_path: Path) -> None:
    cuts, spans = trials(redis_server, tmp_path, APP, 6)
    assert len(cuts) == 6
    assert overlaps(spans) == []
    found = gaps(spans)
    print(f"cluster-wide task partition trials: {len(cuts)} cuts, {len(spans)} runs, 0 overlaps; "
          f"gap between the cancelled run's end and the next run: min {min(found):.3f} s, "
          f"max {max(found):.3f} s")
