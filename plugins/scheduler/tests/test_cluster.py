"""cluster_wide tasks through the kernel's lock-provider interface (no Redis: an in-memory provider)."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import zlib
from typing import Any

import pytest
from aiohttp import web
from kaiju_plugins.scheduler import InvalidTaskError, NoLockProviderError, Scheduler
from kaiju_tools import init_app, settings_from_mapping
from kaiju_tools.app import get_services
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.plugins import DISABLE_ENV, Plugins


class MemoryLocks:
    """A lock provider shared by the apps of one process (TTL on the loop clock)."""

    def __init__(self, fail: bool = False) -> None:
        self.held: dict[str, tuple[str, float]] = {}
        self.fail = fail
        self.hang = False  # renewals never answer (a network partition)
        self.count = 0

    def _live(self, key: str) -> tuple[str, float] | None:
        found = self.held.get(key)
        if found is not None and found[1] <= asyncio.get_running_loop().time():
            del self.held[key]
            return None
        return found

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> str | None:
        if self.fail:
            raise ConnectionError("backend down")
        if self._live(key) is not None:
            return None
        self.count += 1
        token = f"t{self.count}"
        self.held[key] = (token, asyncio.get_running_loop().time() + ttl)
        return token

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        if self.hang:
            await asyncio.Event().wait()
        found = self._live(key)
        if found is None or found[0] != token:
            return False
        self.held[key] = (token, asyncio.get_running_loop().time() + ttl)
        return True

    async def release(self, key: str, token: str) -> bool:
        found = self._live(key)
        if found is None or found[0] != token:
            return False
        del self.held[key]
        return True


class Provides:
    def __init__(self, provider: object) -> None:
        self.provider = provider

    @hookimpl
    def kaiju_lock_provider(self, app: web.Application) -> object:
        return self.provider


def make_app(*plugins: object) -> web.Application:
    manager = Plugins(environ={DISABLE_ENV: "rpc,logging"})
    manager.load_first_party()
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=f"locks{index}")
    return init_app(settings_from_mapping({"main": {"name": "c"},
                                           "services": [{"cls": "Scheduler"}]}, manager))


async def job() -> None:
    """A task body."""


def test_refused_without_a_lock_provider() -> None:
    for scheduler in (Scheduler(), get_services(make_app()).get("scheduler")):
        with pytest.raises(NoLockProviderError,
                           match=r"task 'once' .*cluster_wide=True needs a lock provider"):
            scheduler.schedule_task(job, 1, name="once", cluster_wide=True)
        assert scheduler.tasks == {}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cluster_wide": 1}, "cluster_wide must be True or False, got 1"),
        ({"lock_ttl": 5}, "lock_ttl=5 applies only to cluster_wide=True tasks"),
        ({"cluster_wide": True, "lock_ttl": -1}, "lock_ttl must be a number of seconds > 0, got -1"),
        ({"cluster_wide": True, "cancel_on_lock_loss": "yes"},
         "cancel_on_lock_loss must be True or False, got 'yes'"),
        ({"cluster_wide": True, "lock_ttl": 0.1},
         r"task 'x': lock_ttl=0.1: lock 'scheduler:c:x:running': ttl=0.1 s is too short for its "
         r"safety margin of 0.11 s"),
    ],
)
def test_bad_cluster_arguments(kwargs: dict[str, Any], expected: str) -> None:
    scheduler = get_services(make_app(Provides(MemoryLocks()))).get("scheduler")
    with pytest.raises(InvalidTaskError, match=expected):
        scheduler.schedule_task(job, 1, name="x", **kwargs)


def test_two_schedulers_run_each_due_time_once(run: Any, until: Any) -> None:
    locks = MemoryLocks()
    interval, name = 0.05, "c.tick"
    runs: list[tuple[int, float]] = []

    async def main() -> list[Any]:
        runners = [web.AppRunner(make_app(Provides(locks))) for _ in range(2)]
        tasks = []
        for number, runner in enumerate(runners):
            await runner.setup()

            async def tick(number: int = number) -> None:
                # the due time this run is for (the grid point, as the scheduler numbers it)
                grid = tasks[number].schedule.run_grid + time.time() - asyncio.get_running_loop().time()
                runs.append((number, grid))

            scheduler = get_services(runner.app).get("scheduler")
            tasks.append(scheduler.schedule_task(tick, interval, name=name, cluster_wide=True,
                                                 run_at_start=True))
        try:
            await until(lambda: len(runs) >= 20, "20 runs")
        finally:
            for runner in runners:
                await runner.cleanup()
        return tasks

    tasks = run(main())
    offset = zlib.crc32(name.encode()) / 2**32 * interval
    numbers = [round((t - offset) / interval) for _, t in runs]
    assert max(collections.Counter(numbers).values()) == 1
    assert sum(t.runs for t in tasks) == len(runs)
    assert sum(t.runs + t.elsewhere for t in tasks) >= 2 * len(runs) - 2  # both saw (almost) every due time
    assert tasks[1].elsewhere >= 1  # at least the start period, run by the first
    assert tasks[0].info()["cluster_wide"] is True
    assert all(not key.endswith(":running") for key in locks.held)  # released after each run


def test_provider_failure_skips_runs(run: Any, until: Any, logs: Any) -> None:
    locks = MemoryLocks(fail=True)
    runs: list[int] = []

    async def tick() -> None:
        runs.append(1)

    async def main() -> Any:
        runner = web.AppRunner(make_app(Provides(locks)))
        await runner.setup()
        try:
            scheduler = get_services(runner.app).get("scheduler")
            task = scheduler.schedule_task(tick, 0.02, name="c.fail", cluster_wide=True)
            await until(lambda: task.lock_errors >= 3, "lock errors")
            locks.fail = False
            await until(lambda: task.runs >= 2, "runs after recovery")
            return task
        finally:
            await runner.cleanup()

    task = run(main())
    assert len(runs) == task.runs
    assert task.lock_errors >= 3
    assert "lock provider: ConnectionError: backend down" in (task.last_error or "")


@pytest.mark.parametrize("cancel", [True, False])
def test_a_run_whose_lock_lease_is_lost_is_cancelled(
    run: Any, until: Any, caplog: pytest.LogCaptureFixture, cancel: bool
) -> None:
    """The provider stops answering renewals while a run goes: once ``lock_ttl - margin``
    passed, the run is cancelled (or, with ``cancel_on_lock_loss=False``, only warned about)."""
    locks = MemoryLocks()
    events: list[str] = []

    async def long_job() -> None:
        events.append("start")
        try:
            await asyncio.sleep(1.5)  # longer than the lease without renewals (1 - 0.2 s)
            events.append("finished")
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async def main() -> Any:
        runner = web.AppRunner(make_app(Provides(locks)))
        await runner.setup()
        try:
            scheduler = get_services(runner.app).get("scheduler")
            task = scheduler.schedule_task(long_job, 60, name="c.long", cluster_wide=True, lock_ttl=1.0,
                                           run_at_start=True, cancel_on_lock_loss=cancel)
            await until(lambda: events, "the run")
            locks.hang = True
            await until(lambda: len(events) >= 2, "the run's end")
            await until(lambda: not task.running, "the run's clean-up")
            return task
        finally:
            await runner.cleanup()

    with caplog.at_level(logging.WARNING):
        task = run(main())
    lost = [r for r in caplog.records if r.getMessage().startswith("lock lease lost")]
    assert lost and getattr(lost[0], "data", {}).get("key") == "scheduler:c:c.long:running"
    if cancel:
        assert events == ["start", "cancelled"]
        assert task.cancelled == 1 and "its cluster lock was lost" in (task.last_error or "")
    else:
        assert events == ["start", "finished"]
        assert task.cancelled == 0
