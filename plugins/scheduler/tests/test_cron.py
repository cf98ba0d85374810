"""cron= / at= triggers, time zones and DST, misfire_grace and coalesce, on fake clocks.

Fixed dates: Europe/Berlin springs forward on 2026-03-29 (02:00 CET -> 03:00 CEST) and
falls back on 2026-10-25 (03:00 CEST -> 02:00 CET).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kaiju_plugins.scheduler import InvalidTaskError, Scheduler
from kaiju_plugins.scheduler._triggers import CronTrigger, parse_cron

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC


def berlin(*args: int, fold: int = 0) -> float:
    return datetime.datetime(*args, tzinfo=BERLIN, fold=fold).timestamp()  # type: ignore[misc]


def local(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, BERLIN).isoformat()


def cron(expr: str, tz: Any = BERLIN) -> CronTrigger:
    return CronTrigger(expr, parse_cron(expr), tz)


def due_times(trigger: CronTrigger, start: float, count: int) -> list[str]:
    out, t = [], start
    for _ in range(count):
        nxt = trigger.next_after(t)
        assert nxt is not None
        out.append(local(nxt))
        t = nxt
    return out


class FakeHandle:
    def __init__(self, when: float, callback: Any, args: tuple[Any, ...]) -> None:
        self.when, self.callback, self.args, self.cancelled = when, callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTask:
    def __init__(self, coro: Any) -> None:
        self.coro = coro

    def run(self) -> None:
        try:
            self.coro.send(None)
        except StopIteration:
            return
        raise AssertionError("a job suspended on the fake clock")


class FakeCall:
    def __init__(self, callback: Any, args: tuple[Any, ...]) -> None:
        self.callback, self.args = callback, args

    def run(self) -> None:
        self.callback(*self.args)


class FakeLoop:  # as in test_grid_property.py
    """Just what the engine uses: a clock, timers and tasks that run to completion."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.timers: list[FakeHandle] = []
        self.ready: list[FakeTask] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> FakeHandle:
        handle = FakeHandle(when, callback, args)
        self.timers.append(handle)
        return handle

    def create_task(self, coro: Any, name: str | None = None) -> FakeTask:
        task = FakeTask(coro)
        self.ready.append(task)
        return task

    def call_soon(self, callback: Any, *args: Any) -> None:  # runs after the tasks made before it
        self.ready.append(FakeCall(callback, args))  # type: ignore[arg-type]

    def create_future(self) -> Any:  # for Engine.stop(), awaited on a real loop
        return asyncio.get_running_loop().create_future()

    def fire_next(self, delay: float) -> None:
        """Fire the earliest live timer ``delay`` seconds late, then run the tasks it made."""
        live = [h for h in self.timers if not h.cancelled]
        assert len(live) == 1  # one timer for all tasks
        (handle,) = live
        self.timers.clear()
        self.now = max(self.now, handle.when + delay)
        handle.callback(*handle.args)
        while self.ready:
            self.ready.pop(0).run()


async def job() -> None:
    pass


# ---------------------------------------------------------------- the trigger itself


def test_weekday_office_hours_in_a_time_zone() -> None:
    friday_late = berlin(2026, 3, 27, 17, 56)
    assert due_times(cron("*/5 9-17 * * mon-fri"), friday_late, 2) == [
        "2026-03-30T09:00:00+02:00",  # Monday, after the weekend (and the DST change)
        "2026-03-30T09:05:00+02:00",
    ]


def test_spring_forward_a_time_in_the_gap_runs_once_at_the_end_of_the_gap() -> None:
    assert due_times(cron("30 2 * * *"), berlin(2026, 3, 28, 12), 3) == [
        "2026-03-29T03:00:00+02:00",  # 02:30 does not exist that night
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_fall_back_a_repeated_time_runs_once_at_its_first_occurrence() -> None:
    assert due_times(cron("30 2 * * *"), berlin(2026, 10, 24, 12), 2) == [
        "2026-10-25T02:30:00+02:00",  # 02:30 CEST; not again at 02:30 CET
        "2026-10-26T02:30:00+01:00",
    ]


def test_fall_back_an_hourly_wildcard_runs_in_both_repeated_hours() -> None:
    assert due_times(cron("30 * * * *"), berlin(2026, 10, 25, 1, 45), 3) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",  # an hour later in real time
        "2026-10-25T03:30:00+01:00",
    ]


