"""Typed decoding, counted in instructions: what a typed route pays per call over a builtin one.

One command (from the project root; needs valgrind)::

    /tmp/dev/bin/python bench/rpc_typed.py            # ~2 minutes
    /tmp/dev/bin/python bench/rpc_typed.py --calls 2000 --case "centroid, 10 points"

Each case runs in its own process under ``valgrind --tool=callgrind``: the process imports the
rpc plugin, builds every route (what the server does at start-up), then makes ``--calls`` calls
of one case the way the server's hot path does (``route.call_list(params)`` for list params,
``route.func(**params)`` for object params; the result encoded back when the route is typed).
A run with 0 calls is the baseline; (instructions of a case - baseline) / calls is the cost of
one call. Instruction counts do not move with the machine's load (seconds do); the HTTP
transport, the JSON codec and the request object are the same for every route and left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"


def add(a: int, b: int) -> int:
    return a + b


def centroid(points: list[Point]) -> Point:
    n = len(points) or 1
    return Point(sum(p.x for p in points) // n, sum(p.y for p in points) // n)


def paint(color: Color, when: dt.datetime) -> list[Any]:
    return [color, when]


def totals(points: dict[str, list[int]]) -> int:
    return len(points)


POINTS_10 = [{"x": i, "y": 2 * i} for i in range(10)]
CASES: dict[str, tuple[Any, Any]] = {  # name -> (route function, params as JSON decodes them)
    "builtin: add(a: int, b: int), [1, 2]": (add, [1, 2]),
    "builtin: add, {a: 1, b: 2}": (add, {"a": 1, "b": 2}),
    "typed: centroid(points: list[Point]), 1 point": (centroid, [[{"x": 1, "y": 2}]]),
    "typed: centroid, 10 points": (centroid, [POINTS_10]),
    "typed: centroid, 10 points, by name": (centroid, {"points": POINTS_10}),
    "typed: paint(color: Color, when: datetime)": (paint, ["red", "2024-01-31T12:00:00+00:00"]),
    "typed: totals(points: dict[str, list[int]]), 3 keys x 3": (totals, [{"a": [1, 2, 3], "b": [4, 5, 6],
                                                                            "c": [7, 8, 9]}]),
    # the parts alone: decoding the params, encoding the result, the method body on decoded values
    "part: decode list[Point], 10 points": (list[Point], POINTS_10),
    "part: encode Point": (None, Point(1, 2)),
    "part: centroid body, 10 Points": (centroid, [Point(**p) for p in POINTS_10]),
}


def child(case: str | None, calls: int) -> None:
    """Inside valgrind: build every route, then call one case ``calls`` times."""
    from kaiju_plugins.rpc._encoding import encode
    from kaiju_plugins.rpc._routes import Route
    from kaiju_plugins.rpc._types import decoder

    routes = {name: Route(f"bench.{i}", func, 0, "bench") for i, (name, (func, _)) in enumerate(CASES.items())
              if not name.startswith("part:")}
    if case is None:
        return
    if case.startswith("part:"):
        target, value = CASES[case]
        call = decoder(target) if case.startswith("part: decode") else encode if target is None else target
        for _ in range(calls):
            call(value)
        return
    route, params = routes[case], CASES[case][1]
    if type(params) is list:
        call = route.call_list
        for _ in range(calls):
            call(params)
    else:
        func = route.func
        check = route.checker.check_dict
        for _ in range(calls):
            check(params)
            func(**params)


def count(case: str | None, calls: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        args = [sys.executable, __file__, "--child", "--calls", str(calls)] + (["--case", case] if case else [])
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for line in out.read_text().splitlines():
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.case[0] if args.case else None, args.calls)
        return
    base = count(None, 0)
    print("| case | instructions per call | vs builtin add, list params |\n| --- | ---: | ---: |")
    first = None
    for case in args.case or CASES:
        per_call = (count(case, args.calls) - base) / args.calls
        first = first or per_call
        print(f"| {case} | {per_call:,.0f} | {per_call / first:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
