"""Run-time schedules kept in Redis (``RedisSchedules``): the store, the scheduler's API over
it, restore at start, and one run per due time across apps and restarts."""

from __future__ import annotations

import asyncio
import collections
import datetime
import time
import uuid
from typing import Any

import pytest
from kaiju_plugins.redis import RedisSchedules
from kaiju_plugins.scheduler import InvalidTaskError
from kaiju_tools import SERVICE_CLASS_REGISTRY, ContextableService
from kaiju_tools.app import get_services
from kaiju_tools.schedules import ScheduleStore, get_schedule_store
from redis_support import RedisServer, run, settings, started_app, until

RUNS: dict[str, list[tuple[str, float]]] = collections.defaultdict(list)


class Ticker(ContextableService):
    """A service whose ``tick`` records ``(app id, Unix time)`` per run under its ``key``."""

    service_name = "ticker"

    def __init__(self, app: Any = None, logger: Any = None, key: str = "", who: str = "") -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        self.key, self.who = key, who

    async def tick(self) -> None:
        RUNS[self.key].append((self.who, time.time()))

    def plain(self) -> None:
        """Not async."""


SERVICE_CLASS_REGISTRY.register(Ticker)


def config(url: str, prefix: str, key: str, who: str = "a") -> dict[str, Any]:
    return settings(url, {"cls": "RedisLocks", "settings": {"prefix": prefix + "lock:"}},
                    {"cls": "RedisSchedules", "settings": {"prefix": prefix + "sched:"}},
                    {"cls": "Scheduler", "settings": {"cluster_prefix": prefix}},
                    {"cls": "Ticker", "settings": {"key": key, "who": who}})


def test_the_store_saves_loads_claims_and_deletes(redis_server: RedisServer) -> None:
    prefix = f"st-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        runner = await started_app(settings(redis_server.url,
                                            {"cls": "RedisSchedules", "settings": {"prefix": prefix}}))
        try:
            store = get_schedule_store(runner.app)
            assert isinstance(store, RedisSchedules) and isinstance(store, ScheduleStore)
            await store.save("ns:", "a", {"method": "x.y", "cron": "* * * * *"})
            assert await store.load("ns:") == {"a": {"method": "x.y", "cron": "* * * * *"}}
            assert await store.load("other:") == {}
            assert [await store.claim("ns:", "a", n) for n in (5, 5, 4, 6)] == [True, False, False, True]
            assert await store.claimed("ns:") == {"a": 6}
            assert await store.delete("ns:", "a") is True
            assert await store.delete("ns:", "a") is False
            assert await store.load("ns:") == {} and await store.claimed("ns:") == {}
        finally:
            await runner.cleanup()

    run(main())


