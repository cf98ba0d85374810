"""Tasks with a ``cron=`` or ``at=`` trigger: due at wall-clock instants, many at the same one.

The :class:`~._engine.Engine` keeps one heap of loop times. A wall-clock task's due time is
a Unix time, and tasks often share it (every task of ``*/5 * * * *`` falls due at the same
second), so the engine's heap holds one :class:`WallBucket` per wall-clock instant, not one
entry per task: 10,000 tasks due at 60 distinct seconds cost 60 heap pushes and pops, and a
due second's runs start one after the other without heap work between them.

A bucket's loop time is converted from the wall clock when it is created, early by
:data:`WAKE_MARGIN` plus how late the loop's timer has lately been waking (the selector
rounds its timeout up to a whole millisecond, Linux's timer slack adds up to 0.1 % of a
sleep, a busy machine more) plus :data:`WAKE_SLACK` of the time to wait. When it fires,
the rest is waited out on the wall clock in turns of the loop (each turn serves whatever else
is ready: the wait blocks nothing), or, when much is left (a long first wait), the bucket is
armed again. A clock stepped back re-arms it; one stepped forward misses due
times, which are counted, never run as a burst (:mod:`._misfire`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Any

from ._misfire import passed_due_times

if TYPE_CHECKING:
    from ._engine import Engine
    from ._misfire import Misfires
    from ._schedule import Schedule

__all__ = ["WAKE_MARGIN", "WAKE_MAX", "WAKE_SLACK", "WallBucket", "WallClockTasks"]

WAKE_MARGIN = 0.001
"""Seconds by which a wall-clock due time is armed early beyond the timer's recent lateness."""

WAKE_SLACK = 0.002
"""Fraction of the time to wait (up to a minute of it) by which the timer is armed early too."""

WAKE_MAX = 0.005
"""The most the final wait is armed early by (the rest is waited out in turns of the loop)."""


_GC_OBJECTS_PER_RUN = 8
"""About how many objects the collector tracks are made to start one run (task, coroutines...)."""


def _collect_ahead(runs: int) -> None:
    """Run the young collection that starting ``runs`` runs would set off, now, before the due
    time, rather than in the middle of starting them (a collection of the two young generations
    pauses the loop for about a millisecond when 10,000 tasks are scheduled); never the oldest."""
    if not gc.isenabled():
        return
    count0, count1, _ = gc.get_count()
    threshold0, threshold1, _ = gc.get_threshold()
    if threshold0 and count0 + runs * _GC_OBJECTS_PER_RUN >= threshold0:
        gc.collect(1 if count1 + 1 >= threshold1 else 0)


class WallBucket:
    """The tasks due at one wall-clock instant ``due``: one entry in the engine's heap."""

    __slots__ = ("due", "schedules", "seq", "when")

    def __init__(self, due: float, when: float) -> None:
        self.due = due
        #: the loop time the heap entry is for (early: see the module's text)
        self.when = when
        #: the heap entry's sequence number: a task whose ``seq`` differs has left the bucket
        self.seq = -1
        self.schedules: list[Schedule] = []


