"""Two real app processes share a cluster-wide task; one is killed (SIGKILL), the other goes on.

Each process appends ``<pid> <unix time>`` to one file at each run it wins. From the times
the test computes the due-time numbers: each must appear once, and none may be missing
except (bounded) while a killed holder's lock waits for its TTL.
"""

from __future__ import annotations

import collections
import json
import math
import signal
import subprocess
import sys
import textwrap
import time
import uuid
import zlib
from pathlib import Path

from redis_support import GUARD, RedisServer, child_env

INTERVAL, TTL, NAME = 0.4, 1.0, "job.tick"

APP = '''
import asyncio, json, os, signal, sys, time
from aiohttp import web
from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY, Scheduler, init_app
from kaiju_tools.app import get_services

url, prefix, path, slow_flag, interval, ttl = sys.argv[1:7]


class Job(ContextableService):
    async def init(self):
        scheduler = self.discover_service(None, cls=Scheduler)
        scheduler.schedule_task(self.tick, float(interval), name="job.tick", cluster_wide=True,
                                lock_ttl=float(ttl))

    async def tick(self):
        with open(path, "a") as f:
            f.write(f"{os.getpid()} {time.time()!r}\\n")
        if os.path.exists(slow_flag):
            await asyncio.sleep(3600)  # a long run: the process holds the running lock


SERVICE_CLASS_REGISTRY.register(Job)


async def main():
    app = init_app({"main": {"name": "t"}, "packages": ["redis"], "services": [
        {"cls": "RedisService", "settings": {"url": url}},
        {"cls": "RedisLocks", "settings": {"prefix": prefix}},
        {"cls": "Scheduler", "settings": {"shutdown_timeout": 0.5}},
        {"cls": "Job"},
    ]})
    runner = web.AppRunner(app)
    await runner.setup()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    (info,) = get_services(app).get("scheduler").list_tasks()
    await runner.cleanup()
    print(json.dumps(info), flush=True)

asyncio.run(main())
'''


class Pair:
    """Two app processes sharing one Redis (and one lock prefix)."""

    def __init__(self, server: RedisServer, tmp: Path) -> None:
        self.server = server
        self.prefix = f"fo-{uuid.uuid4().hex[:8]}:"
        self.path = tmp / "runs.txt"
        self.slow = tmp / "slow"
        args = [server.url, self.prefix, str(self.path), str(self.slow), str(INTERVAL), str(TTL)]
        self.procs = {}
        for _ in range(2):
            proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(APP), *args],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=child_env())
            self.procs[proc.pid] = proc
        for proc in self.procs.values():
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.communicate()[1]

    def runs(self) -> list[tuple[int, float]]:
        if not self.path.exists():
            return []
        return [(int(p), float(t)) for p, t in (line.split() for line in self.path.read_text().splitlines())]

    def wait_runs(self, count: int) -> list[tuple[int, float]]:
        deadline = time.monotonic() + GUARD
        while len(found := self.runs()) < count:
            assert time.monotonic() < deadline, f"only {len(found)} runs"
            time.sleep(0.01)
        return found

    def running_key(self) -> str:
        return f"{self.prefix}scheduler:t:{NAME}:running"

    def kill(self, pid: int) -> None:
        proc = self.procs.pop(pid)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=GUARD)

    def stop(self) -> list[dict[str, object]]:
        infos = []
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=GUARD)
            assert proc.returncode == 0, err
            infos.append(json.loads(out.splitlines()[-1]))
        return infos

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=GUARD)


def numbers(runs: list[tuple[int, float]]) -> list[int]:
    offset = zlib.crc32(NAME.encode()) / 2**32 * INTERVAL
    return [round((t - offset) / INTERVAL) for _, t in runs]


def test_idle_process_killed_none_lost(redis_server: RedisServer, tmp_path: Path) -> None:
    pair = Pair(redis_server, tmp_path)
    try:
        before = pair.wait_runs(4)
        victim = before[-1][0]
        client = redis_server.sync()
        deadline = time.monotonic() + GUARD
        while client.exists(pair.running_key()):  # kill it between runs, holding no lock
            assert time.monotonic() < deadline
            time.sleep(0.002)
        pair.kill(victim)
        killed_at = len(pair.runs())
        runs = pair.wait_runs(killed_at + 4)
        (survivor,) = pair.stop()
    finally:
        pair.close()
    runs = pair.runs()
    found = numbers(runs)
    assert max(collections.Counter(found).values()) == 1, found  # once per due time
    lost = (max(found) - min(found) + 1) - len(found)
    assert lost <= int(survivor["misfires"])  # a gap only if the survivor's loop was blocked
    assert all(pid != victim for pid, _ in runs[killed_at:])
    by_pid = collections.Counter(pid for pid, _ in runs)
    print(f"failover (idle victim): {len(runs)} runs, per process {sorted(by_pid.values())}, lost {lost}")


def test_holder_killed_mid_run_another_takes_over_within_interval_plus_ttl(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    pair = Pair(redis_server, tmp_path)
    try:
        pair.wait_runs(2)
        pair.slow.write_text("")
        start = len(pair.runs())
        runs = pair.wait_runs(start + 1)  # this run now sleeps, holding the running lock
        victim, _ = runs[start]
        pair.slow.unlink()
        time.sleep(INTERVAL * 1.5)  # the other process meets the held lock at least once
        pair.kill(victim)
        killed = time.time()
        runs = pair.wait_runs(start + 2)
        (survivor,) = pair.stop()
    finally:
        pair.close()
    runs = pair.runs()
    found = numbers(runs)
    assert max(collections.Counter(found).values()) == 1, found
    held_slot, next_slot = found[start], found[start + 1]
    took_over_after = runs[start + 1][1] - killed
    assert runs[start + 1][0] != victim
    skipped = next_slot - held_slot - 1
    bound = math.ceil((TTL + 1.5 * INTERVAL) / INTERVAL) + 1  # the run's own slack + TTL + one interval
    assert 1 <= skipped <= bound + int(survivor["misfires"])
    assert int(survivor["elsewhere"]) >= 1
    print(f"failover (holder killed mid-run): {skipped} due times skipped (bound {bound}), "
          f"took over {took_over_after:.2f} s after the kill (interval {INTERVAL} s + TTL {TTL} s)")
