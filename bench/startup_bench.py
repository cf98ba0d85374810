"""Start-up to first answered call: our example app (every plugin loaded) vs a raw aiohttp app.

``python bench/startup_bench.py [--reps 7]``

Each rep spawns a fresh process (ours: ``bench/rpc_kaiju.py``, the example app as
``run_server`` starts it; the limit: ``bench/rpc_raw.py``), then POSTs ``bench.ping`` every
2 ms until the first 200 answer; the time from spawn to that answer is one sample. Servers
alternate rep by rep; medians and the ratio are printed. The design budget is ≤ 1.2 times the limit.
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


def one(script: str) -> float:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / script), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = start + 30
        while time.perf_counter() < deadline:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=BODY,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.002)
        raise RuntimeError(f"{script} did not answer within 30 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    ours: list[float] = []
    raw: list[float] = []
    for _ in range(args.reps):
        raw.append(one("rpc_raw.py"))
        ours.append(one("rpc_kaiju.py"))
    m_ours, m_raw = statistics.median(ours), statistics.median(raw)
    print(f"start-up to first answered call, {args.reps} reps alternating, medians")
    print(f"  raw aiohttp (limit): {m_raw * 1000:7.1f} ms  "
          f"(min {min(raw) * 1000:.1f}, max {max(raw) * 1000:.1f})")
    print(f"  kaiju example app:   {m_ours * 1000:7.1f} ms  "
          f"(min {min(ours) * 1000:.1f}, max {max(ours) * 1000:.1f})")
    print(f"  ratio ours/limit:    {m_ours / m_raw:7.2f}  (budget <= 1.20)")


if __name__ == "__main__":
    main()