class WallClockTasks:
    """Arms and fires the wall-clock due times of one engine's ``cron=`` / ``at=`` tasks.

    :param engine: the engine whose heap and runs it uses
    :param misfires: the engine's accounting of due times reached late
    """

    __slots__ = ("buckets", "engine", "logger", "loop", "misfires", "next_report", "wake_late")

    def __init__(self, engine: Engine, misfires: Misfires, logger: Any) -> None:
        self.engine = engine
        self.misfires = misfires
        self.logger = logger
        #: the loop of the engine (set by the engine when it starts)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.buckets: dict[float, WallBucket] = {}
        self.next_report = 0.0
        #: how late the loop's timer woke lately (a decaying maximum, seconds)
        self.wake_late = 0.0

    def woke(self, late: float) -> None:
        """The engine's timer fired ``late`` seconds after the time it was armed for."""
        self.wake_late = max(min(late, WAKE_MAX), self.wake_late * 0.98)

    def lead(self) -> float:
        """How early the last wait before a due time is armed (on the real clock)."""
        return min(WAKE_MARGIN + self.wake_late, WAKE_MAX)

    def arm(self, schedule: Schedule, first: bool) -> None:
        """Push the next wall-clock due time of ``schedule`` (if any)."""
        assert schedule.trigger is not None
        wall = self.engine.wall()
        if schedule.resume_after is not None:  # restored: from the last claimed due time on
            due = schedule.trigger.next_after(schedule.resume_after)
            schedule.resume_after = None
        else:
            due = schedule.trigger.first_due(wall) if first else schedule.trigger.next_after(wall)
        if due is not None:
            self.push(schedule, due)

    def push(self, schedule: Schedule, due: float) -> None:
        """Put ``schedule`` in the bucket of the Unix time ``due`` (made and pushed if new)."""
        bucket = self.buckets.get(due)
        if bucket is None:
            engine = self.engine
            assert self.loop is not None
            ahead = due - engine.wall()
            lead = self.lead() + WAKE_SLACK * min(ahead, 60.0) if engine.wall is time.time else 0.0
            self.buckets[due] = bucket = WallBucket(due, self.loop.time() + ahead - lead)
            bucket.seq = engine.push_entry(bucket.when, bucket)
        schedule.next_run = bucket.when
        schedule.due_wall = due
        schedule.seq = bucket.seq
        bucket.schedules.append(schedule)

    def clear(self) -> None:
        """Forget every bucket (the engine stopped)."""
        self.buckets.clear()

    def fire(self, bucket: WallBucket, now: float) -> None:
        """The heap entry of ``bucket`` came up at loop time ``now``: start its tasks' runs."""
        if self.buckets.get(bucket.due) is bucket:
            del self.buckets[bucket.due]
        engine = self.engine
        wall = engine.wall()
        due = bucket.due
        if wall < due - 1e-6:
            if engine.wall is not time.time or due - wall > 2 * self.lead():
                for schedule in bucket.schedules:  # a step back, NTP slewing, a long first wait
                    if schedule.seq == bucket.seq:
                        self.push(schedule, due)
                return
            assert self.loop is not None  # armed early on purpose: wait out the rest (loop turns)
            _collect_ahead(len(bucket.schedules))
            self.loop.call_soon(self._wait_out, bucket)
            return
        self._start(bucket, now)

    def _wait_out(self, bucket: WallBucket) -> None:
        """Start the runs of ``bucket`` once the wall clock reaches its due time; until then, come
        back at the next turn of the loop (which serves whatever else is ready meanwhile)."""
        assert self.loop is not None
        if not self.engine.running:
            return
        if time.time() < bucket.due:
            self.loop.call_soon(self._wait_out, bucket)
            return
        self._start(bucket, self.loop.time())

    def _start(self, bucket: WallBucket, now: float) -> None:
        """Start the runs of the tasks still in ``bucket`` (its due time has come)."""
        seq = bucket.seq
        fired = -2 - seq  # the mark of a task fired from this bucket, until its next push
        later: list[tuple[Schedule, float]] = []
        for schedule in bucket.schedules:
            if schedule.seq == seq:  # not disabled, removed, re-armed or fired since it joined
                schedule.seq = fired
                self._fire_one(schedule, now, later)
        if later:  # after the runs' first steps (queued before it), so that they start sooner
            assert self.loop is not None
            self.loop.call_soon(self._push_later, later, fired)

    def _push_later(self, later: list[tuple[Schedule, float]], fired: int) -> None:
        """Push the next due times of the tasks marked ``fired`` by :meth:`fire`."""
        for schedule, due in later:
            if schedule.seq == fired:  # not disabled, removed or re-armed meanwhile
                self.push(schedule, due)

    def _fire_one(self, schedule: Schedule, now: float, later: list[tuple[Schedule, float]]) -> None:
        """Handle the due time of one ``cron=`` / ``at=`` task, checked on the wall clock
        (its next due time goes to ``later``, pushed once the runs have started)."""
        engine = self.engine
        assert self.loop is not None and schedule.trigger is not None
        wall = engine.wall()
        due = schedule.due_wall
        passed, following = passed_due_times(schedule.trigger, due, wall)
        if following is None:
            engine.unschedule(schedule)  # an at= task has run, or a cron that never matches again
        else:
            later.append((schedule, following))
        if len(passed) > 1 and now >= self.next_report:  # at most one warning a second
            self.next_report = now + 1.0
            self.logger.warning(
                "scheduler: due times of a wall-clock task were missed",
                task=schedule.task.name,
                missed_runs=len(passed) - 1,
                hint="the event loop was blocked, the process suspended or the clock stepped forward",
            )
        grace = schedule.grace
        if len(passed) == 1 and (grace is None or wall - due <= grace):
            runs = 1  # the common case: one due time, on time
        else:
            ok = len(passed) if grace is None else sum(1 for t in passed if wall - t <= grace)
            runs = self.misfires.account(schedule, now, len(passed), ok, wall - due)
            if not runs:
                return
        schedule.run_wall = passed[-1]  # the number of a cluster-wide run: its latest due time
        grid = self.loop.time() - (wall - passed[-1])  # that due time on the loop's clock (lateness)
        engine.start_runs(schedule, grid, now, runs)
