"""The scheduler's cluster-wide tasks over RedisLocks: once per due time, failover, refusal."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
import zlib
from typing import Any

import pytest
from kaiju_plugins.scheduler import InvalidTaskError, NoLockProviderError, Scheduler
from kaiju_tools import init_app
from kaiju_tools.app import get_services
from redis_support import RedisServer, run, settings, started_app, until


async def job() -> None:
    """A task body."""


def slots(times: list[float], name: str, interval: float) -> list[int]:
    """Due-time numbers of runs started at Unix ``times`` (the scheduler's wall-clock grid)."""
    offset = zlib.crc32(name.encode()) / 2**32 * interval
    return [round((t - offset) / interval) for t in times]


def test_without_a_lock_provider_a_cluster_wide_task_is_refused() -> None:
    apps = [
        init_app({"main": {"name": "t"}, "services": [{"cls": "Scheduler"}]}),
        init_app({"main": {"name": "t"}, "packages": ["redis"],  # Redis but no RedisLocks
                  "services": [{"cls": "RedisService"}, {"cls": "Scheduler"}]}),
    ]
    for scheduler in [Scheduler(), *(get_services(app).get("scheduler") for app in apps)]:
        with pytest.raises(NoLockProviderError) as info:
            scheduler.schedule_task(job, 1, name="once", cluster_wide=True)
        text = str(info.value)
        assert "task 'once'" in text and "cluster_wide=True needs a lock provider" in text
        assert "list `redis` in `packages:`" in text and "- cls: RedisLocks" in text
        assert scheduler.tasks == {}  # nothing scheduled, so nothing runs N times


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cluster_wide": "yes"}, "cluster_wide must be True or False, got 'yes'"),
        ({"lock_ttl": 5}, "lock_ttl=5 applies only to cluster_wide=True tasks"),
        ({"cluster_wide": True, "lock_ttl": 0}, "lock_ttl must be a number of seconds > 0, got 0"),
    ],
)
def test_bad_cluster_arguments(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidTaskError, match=expected):
        Scheduler().schedule_task(job, 1, name="x", **kwargs)


def test_two_apps_share_a_task_once_per_due_time(redis_server: RedisServer) -> None:
    """Two apps (two pools, two schedulers) in one loop: every due time runs exactly once."""
    interval, name = 0.2, "job.tick"
    prefix = f"cl-{uuid.uuid4().hex[:8]}:"
    runs: list[tuple[int, float]] = []

    def config() -> dict[str, Any]:
        return settings(redis_server.url, {"cls": "RedisLocks", "settings": {"prefix": prefix}},
                        {"cls": "Scheduler"})

    async def main() -> list[Any]:
        runners = [await started_app(config()) for _ in range(2)]
        tasks = []
        try:
            for number, runner in enumerate(runners):
                async def tick(number: int = number) -> None:
                    runs.append((number, time.time()))

                scheduler = get_services(runner.app).get("scheduler")
                tasks.append(scheduler.schedule_task(tick, interval, name=name, cluster_wide=True))
            await until(lambda: len(runs) >= 12, "12 runs")
        finally:
            for runner in runners:
                await runner.cleanup()
        return tasks

    tasks = run(main())
    numbers = slots([t for _, t in runs], name, interval)
    counts = collections.Counter(numbers)
    assert max(counts.values()) == 1, counts  # never twice
    lost = (max(numbers) - min(numbers) + 1) - len(numbers)
    assert lost <= sum(t.misfires for t in tasks)  # a gap only if both loops were blocked
    assert sum(t.runs for t in tasks) == len(runs)
    assert sum(t.runs + t.elsewhere for t in tasks) >= 2 * len(runs) - 2  # each due time seen twice
    print(f"two apps: {len(runs)} runs, by app {collections.Counter(n for n, _ in runs)}, lost {lost}")


def test_provider_outage_skips_runs_and_never_runs_unguarded(own_server: RedisServer) -> None:
    interval, prefix = 0.1, f"cl-out-{uuid.uuid4().hex[:8]}:"
    runs: list[float] = []

    async def tick() -> None:
        runs.append(time.time())

    async def main() -> Any:
        config = settings(own_server.url, {"cls": "RedisLocks", "settings": {"prefix": prefix}},
                          {"cls": "Scheduler"})
        config["services"][0]["settings"].update(connect_timeout=0.2, socket_timeout=0.5, retries=0)
        runner = await started_app(config)
        try:
            task = get_services(runner.app).get("scheduler").schedule_task(tick, interval, name="t.tick",
                                                                           cluster_wide=True)
            await until(lambda: task.runs >= 2, "runs")
            own_server.stop()
            await until(lambda: task.lock_errors >= 3, "lock errors")
            during = task.runs
            assert "lock provider: RedisUnavailableError" in (task.last_error or "")
            own_server.start()
            await until(lambda: task.runs >= during + 3, "runs after the restart")
            await asyncio.sleep(0)
            return task, during
        finally:
            await runner.cleanup()

    task, during = run(main())
    assert task.runs == len(runs)
    print(f"outage: {task.lock_errors} due times skipped while Redis was down, runs resumed after")
    assert during <= task.runs - 3