def test_add_pause_resume_reschedule_run_now_remove(redis_server: RedisServer) -> None:
    prefix, key = f"dy-{uuid.uuid4().hex[:8]}:", uuid.uuid4().hex

    async def main() -> None:
        runner = await started_app(config(redis_server.url, prefix, key))
        try:
            scheduler = get_services(runner.app).get("scheduler")
            store = get_schedule_store(runner.app)
            info = await scheduler.add_schedule("every", "ticker.tick", interval=0.1)
            assert info["cluster_wide"] is True and info["next_run"] > time.time() - 1
            await until(lambda: len(RUNS[key]) >= 2, "runs")
            assert (await store.load(prefix))["every"]["interval"] == 0.1
            await scheduler.pause("every")
            assert (await store.load(prefix))["every"]["enabled"] is False
            count = len(RUNS[key])
            await asyncio.sleep(0.35)
            assert len(RUNS[key]) <= count + 1  # at most a run that had started
            info = await scheduler.run_now("every")
            assert info["started"] is True
            await until(lambda: len(RUNS[key]) > count, "the run-now")
            await scheduler.resume("every")
            assert (await store.load(prefix))["every"]["enabled"] is True
            info = await scheduler.reschedule("every", cron="* * * * * *")
            assert info["cron"] == "* * * * * *" and info["interval"] is None
            assert info["next_run"] - time.time() <= 1.01
            stored = (await store.load(prefix))["every"]
            assert (stored["cron"], stored["interval"], stored["method"]) == (
                "* * * * * *", None, "ticker.tick")
            listed = {t["name"]: t for t in scheduler.list_tasks()}
            assert listed["every"]["next_run"] is not None
            assert await scheduler.remove_schedule("every") is True
            assert await store.load(prefix) == {} and "every" not in scheduler.tasks
        finally:
            await runner.cleanup()

    run(main())


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("add_schedule", "x", "ticker.nope"), "no public method 'nope' on a service named 'ticker'"),
        (("add_schedule", "x", "tick"),
         "method must name a service's async method as '<service name>.<method name>'"),
        (("add_schedule", "x", "ticker.plain"), "method must be an async function"),
        (("pause", "missing"), "pause(): no task 'missing'"),
        (("reschedule", "missing"), "reschedule(): no task 'missing'"),
        (("remove_schedule", "missing"), "remove_schedule(): no task 'missing'"),
    ],
)
def test_bad_run_time_schedules_are_refused_clearly(redis_server: RedisServer, call: tuple[str, ...],
                                                     expected: str) -> None:
    prefix = f"bad-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        runner = await started_app(config(redis_server.url, prefix, "bad"))
        try:
            scheduler = get_services(runner.app).get("scheduler")
            with pytest.raises(InvalidTaskError) as info:
                await getattr(scheduler, call[0])(*call[1:])
            assert expected in str(info.value)
            with pytest.raises(InvalidTaskError, match="bad cron expression '61 \\* \\* \\* \\*'"):
                await scheduler.add_schedule("c", "ticker.tick", cron="61 * * * *")
            await scheduler.add_schedule("ok", "ticker.tick", interval=60)
            with pytest.raises(InvalidTaskError, match="give exactly one of interval="):
                await scheduler.reschedule("ok", interval=1, cron="* * * * *")
            assert scheduler.tasks["ok"].interval == 60  # a bad reschedule changes nothing
            assert list(await get_schedule_store(runner.app).load(prefix)) == ["ok"]
        finally:
            await runner.cleanup()

    run(main())


def test_schedules_are_restored_at_start_and_resume_after_the_last_claimed_due_time(
        redis_server: RedisServer) -> None:
    prefix, key = f"rs-{uuid.uuid4().hex[:8]}:", uuid.uuid4().hex

    async def main() -> None:
        runner = await started_app(config(redis_server.url, prefix, key))
        scheduler = get_services(runner.app).get("scheduler")
        await scheduler.add_schedule("sec", "ticker.tick", cron="* * * * * *", misfire_grace=5)
        await scheduler.add_schedule("paused", "ticker.tick", interval=0.1, enabled=False)
        at = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
        await scheduler.add_schedule("once", "ticker.tick", at=at)
        await until(lambda: len(RUNS[key]) >= 1, "a run")
        await runner.cleanup()
        stopped = time.time()
        await asyncio.sleep(2.2)  # two due times pass with no process running: within the grace
        runner = await started_app(config(redis_server.url, prefix, key))
        try:
            scheduler = get_services(runner.app).get("scheduler")
            tasks = scheduler.tasks
            assert sorted(tasks) == ["once", "paused", "sec"]
            assert tasks["paused"].enabled is False and tasks["once"].trigger.when.isoformat() == at
            await until(lambda: any(t > stopped + 2 for _, t in RUNS[key]), "the missed due times run")
            late = [t for _, t in RUNS[key] if t > stopped]
            assert late[0] < stopped + 2.5  # at once on start, not at the next second
            assert tasks["sec"].misfires >= 1  # the missed due times coalesced into that run
            claimed = (await get_schedule_store(runner.app).claimed(prefix))["sec"]
            assert claimed % 1000 == 0 and claimed / 1000 > stopped + 1  # the latest missed due time
        finally:
            await runner.cleanup()

    run(main())


def test_a_cron_schedule_runs_once_per_due_time_in_two_apps(redis_server: RedisServer) -> None:
    prefix, key = f"two-{uuid.uuid4().hex[:8]}:", uuid.uuid4().hex

    async def main() -> None:
        runners = [await started_app(config(redis_server.url, prefix, key, who)) for who in "ab"]
        try:
            await get_services(runners[0].app).get("scheduler").add_schedule("sec", "ticker.tick",
                                                                              cron="* * * * * *")
            for runner in runners[1:]:  # the other app learns it from the store at its next start
                await get_services(runner.app).get("scheduler").restore()
            await until(lambda: len(RUNS[key]) >= 4, "4 runs")
        finally:
            for runner in runners:
                await runner.cleanup()

    run(main())
    seconds = collections.Counter(round(t) for _, t in RUNS[key])
    assert max(seconds.values()) == 1, seconds


