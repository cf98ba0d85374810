"""JSON-RPC over HTTP: our example app vs a raw aiohttp handler, driven by wrk.

One command (from the project root)::

    /tmp/dev/bin/python bench/rpc_bench.py            # 10 s x 3 reps, ~5 minutes
    /tmp/dev/bin/python bench/rpc_bench.py --duration 5 --variants uvloop,orjson

For each scenario (single call without params, single call with two int params, batch of
10, unknown method) and each server, 3 repetitions alternate the servers (each repetition
starts fresh server processes, warmed up for 1 s per scenario); each run is
``wrk -t1 -c32`` pinned to CPU 1 against a server pinned to CPU 0 (``taskset``). Server
CPU per request is read from ``/proc/<pid>/stat`` (utime + stime) before and after the
run. Printed: median req/s, p50 / p99 latency, CPU µs per request, our/limit CPU ratio
(of the medians) and the paired ratio (the median, over repetitions, of our run's CPU over
the limit's run next to it: steadier when the host's speed drifts). wrk is installed from
Debian's packages when missing. On a noisy host use more repetitions (``--reps 8``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")

SCENARIOS = {
    "single, no params": {"jsonrpc": "2.0", "method": "bench.ping", "id": 1},
    "single, 2 int params": {"jsonrpc": "2.0", "method": "bench.add", "params": [1, 2], "id": 1},
    "batch of 10": [{"jsonrpc": "2.0", "method": "bench.add", "params": [i, 2], "id": i} for i in range(10)],
    "unknown method": {"jsonrpc": "2.0", "method": "bench.nope", "id": 1},
}
TARGETS = {"batch of 10": 1.15}
KINDS = {  # server -> (script in bench/, its extra arguments, the path it serves JSON-RPC on)
    "ours": ("rpc_kaiju.py", [], "/public/rpc"),
    "limit": ("rpc_raw.py", [], "/public/rpc"),
    # diagnostic (--diagnose): the raw handler mounted in our example app, so the app's
    # environment (more modules, services, a bigger heap) is measured apart from our view
    "raw-in-ours": ("rpc_kaiju.py", ["--raw-handler"], "/raw/rpc"),
    # the example app with the otel plugin active (packages: [otel]), spans sampled and
    # exported to an in-memory exporter (no network): what tracing costs per call
    "ours+otel": ("rpc_kaiju.py", ["--otel", "memory"], "/public/rpc"),
    # the same, spans dropped (exporter none) and only the required attributes: the least it costs
    "ours+otel-lean": ("rpc_kaiju.py", ["--otel", "none", "--otel-attributes", "required"], "/public/rpc"),
    # the request outcome log: off (the baseline of its cost), and at INFO (a line per request written);
    # "ours" runs it at the server's default level (DEBUG: below the app's INFO, no record built)
    "ours-outcome-off": ("rpc_kaiju.py", ["--outcome-log", "off"], "/public/rpc"),
    "ours+outcome-info": ("rpc_kaiju.py", ["--outcome-log", "INFO"], "/public/rpc"),
    # the metrics plugin active (packages: [metrics]): counters and histograms per call and request
    "ours+metrics": ("rpc_kaiju.py", ["--metrics"], "/public/rpc"),
    # issue 15's budget: metrics and otel both active, every trace sampled, spans exported in memory
    "ours+metrics+otel": ("rpc_kaiju.py", ["--metrics", "--otel", "memory"], "/public/rpc"),
    # the same with head sampling of one trace in ten (a production setting): unsampled calls make
    # non-recording spans
    "ours+metrics+otel-10%": ("rpc_kaiju.py", ["--metrics", "--otel", "memory", "--otel-ratio", "0.1"],
                              "/public/rpc"),
}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it from Debian's packages", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def start(kind: str, port: int, extra: list[str], wrap: Sequence[str] = ("taskset", "-c", "0"),
          wait: float = 30, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start server ``kind`` on ``port`` under ``wrap`` (a command prefix) and wait for its socket."""
    script, own, _ = KINDS[kind]
    proc = subprocess.Popen([*wrap, PY, str(HERE / script), str(port), *own, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start on port {port}")


def lua_script(body: str) -> str:
    path = Path(tempfile.mkdtemp()) / "post.lua"
    path.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
    return str(path)


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, url: str, script: str, pid: int, duration: float) -> dict[str, float]:
    before = cpu_ticks(pid)
    out = subprocess.run(["taskset", "-c", "1", wrk, "-t1", "-c32", f"-d{duration:g}s", "--latency", "-s",
                          script, url], capture_output=True, text=True, check=True).stdout
    after = cpu_ticks(pid)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "cpu_us": (after - before) / TICKS * 1e6 / max(requests, 1),
    }


