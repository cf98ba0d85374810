"""Run ``bench/<script> PORT`` recording when each start-up phase ends (for startup_phases.py).

``python bench/_startup_marks.py SCRIPT PORT [--exit-when-listening]``

Prints one JSON line on stdout when the site listens: phase name -> ``time.perf_counter()``.
Marks come from wrapping public functions only (``aiohttp.web.TCPSite.start``,
``kaiju_tools.plugins.Plugins.load_first_party``, ``kaiju_tools.Runtime.load_settings`` /
``init_app``, ``kaiju_tools.app.run_server``) and from the interpreter's ``import`` audit event
of two modules. Both servers import aiohttp here first: the common base of both.
"""

from __future__ import annotations

import functools
import json
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

marks: dict[str, float] = {}
if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
    sys.exit(__doc__)
script, port = sys.argv[1], sys.argv[2]
exit_when_listening = "--exit-when-listening" in sys.argv
sys.argv = [script, port]

from aiohttp import web  # noqa: E402 -- after the clock's first reading

marks["aiohttp imported"] = time.perf_counter()


def _wrap(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        marks.setdefault(f"{label} called", time.perf_counter())
        try:
            return original(*args, **kwargs)
        finally:
            marks.setdefault(f"{label} done", time.perf_counter())

    setattr(owner, name, timed)


def _on_audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "import" or args[0] not in ("kaiju_tools", "app.application") or args[0] in marks:
        return
    marks[f"importing {args[0]}"] = time.perf_counter()
    if args[0] == "app.application":  # kaiju_tools is imported whole by now: wrap its steps
        import kaiju_tools
        import kaiju_tools.app
        from kaiju_tools.plugins import Plugins

        _wrap(kaiju_tools.app, "run_server", "run_server")
        _wrap(Plugins, "load_first_party", "Plugins.load_first_party")
        _wrap(kaiju_tools.Runtime, "load_settings", "Runtime.load_settings")
        _wrap(kaiju_tools.Runtime, "init_app", "Runtime.init_app")


sys.addaudithook(_on_audit)
_start = web.TCPSite.start


async def _listening(self: web.TCPSite) -> None:
    await _start(self)
    marks["listening"] = time.perf_counter()
    print(json.dumps(marks), flush=True)
    if exit_when_listening:
        os._exit(0)


web.TCPSite.start = _listening  # type: ignore[method-assign]
runpy.run_path(str(Path(__file__).parent / script), run_name="__main__")
