"""``list_tasks()``: every task with its settings, times and counters."""

from __future__ import annotations

import time
from typing import Any

from kaiju_plugins.scheduler import Scheduler


async def job() -> None:
    pass


KEYS = {
    "name",
    "method",
    "interval",
    "policy",
    "enabled",
    "running",
    "max_timeout",
    "retries",
    "run_at_start",
    "jitter",
    "last_run",
    "next_run",
    "last_duration",
    "last_error",
    "runs",
    "failures",
    "timeouts",
    "retried",
    "cancelled",
    "misfires",
    "cluster_wide",
    "elsewhere",
    "lock_errors",
    "cron",
    "tz",
    "at",
    "misfire_grace",
    "coalesce",
    "skipped",
}


def test_listing_before_start_has_no_times() -> None:
    scheduler = Scheduler()
    scheduler.schedule_task(job, 5, name="b", policy="SKIP", max_timeout=1, retries=2)
    scheduler.schedule_task(job, 5, name="a")
    listing = scheduler.list_tasks()
    assert [t["name"] for t in listing] == ["a", "b"]
    assert set(listing[1]) == KEYS
    assert listing[1] | {"method": None} == {
        "name": "b",
        "method": None,
        "interval": 5.0,
        "policy": "SKIP",
        "enabled": True,
        "running": False,
        "max_timeout": 1.0,
        "retries": 2,
        "run_at_start": False,
        "jitter": 0.0,
        "last_run": None,
        "next_run": None,
        "last_duration": None,
        "last_error": None,
        "runs": 0,
        "failures": 0,
        "timeouts": 0,
        "retried": 0,
        "cancelled": 0,
        "misfires": 0,
        "cluster_wide": False,
        "elsewhere": 0,
        "lock_errors": 0,
        "cron": None,
        "tz": None,
        "at": None,
        "misfire_grace": None,
        "coalesce": True,
        "skipped": 0,
    }
    assert listing[0]["method"].endswith("job")


def test_listing_while_running_gives_unix_times(run: Any, until: Any) -> None:
    async def main() -> None:
        async with Scheduler() as scheduler:
            task = scheduler.schedule_task(job, 3600, name="hourly", run_at_start=True)
            await until(lambda: task.runs == 1 and not task.running, "the start run")
            (info,) = scheduler.list_tasks()
            now = time.time()
            assert info["runs"] == 1 and info["last_duration"] is not None
            assert abs(info["last_run"] - now) < 600  # a Unix time, not a loop time
            assert 0 < info["next_run"] - info["last_run"] <= 3600 + 1e-6

    run(main())


def test_listing_is_plain_data() -> None:
    import json

    scheduler = Scheduler()
    scheduler.schedule_task(job, 1)
    json.dumps(scheduler.list_tasks())
