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

Run: ``python bench/scheduler_bench.py [--tasks 1000] [--seconds 5] [--reps 5] [--gc-freeze]``.
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
import zlib
from typing import Any

IMPLS = ("kaiju", "asyncio", "kaiju-same-phase", "asyncio-same-phase")
SCENARIOS = ("fixed", "mixed")


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


def measure(
    rec: Recorder, anchors: list[tuple[float, float]], t0: float, t1: float, cpu: float
) -> dict[str, Any]:
    ideal = sum(max(0, math.floor((t1 - a) / iv)) for a, iv in anchors)  # due times k >= 1 up to t1
    late = sorted(rec.late)
    pick = lambda q: late[min(len(late) - 1, int(q * len(late)))] * 1e3
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

    ivs = intervals(scenario, n)
    spread = not impl.endswith("same-phase")
    runner = run_kaiju if impl.startswith("kaiju") else run_asyncio
    print(json.dumps(asyncio.run(runner(ivs, seconds, spread))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after imports in every child")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "SCENARIO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.tasks, args.seconds, args.gc_freeze)
        return
    impls = args.impls.split(",")
    load_before = os.getloadavg()
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rep in range(args.reps):  # interleaved, so that machine noise hits every implementation
        for scenario in SCENARIOS:
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
    for scenario in SCENARIOS:
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