def test_aliases_and_the_seconds_field() -> None:
    start = datetime.datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC).timestamp()
    assert parse_cron("@hourly") == "0 * * * *"
    assert parse_cron(" @DAILY ") == "0 0 * * *"
    assert due_times(cron("@hourly", UTC), start, 1) == ["2026-01-01T14:00:00+01:00"]
    nxt = cron("*/10 * * * * *", UTC).next_after(start)
    assert nxt == datetime.datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC).timestamp()


@given(st.integers(0, 2**31), st.sampled_from(["* * * * *", "*/7 3 * * *", "0 0 29 2 *", "*/13 * * * * *"]))
def test_due_times_are_strictly_increasing(start: int, expr: str) -> None:
    trigger = cron(expr)
    first = trigger.next_after(float(start))
    assert first is not None and first > start
    second = trigger.next_after(first)
    assert second is not None and second > first


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cron": "61 * * * *"}, "bad cron expression '61 \\* \\* \\* \\*': Bad minute"),
        ({"cron": "* * *"}, "Wrong number of fields"),
        ({"cron": "@reboot"}, "unknown cron alias '@reboot'"),
        ({"cron": 5}, "cron must be a cron expression string"),
        ({"cron": "* * * * *", "tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"cron": "* * * * *", "interval": 5}, "exactly one of interval=.*got interval, cron"),
        ({"interval": 5, "tz": "UTC"}, "tz='UTC' applies to cron= and at= tasks only"),
        ({"at": datetime.datetime(2030, 1, 1)}, "has no time zone"),
        ({"at": "2030-01-01"}, "at must be a datetime.datetime"),
        ({"cron": "* * * * *", "jitter": 1}, "jitter applies to interval= tasks only"),
        ({"interval": 5, "misfire_grace": 0}, "misfire_grace must be None .* got 0"),
        ({"interval": 5, "coalesce": "no"}, "coalesce must be True or False"),
    ],
)
def test_bad_trigger_arguments_name_the_task_and_value(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidTaskError, match=f"task 'nightly': .*{expected}"):
        Scheduler().schedule_task(job, name="nightly", **kwargs)


# ---------------------------------------------------------------- the engine, on fake clocks


class Clocks:
    """A fake loop and a wall clock that moves with it (``step()`` moves the wall alone)."""

    def __init__(self, wall: float) -> None:
        self.loop = FakeLoop(1000.0)
        self.offset = wall - 1000.0

    def wall(self) -> float:
        return self.loop.now + self.offset

    def step(self, seconds: float) -> None:
        self.offset += seconds

    def start(self, scheduler: Scheduler) -> None:
        scheduler._engine.start(scheduler.tasks.values(), loop=self.loop, wall=self.wall)  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine

    def run_until(self, wall: float) -> None:
        """Fire every timer due before the wall reaches ``wall`` (each on time)."""
        while True:
            live = [h for h in self.loop.timers if not h.cancelled]
            if not live or live[0].when + self.offset > wall:
                self.loop.now = wall - self.offset
                return
            self.loop.fire_next(0.0)


def test_a_cron_task_runs_at_its_wall_clock_times_across_the_spring_forward_night() -> None:
    clocks = Clocks(berlin(2026, 3, 28, 12))
    scheduler = Scheduler()
    starts: list[str] = []

    async def nightly() -> None:
        starts.append(local(clocks.wall()))

    task = scheduler.schedule_task(nightly, cron="30 2 * * *", tz="Europe/Berlin", name="nightly")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 3, 31, 12))
    assert starts == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
    assert task.runs == 3 and task.misfires == 0


def test_a_cron_task_runs_once_on_the_fall_back_night() -> None:
    clocks = Clocks(berlin(2026, 10, 24, 12))
    scheduler = Scheduler()
    starts: list[str] = []

    async def nightly() -> None:
        starts.append(local(clocks.wall()))

    scheduler.schedule_task(nightly, cron="30 2 * * *", tz="Europe/Berlin", name="nightly")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 10, 25, 12))
    assert starts == ["2026-10-25T02:30:00+02:00"]


def test_a_forward_clock_step_makes_one_run_not_a_burst() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name="minutely")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 10, 1, 30))
    assert task.runs == 1
    clocks.step(3600)  # NTP steps the wall clock an hour forward
    clocks.loop.fire_next(0.0)  # the timer armed for 10:02
    assert task.runs == 2 and task.misfires == 60  # 10:02 .. 11:02: 61 due times, one run
    assert task.next_run is not None and local(task.next_run + clocks.offset) == "2026-05-04T11:03:00+02:00"


