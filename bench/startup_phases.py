"""Where our start-up time goes, phase by phase, beside the raw aiohttp app (issue 18's accounting).

``python bench/startup_phases.py [--reps 11]``

Each rep spawns both servers fresh, alternating, under ``bench/_startup_marks.py``: a wrapper
that records ``time.perf_counter()`` (the system-wide monotonic clock, shared with this
process) when the server's imports of aiohttp are done, when ``kaiju_tools`` is imported, when
the app calls ``run_server``, around the public start-up steps (``Plugins.load_first_party``,
``Runtime.load_settings``, ``Runtime.init_app``) and when the site listens. This process adds
the spawn time and the first answered call (``bench.ping``, as startup_bench.py). Medians per
phase are printed; the phases of ours that the raw app has no counterpart for are the cost
being accounted for. Then ``-X importtime`` of one start of each: the modules only ours imports,
how many, and the sum of their own import times (indicative: importtime adds its own cost).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

from startup_bench import HERE, free_port, wait_answer

_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$")


def one(script: str) -> dict[str, float]:
    """Phase marks of one start of ``bench/<script>``, in ms from the spawn."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / "_startup_marks.py"), script, str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if not wait_answer(port, 30, 0.002, 1):
            raise RuntimeError(f"{script} did not answer within 30 s")
        answered = time.perf_counter()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    marks = json.loads(out.splitlines()[0])
    marks["first answer"] = answered
    return {name: (at - start) * 1000 for name, at in marks.items()}


def imported(script: str) -> dict[str, int]:
    """Module -> its own import time (µs), from ``-X importtime`` of one start to listening."""
    proc = subprocess.run([sys.executable, "-X", "importtime", str(HERE / "_startup_marks.py"), script,
                           str(free_port()), "--exit-when-listening"],
                          capture_output=True, text=True, timeout=60, check=True)
    return {m.group(2): int(m.group(1)) for m in map(_IMPORTTIME.match, proc.stderr.splitlines()) if m}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=11)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"rpc_raw.py": [], "rpc_kaiju.py": []}
    for _ in range(args.reps):
        for script, got in runs.items():
            got.append(one(script))
    print(f"start-up phases, ms from spawn, medians of {args.reps} alternating reps")
    medians: dict[str, dict[str, float]] = {}
    for script, got in runs.items():
        names = list(got[0])
        medians[script] = {n: statistics.median(run[n] for run in got) for n in names}
        print(f"\n{script}")
        previous = 0.0
        for name in sorted(names, key=medians[script].__getitem__):
            at = medians[script][name]
            print(f"  {at:7.1f}  (+{at - previous:5.1f})  {name}")
            previous = at
    raw, ours = medians["rpc_raw.py"], medians["rpc_kaiju.py"]
    print(f"\nfirst answer: ours/raw = {ours['first answer'] / raw['first answer']:.3f}; "
          f"after aiohttp is imported: raw {raw['first answer'] - raw['aiohttp imported']:.1f} ms, "
          f"ours {ours['first answer'] - ours['aiohttp imported']:.1f} ms")
    own_raw, own_ours = imported("rpc_raw.py"), imported("rpc_kaiju.py")
    extra = {name: us for name, us in own_ours.items() if name not in own_raw}
    print(f"\nmodules imported to listening: raw {len(own_raw)}, ours {len(own_ours)}; only ours: "
          f"{len(extra)}, their own import time {sum(extra.values()) / 1000:.1f} ms (importtime, one run)")
    groups: dict[str, list[int]] = {}
    for name, us in extra.items():
        top = name.split(".")[0]
        key = (".".join(name.split(".")[:2]) if top == "kaiju_plugins"
               else top if top in ("kaiju_tools", "pluggy", "app", "orjson") else "other")
        groups.setdefault(key, []).append(us)
    for key, values in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {key:28} {len(values):3} modules  {sum(values) / 1000:5.1f} ms")
    print("  (other: " + ", ".join(sorted(n for n in extra if n.split(".")[0] not in
                                          ("kaiju_tools", "kaiju_plugins", "pluggy", "app", "orjson"))) + ")")


if __name__ == "__main__":
    main()