def test_other_processes_apply_run_time_changes_within_sync_interval(redis_server: RedisServer) -> None:
    prefix, key = f"sy-{uuid.uuid4().hex[:8]}:", uuid.uuid4().hex

    async def main() -> None:
        configs = [config(redis_server.url, prefix, key, who) for who in "ab"]
        for each in configs:
            each["services"][3]["settings"]["sync_interval"] = 0.1
        runners = [await started_app(each) for each in configs]
        one, other = (get_services(r.app).get("scheduler") for r in runners)
        try:
            await one.add_schedule("job", "ticker.tick", interval=0.1)
            await until(lambda: "job" in other.tasks, "the other app schedules it")
            await one.pause("job")
            await until(lambda: not other.tasks["job"].enabled, "the other app pauses it")
            await one.reschedule("job", cron="* * * * * *")
            await until(lambda: other.tasks["job"].trigger is not None, "the other app reschedules it")
            assert other.tasks["job"].enabled is False  # still paused
            await one.remove_schedule("job")
            await until(lambda: "job" not in other.tasks, "the other app removes it")
        finally:
            for runner in runners:
                await runner.cleanup()

    run(main())


def test_a_cron_task_in_code_can_be_cluster_wide(redis_server: RedisServer) -> None:
    """Was refused ("cluster_wide applies to interval= tasks only"): due times are now numbered
    by their wall-clock instant, so two apps run each cron due time once (over RedisLocks)."""
    prefix = f"cc-{uuid.uuid4().hex[:8]}:"
    runs: list[float] = []

    async def tick() -> None:
        runs.append(time.time())

    async def main() -> list[Any]:
        runners = [await started_app(settings(redis_server.url,
                                              {"cls": "RedisLocks", "settings": {"prefix": prefix}},
                                              {"cls": "Scheduler"})) for _ in range(2)]
        try:
            tasks = [get_services(r.app).get("scheduler").schedule_task(tick, cron="* * * * * *", name="sec",
                                                                        cluster_wide=True) for r in runners]
            await until(lambda: len(runs) >= 3, "3 runs")
        finally:
            for runner in runners:
                await runner.cleanup()
        return tasks

    tasks = run(main())
    seconds = collections.Counter(round(t) for t in runs)
    assert max(seconds.values()) == 1, seconds
    assert sum(t.elsewhere for t in tasks) >= len(runs) - 1  # the other app saw each due time too


def test_a_name_in_use_is_refused(redis_server: RedisServer) -> None:
    prefix = f"nu-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        runner = await started_app(config(redis_server.url, prefix, "nu"))
        try:
            scheduler = get_services(runner.app).get("scheduler")
            await scheduler.add_schedule("one", "ticker.tick", interval=60)
            with pytest.raises(InvalidTaskError, match="task 'one' is already scheduled on 'scheduler'"):
                await scheduler.add_schedule("one", "ticker.tick", cron="* * * * *")
        finally:
            await runner.cleanup()

    run(main())


def test_the_tasks_command_shows_stored_schedules_and_their_last_claimed_due_time(
        redis_server: RedisServer, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from kaiju_plugins.scheduler._commands import TasksCommand

    prefix, key = f"tc-{uuid.uuid4().hex[:8]}:", uuid.uuid4().hex

    async def main() -> None:
        runner = await started_app(config(redis_server.url, prefix, key))
        try:
            scheduler = get_services(runner.app).get("scheduler")
            await scheduler.add_schedule("sec", "ticker.tick", cron="* * * * * *", tz="Europe/Berlin")
            await until(lambda: len(RUNS[key]) >= 1, "a run")
            await until(lambda: not scheduler.tasks["sec"].running, "the run ended")
            assert await TasksCommand(None).run(runner.app, argparse.Namespace(json=False)) == 0  # type: ignore[arg-type]
        finally:
            await runner.cleanup()

    run(main())
    out = capsys.readouterr().out
    assert "sec  (scheduler: enabled, WAIT, cluster-wide, stored)" in out
    assert "trigger:  cron '* * * * * *' Europe/Berlin" in out
    assert "last:     ok; last due claimed 20" in out and "counts:   runs 0" not in out
