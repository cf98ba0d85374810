"""Scheduler benchmark: lateness, runs fired and CPU, against plain asyncio tasks.

Each (implementation, scenario, repetition) runs in a fresh process; the parent prints the
medians over repetitions, side by side. Scenarios: ``fixed`` -- N tasks every 0.1 s;
``mixed`` -- N tasks with intervals spread evenly over 0.1-0.2 s. Implementations:

- ``kaiju``: :class:`kaiju_plugins.scheduler.Scheduler` as configured by default
  (``spread: true``: each task's grid is shifted by a stable fraction of its interval);
- ``asyncio``: one plain task per job looping over ``asyncio.sleep`` until its next due
  time, with the same grids as ``kaiju`` (the baseline);
- ``kaiju-same-phase`` / ``asyncio-same-phase``: every grid starts at the same instant
  (``spread: false``): N runs fall due together, the worst case for lateness.

Lateness is ``start of the job's body - its due time`` where due times are
``anchor + k * interval`` (computed the same way for every implementation); "fired" is
runs recorded / due times passed during the run; CPU is process CPU time / wall time
over the measured window (start-up and tear-down excluded).

Scenario ``cron`` (``--scenarios cron``; ``kaiju`` and ``asyncio`` only): N cron tasks due
every minute, task ``i`` at second ``i % 60`` (``"<i % 60> * * * * *"``, the seconds field
first), so about N / 60 tasks fall due at each wall-clock second. Lateness is ``start of the
body - its wall-clock due time``; the baseline is one plain task per job sleeping until its
next due second. Every task runs once a minute, so ``--seconds`` below 60 measures the due
times of part of a minute (each second's N / 60 tasks alike).

Run: ``python bench/scheduler_bench.py [--tasks 1000] [--seconds 5] [--reps 5] [--gc-freeze]``;
cron: ``python bench/scheduler_bench.py --scenarios cron --tasks 10000 --seconds 65 --reps 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import zlib
from typing import Any

IMPLS = ("kaiju", "asyncio", "kaiju-same-phase", "asyncio-same-phase")
SCENARIOS = ("fixed", "mixed")
CRON_IMPLS = ("kaiju", "asyncio")


def intervals(scenario: str, n: int) -> list[float]:
    if scenario == "fixed":
        return [0.1] * n
    return [0.1 + 0.1 * i / max(n - 1, 1) for i in range(n)]


def cpu_time() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Recorder:
    """Collects lateness samples; the same code path for every implementation."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.loop = asyncio.get_running_loop()

    def record(self, anchor: float, interval: float) -> None:
        t = self.loop.time()
        k = math.floor((t - anchor) / interval)
        self.late.append(t - (anchor + k * interval))


async def run_kaiju(ivs: list[float], seconds: float, spread: bool) -> dict[str, Any]:
    from kaiju_plugins.scheduler import Scheduler

    scheduler = Scheduler(spread=spread, shutdown_timeout=1.0)
    rec = Recorder()
    tasks = []
    for i, iv in enumerate(ivs):
        box: list[Any] = []

        async def job(box: list[Any] = box, iv: float = iv) -> None:
            rec.record(box[0].anchor, iv)

        task = scheduler.schedule_task(job, iv, name=f"bench-{i}")
        box.append(task)
        tasks.append(task)
    await scheduler.init()  # starts: grids are anchored now
    anchors = [(t.anchor, t.interval) for t in tasks]
    cpu0, t0 = cpu_time(), rec.loop.time()
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu_time(), rec.loop.time()
    await scheduler.close()
    return measure(rec, anchors, t0, t1, cpu1 - cpu0)


async def run_asyncio(ivs: list[float], seconds: float, spread: bool) -> dict[str, Any]:
    rec = Recorder()
    loop = rec.loop
    start = loop.time()
    anchors = []
    for i, iv in enumerate(ivs):
        offset = zlib.crc32(f"bench-{i}".encode()) / 2**32 * iv if spread else 0.0
        anchors.append((start - offset, iv))

    async def worker(anchor: float, iv: float) -> None:
        k = 1
        while True:
            await asyncio.sleep(anchor + k * iv - loop.time())
            rec.record(anchor, iv)
            k = math.floor((loop.time() - anchor) / iv) + 1

    workers = [asyncio.create_task(worker(a, iv)) for a, iv in anchors]
    cpu0, t0 = cpu_time(), loop.time()
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu_time(), loop.time()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return measure(rec, anchors, t0, t1, cpu1 - cpu0)


class WallRecorder:
    """Lateness of runs due at whole wall-clock seconds (the cron scenario)."""

    def __init__(self) -> None:
        self.late: list[float] = []

    def record(self) -> None:
        t = time.time()
        self.late.append(t - math.floor(t))


async def run_kaiju_cron(n: int, seconds: float) -> dict[str, Any]:
    from kaiju_plugins.scheduler import Scheduler

    scheduler = Scheduler(shutdown_timeout=1.0)
    rec = WallRecorder()

    async def job() -> None:
        rec.record()

    for i in range(n):
        scheduler.schedule_task(job, cron=f"{i % 60} * * * * *", name=f"cron-{i}")
    await scheduler.init()
    return await measure_cron(rec, n, seconds, scheduler.close)