def test_a_forward_clock_step_beyond_misfire_grace_skips_and_counts() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name="m", misfire_grace=20)
    clocks.start(scheduler)
    clocks.step(3600 + 10)  # the timer for 10:01 fires at 11:01:10: 10:01 .. 11:00 are too late
    clocks.loop.fire_next(0.0)
    assert (task.runs, task.skipped, task.misfires) == (1, 60, 60)  # 11:01 (10 s late) runs
    clocks.step(45)  # the timer for 11:02 fires at 11:02:45
    clocks.loop.fire_next(0.0)
    assert (task.runs, task.skipped, task.misfires) == (1, 61, 61)


def test_a_backward_clock_step_repeats_no_run() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    starts: list[str] = []

    async def minutely() -> None:
        starts.append(local(clocks.wall()))

    scheduler.schedule_task(minutely, cron="* * * * *", tz="Europe/Berlin", name="m")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 10, 2, 30))
    clocks.step(-3600)  # back to 09:02:30: the timer for 10:03 fires at 09:03 and waits
    clocks.run_until(berlin(2026, 5, 4, 10, 4, 30))
    assert starts == [f"2026-05-04T10:0{m}:00+02:00" for m in (1, 2, 3, 4)]


def test_at_runs_once_and_a_past_one_is_skipped_by_the_grace() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10))
    scheduler = Scheduler()
    soon = scheduler.schedule_task(
        job, at=datetime.datetime(2026, 5, 4, 10, 5), tz="Europe/Berlin", name="soon"
    )
    missed = scheduler.schedule_task(
        job, at=datetime.datetime(2026, 5, 4, 7, 0, tzinfo=UTC), misfire_grace=60, name="missed"
    )
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 12))
    assert (soon.runs, soon.next_run, soon.info()["at"]) == (1, None, "2026-05-04T10:05:00+02:00")
    assert (missed.runs, missed.skipped, missed.next_run) == (0, 1, None)


def test_misfire_grace_skips_late_interval_runs_and_logs_them(caplog: Any) -> None:
    scheduler = Scheduler(spread=False)
    task = scheduler.schedule_task(job, 1.0, name="t", misfire_grace=0.5)
    loop = FakeLoop(0.0)
    scheduler._engine.start([task], loop=loop)  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine
    loop.fire_next(0.2)  # late by 0.2: runs
    assert (task.runs, task.skipped) == (1, 0)
    with caplog.at_level(logging.WARNING):
        loop.fire_next(4.7)  # due at 2 runs at 6.7: due times 2..6 late by 4.7..0.7, all skipped
    assert (task.runs, task.skipped, task.misfires) == (1, 5, 5)
    assert "later than misfire_grace" in caplog.text
    loop.fire_next(0.3)  # due 7 (0.3 late) runs
    assert (task.runs, task.skipped) == (2, 5)
    assert task.info()["skipped"] == 5


def test_coalesce_false_runs_each_missed_due_time_one_after_the_other() -> None:
    scheduler = Scheduler(spread=False)
    many = scheduler.schedule_task(job, 1.0, name="many", coalesce=False)
    one = scheduler.schedule_task(job, 1.0, name="one")
    loop = FakeLoop(0.0)
    scheduler._engine.start([many, one], loop=loop)  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine
    loop.fire_next(3.5)  # due times 1, 2, 3, 4 passed
    assert (many.runs, many.misfires) == (4, 0)
    assert (one.runs, one.misfires) == (1, 3)


@given(st.text(max_size=40))
def test_any_text_is_a_cron_expression_or_a_clear_value_error(text: str) -> None:
    try:
        expr = parse_cron(text)
    except ValueError as exc:
        assert repr(text) in str(exc) or "cron must be" in str(exc)
    else:
        assert cron(expr).next_after(0.0) is not None


def test_disabling_a_cron_task_and_enabling_it_again_resumes_at_the_next_due_time() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name="m")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 10, 1, 30))
    task.enabled = False
    assert task.next_run is None
    clocks.run_until(berlin(2026, 5, 4, 10, 5, 30))
    task.enabled = True
    assert task.next_run is not None and local(task.next_run + clocks.offset) == "2026-05-04T10:06:00+02:00"
    clocks.run_until(berlin(2026, 5, 4, 10, 6, 30))
    assert (task.runs, task.misfires) == (2, 0)


