"""JSON-RPC over HTTP, counted in instructions: our example app vs the raw aiohttp handler.

One command (from the project root; needs valgrind)::

    /tmp/dev/bin/python bench/rpc_callgrind.py                 # ~5 minutes
    /tmp/dev/bin/python bench/rpc_callgrind.py --requests 4000 --scenario "batch of 10"

wrk's CPU figures swing by ±15 % on this 2-core machine; instruction counts do not. Each
server (``bench/rpc_kaiju.py`` and ``bench/rpc_raw.py``, as ``rpc_bench.py`` starts them)
runs under ``valgrind --tool=callgrind`` with instrumentation off; a client in this process
(32 keep-alive connections, like ``wrk -c32``) sends a warm-up, then instrumentation is
switched on for exactly ``--requests`` requests and off again. String hashing is
randomised per process, which moves the count by a few thousand instructions (dict
layouts differ): each server runs once per ``--seeds`` value (``PYTHONHASHSEED``) and the
counts are averaged. Printed per scenario: instructions per request of each server and
their ratio. Instructions are not seconds (cache misses and branch mispredictions are not
counted; ``--cache-sim`` / ``--branch-sim`` simulate them), but averaged over seeds they
repeat to a few hundred instructions, so a change of a thousand per request shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rpc_bench  # noqa: E402
from rpc_bench import KINDS, SCENARIOS, TARGETS  # noqa: E402

PY = sys.executable
VALGRIND: list[str] = []  # more valgrind options (--cache-sim adds the cache simulation)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str, port: int, out: Path, extra: list[str], seed: int) -> subprocess.Popen[bytes]:
    wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *VALGRIND]
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    return rpc_bench.start(kind, port, extra, wrap=wrap, wait=300, env=env)


async def _connection(port: int, request: bytes, count: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while count[0] > 0:
            count[0] -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length: *(\d+)", head)
            if match:
                await reader.readexactly(int(match.group(1)))
    finally:
        writer.close()


def drive(port: int, path: bytes, body: bytes, requests: int, connections: int = 32) -> None:
    request = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (path, len(body), body))
    count = [requests]

    async def run() -> None:
        await asyncio.gather(*(_connection(port, request, count) for _ in range(connections)))

    asyncio.run(run())


def totals(out: Path) -> dict[str, int]:
    """The event totals of a callgrind output file (Ir, and D1mr... with --cache-sim)."""
    events: list[str] = []
    for line in out.read_text().splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("totals:"):  # ("summary:" stays 0 when counting was switched off at exit)
            return dict(zip(events, map(int, line.split()[1:]), strict=False))
    raise RuntimeError(f"no totals in {out}")


def measure(kind: str, body: bytes, requests: int, warmup: int, extra: list[str],
            seed: int = 1) -> dict[str, float]:
    """Events per request of server ``kind`` started with ``PYTHONHASHSEED=seed``."""
    port = free_port()
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    proc = start(kind, port, out, extra, seed)
    try:
        path = KINDS[kind][2].encode()
        drive(port, path, body, warmup)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        drive(port, path, body, requests)
        subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {event: count / requests for event, count in totals(out).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="counted requests per server (default 2000)")
    parser.add_argument("--warmup", type=int, default=500, help="requests before counting (default 500)")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS),
                        help="a scenario to count (repeatable; default: all)")
    parser.add_argument("--cache-sim", action="store_true",
                        help="also count simulated cache misses (I1/D1/LL, per request)")
    parser.add_argument("--branch-sim", action="store_true",
                        help="also count simulated branch mispredictions (Bcm conditional, Bim indirect)")
    parser.add_argument("--seeds", default="1,2,3",
                        help="PYTHONHASHSEED values, one server process each; counts are averaged "
                             "(default 1,2,3)")
    parser.add_argument("--kinds", default="ours,limit",
                        help="servers to count: ours, limit, raw-in-ours, ours+otel, ours+otel-lean, "
                             "ours-outcome-off, ours+outcome-info, ours+metrics, ours+metrics+otel, "
                             "ours+metrics+otel-10%% "
                             "(default ours,limit)")
    args, extra = parser.parse_known_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is missing: apt-get install valgrind")
    if args.cache_sim:
        VALGRIND.append("--cache-sim=yes")
    if args.branch_sim:
        VALGRIND.append("--branch-sim=yes")
    kinds = [k.strip() for k in args.kinds.split(",")]
    print("| scenario | " + " | ".join(f"{k} instr/req" for k in kinds) + " | ours/limit | target |")
    print("| --- |" + " ---: |" * (len(kinds) + 2))
    for name in args.scenario or SCENARIOS:
        body = json.dumps(SCENARIOS[name]).encode()
        seeds = [int(x) for x in args.seeds.split(",")]
        got = {}
        for kind in kinds:
            each = [measure(kind, body, args.requests, args.warmup, extra, seed) for seed in seeds]
            got[kind] = {event: sum(e[event] for e in each) / len(each) for event in each[0]}
        ratio = f"{got['ours']['Ir'] / got['limit']['Ir']:.3f}" if "ours" in got and "limit" in got else ""
        for traced in ("ours+otel", "ours+otel-lean"):  # what tracing costs per call
            if traced in got and "ours" in got:
                ratio += f" ({traced}/ours {got[traced]['Ir'] / got['ours']['Ir']:.3f})"
        if "ours-outcome-off" in got:  # what the outcome log / metrics cost per call
            base = got["ours-outcome-off"]["Ir"]
            for kind in ("ours", "ours+outcome-info", "ours+metrics"):
                if kind in got:
                    ratio += f" ({kind}/outcome-off {got[kind]['Ir'] / base:.3f})"
        print(f"| {name} | " + " | ".join(f"{got[k]['Ir']:,.0f}" for k in kinds) +
              f" | {ratio} | ≤ {TARGETS.get(name, 1.10):.2f} |", flush=True)
        if args.cache_sim or args.branch_sim:
            for kind in kinds:
                print(f"|  {kind} misses per request: " +
                      ", ".join(f"{e} {v:,.0f}" for e, v in got[kind].items() if e != "Ir") + " |",
                      flush=True)


if __name__ == "__main__":
    main()
