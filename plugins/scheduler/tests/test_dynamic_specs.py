"""Run-time schedule specs come from a store or an RPC call: any JSON is a schedule or a clear
InvalidTaskError naming it (hypothesis), never another exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.scheduler import InvalidTaskError, Scheduler
from kaiju_plugins.scheduler._dynamic import SPEC_KEYS
from kaiju_tools import SERVICE_CLASS_REGISTRY, ContextableService, init_app
from kaiju_tools.app import get_services


class SpecTarget(ContextableService):
    """A service with an async method for run-time schedules."""

    service_name = "target"

    async def work(self, n: int = 0) -> None:
        """A task body."""


if "SpecTarget" not in SERVICE_CLASS_REGISTRY:
    SERVICE_CLASS_REGISTRY.register(SpecTarget)

APP = init_app({"main": {"name": "t"}, "services": [{"cls": "Scheduler"}, {"cls": "SpecTarget"}]})
SCHEDULER: Scheduler = get_services(APP).get("scheduler")  # type: ignore[assignment]

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: (st.lists(inner, max_size=3)
                                   | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                    max_leaves=6)
VALUES: dict[str, Any] = {
    "method": st.sampled_from(["target.work", "target.nope", "work", "x.y.z", ""]) | JSON,
    "interval": st.sampled_from([None, 0.5, 60, -1, 0]) | JSON,
    "cron": st.sampled_from([None, "* * * * *", "*/5 * * * * *", "61 * * * *", "@hourly"]) | JSON,
    "tz": st.sampled_from([None, "UTC", "Europe/Berlin", "Mars/Base"]) | JSON,
    "at": st.sampled_from([None, "2030-01-01T09:00:00+01:00", "2030-01-01T09:00:00", "soon"]) | JSON,
    "policy": st.sampled_from(["WAIT", "SKIP", "CANCEL", "nope", None]) | JSON,
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={k: VALUES.get(k, JSON) for k in SPEC_KEYS}),
       st.dictionaries(st.text(max_size=4), JSON, max_size=1))
def test_any_json_spec_is_a_schedule_or_a_clear_error(spec: dict[str, Any], extra: dict[str, Any]) -> None:
    spec = {**spec, **{k: v for k, v in extra.items() if k not in SPEC_KEYS}}
    try:
        task = SCHEDULER._schedule_spec("s", spec)  # noqa: SLF001 -- the spec parser itself
    except InvalidTaskError as exc:
        assert "'s'" in str(exc)
        assert "s" not in SCHEDULER.tasks
        return
    assert task.name == "s" and spec.get("method") == "target.work"
    SCHEDULER.remove_task("s")
