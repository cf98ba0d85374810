"""Typed decoding, counted in instructions: what a typed route pays per call over a builtin one.

One command (from the project root; needs valgrind)::

    /tmp/dev/bin/python bench/rpc_typed.py            # ~1 minute
    /tmp/dev/bin/python bench/rpc_typed.py --calls 2000 --case "centroid, 10 points"

One process runs under ``valgrind --tool=callgrind`` with instrumentation off: it imports the
rpc plugin, builds every route (what the server does at start-up) and warms every case up; then,
case by case, instrumentation is switched on for exactly ``--calls`` calls made the way the
server's hot path makes them (``route.call_list(params)`` for list params, ``check_dict`` then
``route.func(**params)`` for object params; the result encoded back when the route is typed),
and the counts are dumped. The signalling alone is counted once and subtracted. Instruction
counts do not move with the machine's load (seconds do); the HTTP
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
    # for reference (when msgspec is installed): msgspec's C decoder on the same value
    "reference: msgspec.convert(list[Point]), 10 points": ("msgspec", POINTS_10),
}


def child(calls: int) -> None:
    """Inside valgrind: build every route, warm every case up, then run each when told to."""
    from kaiju_plugins.rpc._encoding import encode
    from kaiju_plugins.rpc._routes import Route
    from kaiju_plugins.rpc._types import decoder

    loops = {}
    for i, (name, (target, params)) in enumerate(CASES.items()):
        if name.startswith("reference:"):
            try:
                import msgspec
            except ImportError:
                continue
            loops[name] = (lambda v, _c=msgspec.convert: _c(v, list[Point]), params, None)
            continue
        if name.startswith("part:"):
            call = (decoder(target) if name.startswith("part: decode")
                    else encode if target is None else target)
            loops[name] = (call, params, None)
            continue
        route = Route(f"bench.{i}", target, 0, "bench")
        if type(params) is list:
            loops[name] = (route.call_list, params, None)
        else:
            loops[name] = (route.func, params, route.checker.check_dict)
    for call, params, check in loops.values():
        run_case(call, params, check, 100)  # warm-up: caches, specialisation
    print("ready", flush=True)
    for line in sys.stdin:  # one case name per line; answer "done" when it ran
        call, params, check = loops.get(line.strip(), (None, None, None))
        if call is not None:
            run_case(call, params, check, calls)
        print("done", flush=True)


def run_case(call: Any, params: Any, check: Any, calls: int) -> None:
    if check is not None:  # object params: the server checks the names, then calls func(**params)
        for _ in range(calls):
            check(params)
            call(**params)
    else:
        for _ in range(calls):
            call(params)


def _totals(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):  # ("summary:" stays 0 when counting is off at the dump)
            return int(line.split()[1])
    raise RuntimeError(f"callgrind wrote no totals in {path}")


def measure(cases: list[str], calls: int) -> dict[str, float]:
    """Instructions per call of each case, counted in one process (instrumented around each loop only)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "callgrind.out"
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                 f"--callgrind-out-file={dump}",
                                 sys.executable, __file__, "--child", "--calls", str(calls)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env=env)
        assert proc.stdin is not None and proc.stdout is not None

        def control(*args: str) -> None:
            subprocess.run(["callgrind_control", *args, str(proc.pid)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

        def run(name: str) -> int:
            control("-d")  # what ran so far goes to a dump of its own
            before = set(Path(tmp).iterdir())
            control("-i", "on")
            proc.stdin.write(name + "\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            assert proc.stdout.readline().strip() == "done"  # type: ignore[union-attr]
            control("-i", "off")
            control("-d")
            (new,) = set(Path(tmp).iterdir()) - before
            total = _totals(new)
            if os.environ.get("RPC_TYPED_DEBUG"):
                print(name, new.name, total, file=sys.stderr)
            return total

        try:
            assert proc.stdout.readline().strip() == "ready"
            run("(nothing)")
            empty = run("(nothing)")  # the signalling alone
            for name in cases:
                out[name] = (run(name) - empty) / calls
        finally:
            proc.stdin.close()
            proc.wait(timeout=600)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.calls)
        return
    cases = args.case or list(CASES)
    print("| case | instructions per call | vs builtin add, list params |\n| --- | ---: | ---: |")
    counts = measure(cases, args.calls)
    first = counts[cases[0]]
    for name in cases:
        print(f"| {name} | {counts[name]:,.0f} | {counts[name] / first:.2f}x |")


if __name__ == "__main__":
    main()
