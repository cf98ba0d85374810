"""Start-up to first answered call: our example app (every plugin loaded) vs a raw aiohttp app.

``python bench/startup_bench.py [--reps 15] [--idle]``

Each rep spawns a fresh process (ours: ``bench/rpc_kaiju.py``, the example app as
``run_server`` starts it; the limit: ``bench/rpc_raw.py``), then POSTs ``bench.ping`` every
2 ms until the first 200 answer; the time from spawn to that answer is one sample. Servers
alternate rep by rep; medians and the ratio are printed. The target (issue 18) is ≤ 1.15 times the
limit. ``--idle``: also the resident set size of each server once it has answered and stayed idle
for half a second (``VmRSS`` of ``/proc/PID/status``); the target is ≤ 1.10 times the limit.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "bench.ping"}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    """``VmRSS`` of a live process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_answer(port: int, within: float, poll: float, timeout: float) -> bool:
    """POST ``bench.ping`` to the server on ``port`` every ``poll`` s until a 200 answer (``True``)
    or ``within`` seconds have passed (``False``); each try waits ``timeout`` s at most."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=BODY,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(poll)
    return False


def one(script: str, idle: bool = False) -> tuple[float, int]:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / script), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_answer(port, 30, 0.002, 1):
            raise RuntimeError(f"{script} did not answer within 30 s")
        took = time.perf_counter() - start
        if idle:
            time.sleep(0.5)
        return took, rss_kib(proc.pid) if idle else 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--idle", action="store_true", help="also the idle resident set size")
    args = parser.parse_args()
    ours: list[float] = []
    raw: list[float] = []
    rss_ours: list[int] = []
    rss_raw: list[int] = []
    for _ in range(args.reps):
        took, rss = one("rpc_raw.py", args.idle)
        raw.append(took)
        rss_raw.append(rss)
        took, rss = one("rpc_kaiju.py", args.idle)
        ours.append(took)
        rss_ours.append(rss)
    m_ours, m_raw = statistics.median(ours), statistics.median(raw)
    print(f"start-up to first answered call, {args.reps} reps alternating, medians")
    print(f"  raw aiohttp (limit): {m_raw * 1000:7.1f} ms  "
          f"(min {min(raw) * 1000:.1f}, max {max(raw) * 1000:.1f})")
    print(f"  kaiju example app:   {m_ours * 1000:7.1f} ms  "
          f"(min {min(ours) * 1000:.1f}, max {max(ours) * 1000:.1f})")
    print(f"  ratio ours/limit:    {m_ours / m_raw:7.2f}  (target <= 1.15)")
    if args.idle:
        r_ours, r_raw = statistics.median(rss_ours), statistics.median(rss_raw)
        print("idle RSS after the first answer, medians")
        print(f"  raw aiohttp (limit): {r_raw / 1024:7.1f} MiB")
        print(f"  kaiju example app:   {r_ours / 1024:7.1f} MiB")
        print(f"  ratio ours/limit:    {r_ours / r_raw:7.3f}  (target <= 1.10)")


if __name__ == "__main__":
    main()
