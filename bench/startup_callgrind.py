"""Start-up in instructions (callgrind): our example app vs the raw aiohttp app, to the first answer.

``python bench/startup_callgrind.py [--reps 2]``

Each server runs under ``valgrind --tool=callgrind`` from spawn; ``bench.ping`` is POSTed until the
first 200 answer, then ``callgrind_control -d`` dumps the counts so far and the process is killed.
The instruction count of the whole start-up (interpreter, imports, app build, first call) does not
depend on the machine's load, unlike ``startup_bench.py``'s wall-clock times. The first run of ours
fills the kernel's caches (entry points, parsed settings) and is not counted. Needs valgrind.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from startup_bench import HERE, free_port, wait_answer


def instructions(script: str) -> int:
    """Instructions from spawn to the first answered call of ``bench/<script>``."""
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "callgrind.out")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                             str(HERE / script), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_answer(port, 300, 0.05, 10):
            raise RuntimeError(f"{script} did not answer under callgrind within 300 s")
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], stdout=subprocess.DEVNULL, check=False)
        time.sleep(1)
    finally:
        proc.kill()
        proc.wait()
    total = 0
    for name in glob.glob(out + "*"):
        for line in Path(name).read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    instructions("rpc_kaiju.py")  # fills the caches
    raw = [instructions("rpc_raw.py") for _ in range(args.reps)]
    ours = [instructions("rpc_kaiju.py") for _ in range(args.reps)]
    m_raw, m_ours = statistics.median(raw), statistics.median(ours)
    print(f"start-up to first answered call, instructions (callgrind), {args.reps} reps, medians")
    print(f"  raw aiohttp (limit): {m_raw / 1e6:8.1f} M")
    print(f"  kaiju example app:   {m_ours / 1e6:8.1f} M")
    print(f"  ratio ours/limit:    {m_ours / m_raw:8.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
