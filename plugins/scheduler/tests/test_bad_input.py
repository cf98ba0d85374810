"""Bad arguments to schedule_task: a clear error naming the task and the value."""

from __future__ import annotations

import datetime
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kaiju_plugins.scheduler import ExecPolicy, InvalidTaskError, Scheduler, SchedulerError
from kaiju_tools import ConfigError, KaijuError


async def job(x: int = 0) -> None:
    pass


def sync_job() -> None:
    pass


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler()


def test_invalid_task_error_is_a_kaiju_type_and_value_error() -> None:
    assert issubclass(InvalidTaskError, SchedulerError)
    assert issubclass(InvalidTaskError, KaijuError)
    assert issubclass(InvalidTaskError, TypeError)
    assert issubclass(InvalidTaskError, ValueError)


def test_plain_function_is_refused_naming_the_task(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidTaskError, match=r"task 'nightly': method must be an async function.*sync_job"):
        scheduler.schedule_task(sync_job, 1, name="nightly")


def test_coroutine_object_is_refused_and_closed(scheduler: Scheduler) -> None:
    coro = job()
    with pytest.raises(InvalidTaskError, match=r"coroutine object.*without calling it"):
        scheduler.schedule_task(coro, 1, name="called")
    assert coro.cr_frame is None  # closed: no "never awaited" warning (warnings are errors here)


def test_non_callable_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidTaskError, match=r"task 'x'.*got a str: 'rpc.method'"):
        scheduler.schedule_task("rpc.method", 1, name="x")


@pytest.mark.parametrize("interval", [0, -1, -0.5, math.inf, math.nan, "60", None, True, [1]])
def test_bad_interval_is_refused_naming_task_and_value(scheduler: Scheduler, interval: object) -> None:
    with pytest.raises(InvalidTaskError) as info:
        scheduler.schedule_task(job, interval, name="reload")  # type: ignore[arg-type]
    message = str(info.value)
    assert "task 'reload'" in message
    assert "interval must be a positive number of seconds" in message
    assert f"got {interval!r}" in message


@given(
    st.one_of(
        st.floats(max_value=0),
        st.floats(allow_nan=True).filter(lambda f: not math.isfinite(f)),
        st.integers(max_value=0),
        st.text(),
        st.booleans(),
        st.none(),
    )
)
def test_no_non_positive_or_non_numeric_interval_is_accepted(interval: object) -> None:
    with pytest.raises(InvalidTaskError, match="task 'p': interval"):
        Scheduler().schedule_task(job, interval, name="p")  # type: ignore[arg-type]


@given(st.one_of(st.floats(min_value=1e-6, max_value=1e9), st.integers(min_value=1, max_value=10**9)))
def test_every_positive_finite_interval_is_accepted(interval: float) -> None:
    task = Scheduler().schedule_task(job, interval, name="p")
    assert task.interval == float(interval)


def test_timedelta_interval(scheduler: Scheduler) -> None:
    assert scheduler.schedule_task(job, datetime.timedelta(minutes=1)).interval == 60.0


@pytest.mark.parametrize("policy", ["RUN_TWICE", 3, None])
def test_unknown_policy_lists_the_known_ones(scheduler: Scheduler, policy: object) -> None:
    with pytest.raises(
        InvalidTaskError, match=rf"task 'r': unknown policy {policy!r}; expected one of WAIT, CANCEL, SKIP"
    ):
        scheduler.schedule_task(job, 1, name="r", policy=policy)  # type: ignore[arg-type]


def test_policy_by_name_any_case(scheduler: Scheduler) -> None:
    assert scheduler.schedule_task(job, 1, name="a", policy="skip").policy is ExecPolicy.SKIP
    assert (
        scheduler.schedule_task(job, 1, name="b", policy=Scheduler.ExecPolicy.CANCEL).policy
        is ExecPolicy.CANCEL
    )


def test_duplicate_name_is_refused_with_the_fix(scheduler: Scheduler) -> None:
    scheduler.schedule_task(job, 1, name="svc.reload")
    with pytest.raises(
        InvalidTaskError, match=r"task 'svc.reload' is already scheduled.*remove_task\('svc.reload'\)"
    ):
        scheduler.schedule_task(job, 2, name="svc.reload")


def test_duplicate_default_name_is_refused_too(scheduler: Scheduler) -> None:
    scheduler.schedule_task(job, 1)
    with pytest.raises(InvalidTaskError, match="already scheduled"):
        scheduler.schedule_task(job, 1)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"max_timeout": 0}, r"max_timeout must be None .* got 0"),
        ({"max_timeout": "5"}, r"max_timeout .* got '5'"),
        ({"retries": -1}, r"retries must be a non-negative int.* got -1"),
        ({"retries": 1.5}, r"retries .* got 1.5"),
        ({"jitter": -0.1}, r"jitter must be .* the interval 1, got -0.1"),
        ({"jitter": 1}, r"jitter .* got 1"),
        ({"run_at_start": "yes"}, r"run_at_start must be True or False, got 'yes'"),
        (
            {"params": {"y": 1}},
            r"params \{'y': 1\} do not fit the method's signature \(x: .*unexpected keyword argument 'y'",
        ),
        ({"params": [1, 2]}, r"params \[1, 2\] do not fit"),
        ({"params": "x=1"}, r"params must be None, a mapping .* got str"),
        ({"name": ""}, r"name must be a non-empty string, got ''"),
    ],
)
def test_bad_option_is_refused_naming_task_and_value(
    scheduler: Scheduler, kwargs: dict, pattern: str
) -> None:
    with pytest.raises(InvalidTaskError, match=pattern) as info:
        scheduler.schedule_task(job, 1, **{"name": "t", **kwargs})
    if kwargs.get("name") != "":
        assert "task 't'" in str(info.value)


def test_a_refused_task_is_not_scheduled(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidTaskError):
        scheduler.schedule_task(job, -1, name="t")
    assert scheduler.list_tasks() == []
    scheduler.schedule_task(job, 1, name="t")  # the name is free


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"shutdown_timeout": -1}, "shutdown_timeout"),
        ({"long_run_intervals": 0.5}, "long_run_intervals"),
        ({"spread": "yes"}, "spread"),
    ],
)
def test_bad_scheduler_setting_is_a_config_error(settings: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"settings\.{key}: Scheduler 'scheduler': expected .* got"):
        Scheduler(**settings)