def bench(wrk: str, extra: list[str], duration: float, reps: int,
          kinds: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Each repetition starts fresh server processes: a process's own layout (hash seed,
    addresses) moves its speed by several per cent, so repetitions must not share one."""
    scripts = {name: lua_script(json.dumps(body)) for name, body in SCENARIOS.items()}
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {kind: [] for kind in kinds} for name in SCENARIOS}
    for rep in range(reps):
        order = kinds if rep % 2 == 0 else kinds[::-1]
        urls = {kind: f"http://127.0.0.1:{free_port()}{KINDS[kind][2]}" for kind in kinds}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for kind, url in urls.items():
                procs[kind] = start(kind, int(url.rsplit(":", 1)[1].split("/")[0]), extra)
            for name, script in scripts.items():
                for kind in order:  # warm-up
                    run_wrk(wrk, urls[kind], script, procs[kind].pid, 1)
                for kind in order:
                    runs[name][kind].append(run_wrk(wrk, urls[kind], script, procs[kind].pid, duration))
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(10)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, by_kind in runs.items():
        results[name] = {kind: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
                         for kind, rs in by_kind.items()}
        for kind in kinds[:1] + kinds[2:]:  # rep by rep against the limit's run next to it
            results[name][kind]["paired"] = statistics.median(
                a["cpu_us"] / b["cpu_us"] for a, b in zip(by_kind[kind], by_kind["limit"], strict=True))
    return results


def report(title: str, results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [f"### {title}", "",
             "| scenario | server | req/s | p50 ms | p99 ms | CPU µs/req | ours/limit CPU | paired "
             "| target |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, by_kind in results.items():
        ratio = by_kind["ours"]["cpu_us"] / by_kind["limit"]["cpu_us"]
        target = TARGETS.get(name, 1.10)
        for kind, r in by_kind.items():
            if kind == "ours":
                tail = f"{ratio:.2f} | {r['paired']:.2f} | ≤ {target:.2f}"
            elif kind == "limit":
                tail = " |  | "
            else:
                tail = f"{r['cpu_us'] / by_kind['limit']['cpu_us']:.2f} | {r['paired']:.2f} | (diagnostic)"
            lines.append(f"| {name} | {kind} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                         f"{r['cpu_us']:.1f} | {tail} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per server (default 3)")
    parser.add_argument("--variants", default="", help="also measure: uvloop, orjson (comma-separated)")
    parser.add_argument("--diagnose", action="store_true",
                        help="also measure the raw handler mounted in our app (raw-in-ours)")
    args = parser.parse_args()
    kinds = ["ours", "limit", "raw-in-ours"] if args.diagnose else ["ours", "limit"]
    wrk = ensure_wrk()
    configs = [("asyncio loop, ujson", [])]
    variants = {v.strip() for v in args.variants.split(",") if v.strip()}
    if "uvloop" in variants:
        configs.append(("uvloop, ujson", ["--uvloop"]))
    if "orjson" in variants:
        configs.append(("asyncio loop, orjson", ["--codec", "orjson"]))
    if {"uvloop", "orjson"} <= variants:
        configs.append(("uvloop, orjson", ["--uvloop", "--codec", "orjson"]))
    for title, extra in configs:
        print(report(title, bench(wrk, extra, args.duration, args.reps, kinds)), "\n", flush=True)


if __name__ == "__main__":
    main()
