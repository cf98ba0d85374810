"""The ``tasks`` CLI command: every scheduled task of the app, its trigger, next due time,
last outcome and counts (registered by the plugin's ``kaiju_register_commands`` hook)."""

from __future__ import annotations

import argparse
import datetime
import json
from typing import Any

from kaiju_tools.commands import Command

__all__ = ["TasksCommand"]

_COUNTS = ("runs", "failures", "timeouts", "skipped", "misfires", "elsewhere")


class TasksCommand(Command):
    """List the scheduled tasks: trigger, next due time, last outcome and counts."""

    name = "tasks"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """``--json``: the listing as JSON."""
        parser.add_argument("--json", action="store_true", help="print the scheduler's list_tasks() as JSON")

    async def run(self, app: Any, args: argparse.Namespace) -> int | None:
        """Start the app's services (their tasks get scheduled), then print the tasks.

        Counts and outcomes are this process's; a stored schedule (``stored: yes``) also shows
        the last due time any process claimed (``last due``)."""
        from kaiju_tools.app import get_services

        from .scheduler import Scheduler

        schedulers = [s for s in get_services(app) if isinstance(s, Scheduler)]
        if not schedulers:
            print("no Scheduler in the app's services: add `- cls: Scheduler` to `services:`")
            return 1
        rows: list[dict[str, Any]] = []
        for scheduler in schedulers:
            claimed: dict[str, int] = {}
            store = scheduler.schedule_store()
            if store is not None:
                claimed = await store.claimed(scheduler.cluster_prefix)
            for info in scheduler.list_tasks():
                name = info["name"]
                info["scheduler"] = scheduler.service_name
                info["stored"] = scheduler.is_stored(name)
                info["last_due"] = claimed[name] / 1000 if name in claimed else None
                rows.append(info)
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
            return 0
        print(f"{len(rows)} task(s)")
        for info in rows:
            print(_describe(info))
        return 0


def _describe(info: dict[str, Any]) -> str:
    if info["cron"] is not None:
        trigger = f"cron {info['cron']!r} {info['tz']}"
    elif info["at"] is not None:
        trigger = f"at {info['at']}"
    else:
        trigger = f"every {info['interval']:g} s"
    state = "enabled" if info["enabled"] else "paused"
    flags = [state, info["policy"]]
    if info["cluster_wide"]:
        flags.append("cluster-wide")
    if info["stored"]:
        flags.append("stored")
    if info["runs"] == 0 and info["last_error"] is None:
        outcome = "never run here"
    elif info["last_error"] is not None:
        outcome = f"failed: {info['last_error']}"
    else:
        outcome = "ok"
    counts = ", ".join(f"{k} {info[k]}" for k in _COUNTS)
    lines = [f"{info['name']}  ({info['scheduler']}: {', '.join(flags)})",
             f"  trigger:  {trigger}",
             f"  next due: {_time(info['next_run'])}",
             f"  last:     {outcome}"
             + (f"; last due claimed {_time(info['last_due'])}" if info["last_due"] else ""),
             f"  counts:   {counts}"]
    return "\n".join(lines)


def _time(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.datetime.fromtimestamp(value, datetime.UTC).isoformat(timespec="seconds")