async def run_asyncio_cron(n: int, seconds: float) -> dict[str, Any]:
    rec = WallRecorder()
    loop = asyncio.get_running_loop()

    async def worker(second: int) -> None:
        while True:
            now = time.time()
            due = math.floor(now) + 1
            due += (second - due) % 60
            await asyncio.sleep(due - time.time())
            while time.time() < due:  # the loop's monotonic clock and the wall clock drift apart  # noqa: ASYNC110 -- the wall clock, not an event
                await asyncio.sleep(due - time.time())
            rec.record()

    workers = [loop.create_task(worker(i % 60)) for i in range(n)]

    async def stop() -> None:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    return await measure_cron(rec, n, seconds, stop)


async def measure_cron(rec: WallRecorder, n: int, seconds: float, stop: Any) -> dict[str, Any]:
    w0 = time.time()
    cpu0 = cpu_time()
    await asyncio.sleep(seconds)
    cpu1, w1 = cpu_time(), time.time()
    await stop()
    ideal = sum(1 for s in range(math.floor(w0) + 1, math.floor(w1) + 1)
                for _ in range(n // 60 + (s % 60 < n % 60)))
    late = sorted(rec.late)
    def pick(q: float) -> float:
        return late[min(len(late) - 1, int(q * len(late)))] * 1e3

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": late[-1] * 1e3, "fired": len(late) / ideal,
            "cpu": (cpu1 - cpu0) / (w1 - w0), "runs": len(late), "ideal": ideal}


def measure(
    rec: Recorder, anchors: list[tuple[float, float]], t0: float, t1: float, cpu: float
) -> dict[str, Any]:
    ideal = sum(max(0, math.floor((t1 - a) / iv)) for a, iv in anchors)  # due times k >= 1 up to t1
    late = sorted(rec.late)
    def pick(q: float) -> float:
        return late[min(len(late) - 1, int(q * len(late)))] * 1e3

    return {
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": late[-1] * 1e3,
        "fired": len(late) / ideal,
        "cpu": cpu / (t1 - t0),
        "runs": len(late),
        "ideal": ideal,
    }


def child(impl: str, scenario: str, n: int, seconds: float, gc_freeze: bool) -> None:
    import kaiju_plugins.scheduler  # noqa: F401 -- same modules (and GC heap) in every process

    if gc_freeze:  # what a server may do once its app is built: exclude start-up objects from GC
        import gc

        gc.freeze()

    if scenario == "cron":
        cron_runner = run_kaiju_cron if impl == "kaiju" else run_asyncio_cron
        print(json.dumps(asyncio.run(cron_runner(n, seconds))))
        return
    ivs = intervals(scenario, n)
    spread = not impl.endswith("same-phase")
    runner = run_kaiju if impl.startswith("kaiju") else run_asyncio
    print(json.dumps(asyncio.run(runner(ivs, seconds, spread))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--impls", default=None,
                        help=f"default {','.join(IMPLS)}; cron: {','.join(CRON_IMPLS)}")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="fixed,mixed (default) or cron")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after imports in every child")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "SCENARIO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.tasks, args.seconds, args.gc_freeze)
        return
    scenarios = args.scenarios.split(",")
    impls = (args.impls or ",".join(CRON_IMPLS if scenarios == ["cron"] else IMPLS)).split(",")
    load_before = os.getloadavg()
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rep in range(args.reps):  # interleaved, so that machine noise hits every implementation
        for scenario in scenarios:
            for impl in impls:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--tasks",
                        str(args.tasks),
                        "--seconds",
                        str(args.seconds),
                        *(["--gc-freeze"] if args.gc_freeze else []),
                        "--child",
                        impl,
                        scenario,
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results.setdefault((scenario, impl), []).append(json.loads(out.strip().splitlines()[-1]))
                print(f"rep {rep + 1}/{args.reps} {scenario:5} {impl:18} done", file=sys.stderr)
    load_after = os.getloadavg()
    print(
        f"# {args.tasks} tasks, {args.seconds:g} s, medians of {args.reps} fresh processes; "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
        f"{'; gc.freeze() after imports' if args.gc_freeze else ''}"
    )
    print("| scenario | implementation | lateness p50 | p99 | max | fired | CPU | CPU vs asyncio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for scenario in scenarios:
        for impl in impls:
            rows = results[(scenario, impl)]
            med = {
                k: statistics.median(r[k] for r in rows)
                for k in ("p50_ms", "p99_ms", "max_ms", "fired", "cpu")
            }
            base_impl = "asyncio-same-phase" if impl.endswith("same-phase") else "asyncio"
            ratio = ""
            if (scenario, base_impl) in results:
                base = statistics.median(r["cpu"] for r in results[(scenario, base_impl)])
                ratio = f"{med['cpu'] / base:.2f}x"
            print(
                f"| {scenario} | {impl} | {med['p50_ms']:.2f} ms | {med['p99_ms']:.2f} ms | "
                f"{med['max_ms']:.2f} ms | {med['fired'] * 100:.2f} % | {med['cpu'] * 100:.1f} % | {ratio} |"
            )


if __name__ == "__main__":
    main()