def test_tasks_sharing_a_due_instant_each_run_once_after_toggles_and_removals() -> None:
    # The heap holds one entry per wall-clock instant for every task due at it: a task
    # disabled and enabled again before the instant joins it twice, and must still run once.
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    tasks = [scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name=f"t{i}")
             for i in range(4)]
    clocks.start(scheduler)
    tasks[0].enabled = False
    tasks[0].enabled = True  # back in the 10:01 instant
    tasks[1].enabled = False  # out of it
    scheduler.remove_task("t2")
    clocks.run_until(berlin(2026, 5, 4, 10, 1, 30))
    assert [t.runs for t in tasks] == [1, 0, 0, 1]
    assert len([h for h in clocks.loop.timers if not h.cancelled]) == 1  # one timer, for 10:02
    clocks.run_until(berlin(2026, 5, 4, 10, 2, 30))
    assert [t.runs for t in tasks] == [2, 0, 0, 2]


def test_a_cron_task_that_disables_itself_in_its_run_is_not_armed_again() -> None:
    # The next due times of an instant's tasks are pushed after their runs have started.
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()

    async def once() -> None:
        task.enabled = False

    task = scheduler.schedule_task(once, cron="* * * * *", tz="Europe/Berlin", name="once")
    other = scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name="other")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 10, 3, 30))
    assert (task.runs, task.next_run) == (1, None)
    assert other.runs == 3 and other.next_run is not None


def test_a_cluster_wide_task_cannot_be_told_not_to_coalesce() -> None:
    with pytest.raises(InvalidTaskError, match="always coalesces; remove coalesce=False"):
        Scheduler().schedule_task(job, 5, name="c", cluster_wide=True, coalesce=False)


def test_a_clock_stepped_far_forward_counts_a_bounded_number_of_missed_times() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 0, 500000))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, cron="* * * * * *", name="s")
    clocks.start(scheduler)
    clocks.step(86400)  # a day of seconds passes at once
    clocks.loop.fire_next(0.0)
    assert task.runs == 1 and task.misfires == 999  # counted up to 1000, then the next due time
    assert task.next_run is not None and 0 < task.next_run + clocks.offset - clocks.wall() <= 1


def test_a_one_shot_task_does_not_run_again_when_the_scheduler_restarts(run: Any) -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, at=datetime.datetime(2026, 5, 4, 10, 5, tzinfo=BERLIN), name="once")
    clocks.start(scheduler)
    clocks.run_until(berlin(2026, 5, 4, 10, 6))
    assert task.runs == 1

    async def restart() -> None:
        await scheduler._engine.stop(scheduler.tasks.values(), 0.0)  # noqa: SLF001 -- a fake loop drives the engine
        clocks.start(scheduler)

    run(restart())
    clocks.run_until(berlin(2026, 5, 4, 10, 7))
    assert task.runs == 1 and task.next_run is None



def test_on_the_real_clock_a_cron_run_never_starts_before_its_due_second() -> None:
    """The timer of a wall-clock due time is armed early on purpose (the loop rounds its sleep
    up to a millisecond); the engine then waits out the rest, so no run starts early."""
    starts: list[float] = []

    async def main() -> None:
        enough = asyncio.Event()

        async def record() -> None:
            starts.append(time.time())
            if len(starts) >= 150:  # 3 seconds of 50 tasks
                enough.set()

        scheduler = Scheduler(shutdown_timeout=1.0)
        for i in range(50):
            scheduler.schedule_task(record, cron="* * * * * *", name=f"tick-{i}")
        await scheduler.init()
        try:
            await asyncio.wait_for(enough.wait(), 10.0)  # only to never hang
        finally:
            await scheduler.close()

    asyncio.run(main())
    # every run in the first half of its second: none at x.999 (early), however late the loop
    assert all(t - int(t) < 0.5 for t in starts), sorted(t - int(t) for t in starts)[-3:]


def test_a_cron_run_records_how_late_it_started_after_its_wall_clock_due_time() -> None:
    clocks = Clocks(berlin(2026, 5, 4, 10, 0, 30))
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, cron="* * * * *", tz="Europe/Berlin", name="minutely")
    clocks.start(scheduler)
    clocks.loop.fire_next(0.25)  # the loop was busy: the 10:01 run starts 0.25 s late
    assert task.runs == 1
    assert task.last_lateness is not None and abs(task.last_lateness - 0.25) < 1e-6
