"""JSON logging, ours against structlog, in the same run: records per second of the same call.

The call (issue 18): ``logger.info("rpc accepted", request={"method": "rpc.api", "id": 0})``
with a correlation id and a session id bound in the context, each library writing one JSON
line per record to a stream that drops what it gets. Variants:

- ``structlog_json``: structlog's recommended production chain (``merge_contextvars``,
  ``add_log_level``, ``format_exc_info``, ``TimeStamper()``: unix time) ending in
  ``JSONRenderer()`` (stdlib ``json``), a ``PrintLogger`` on a null text stream, the logger
  name bound, ``make_filtering_bound_logger(INFO)``, ``cache_logger_on_first_use``;
- ``structlog_orjson``: the same chain with ``JSONRenderer(serializer=orjson.dumps)`` and a
  ``BytesLogger`` on a null binary stream (structlog's fastest documented set-up);
- ``ours``: the guide's logger API (``kaiju_tools.get_logger``) with ``LoggingService``'s
  defaults: the queue and its writer thread, caller and process info recorded, a
  ``JSONHandler`` (orjson when installed) on a null text stream. Timed until the queue is
  drained (every record written);
- ``ours_ujson``: the same with ``formatter_settings: {encoder: ujson}``;
- ``ours_lean``: ``LoggingService(record_caller=False, record_process=False)``.

Fields written: ours ``t name lvl msg cid sid t_max data pid`` (caller file/line, thread and
process names are in every record, for other handlers); structlog ``name correlation_id
session_id request event level timestamp``.

Each (variant, rep) runs in a fresh Python process, variants alternating rep by rep; a
process warms up, times its loop of ``--records`` calls 5 times and keeps the fastest (as
``timeit``). The table gives the median over reps and the ratio of each variant to both
structlog variants (median of the per-rep ratios: each rep's processes ran back to back).

``--callgrind`` counts instructions per record instead (valgrind; load does not move them):
each variant runs under callgrind with ``--records`` calls and with none, the difference
divided by the count (writer thread included), averaged over ``PYTHONHASHSEED`` 1..``--reps``.

Usage (from the repository root; ``pip install -r bench/requirements.txt``)::

    python bench/logging_vs_structlog.py                      # records/s, 7 reps
    python bench/logging_vs_structlog.py --callgrind --reps 2 # instructions per record
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VARIANTS = ("structlog_json", "structlog_orjson", "ours", "ours_ujson", "ours_lean")
BASES = ("structlog_json", "structlog_orjson")
INNER = 5
WARMUP = 2000
REQUEST = {"method": "rpc.api", "id": 0}
CID, SID = "20d35cfc", "6f580b919f00704584a0453a883310be"


class NullText(io.TextIOBase):
    """A text stream that drops what it gets (counts the characters, to check output happened)."""

    def __init__(self) -> None:
        self.chars = 0
        self.last = ""

    def write(self, s: str) -> int:
        self.chars += len(s)
        if len(s) > 1:  # print() writes the line, then its newline
            self.last = s
        return len(s)

    def flush(self) -> None:
        pass


class NullBytes(io.RawIOBase):
    """A binary stream that drops what it gets."""

    def __init__(self) -> None:
        self.chars = 0
        self.last = b""

    def write(self, b: Any) -> int:
        self.chars += len(b)
        self.last = bytes(b)
        return len(b)

    def flush(self) -> None:
        pass


def structlog_setup(use_orjson: bool) -> tuple[Callable[[int], None], Any]:
    import structlog

    if use_orjson:
        import orjson

        stream: Any = NullBytes()
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
        factory: Any = structlog.BytesLoggerFactory(stream)
    else:
        stream = NullText()
        renderer = structlog.processors.JSONRenderer()
        factory = structlog.PrintLoggerFactory(stream)
    structlog.configure(
        cache_logger_on_first_use=True,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.TimeStamper(),
            renderer,
        ],
        logger_factory=factory,
    )
    structlog.contextvars.bind_contextvars(correlation_id=CID, session_id=SID)
    log = structlog.get_logger(name="app.rpc")

    def run(n: int) -> None:
        info = log.info
        for _ in range(n):
            info("rpc accepted", request=REQUEST)

    return run, stream


def ours_setup(variant: str) -> tuple[Callable[[int], None], Any]:
    from kaiju_plugins.logging import LoggingService
    from kaiju_tools import context, get_logger

    stream = NullText()
    handler: dict[str, Any] = {"cls": "JSONHandler", "name": "default", "settings": {"stream": stream}}
    if variant == "ours_ujson":
        handler["formatter_settings"] = {"encoder": "ujson"}
    lean = variant == "ours_lean"
    service = LoggingService(loggers=[{"name": "app", "handlers": True, "level": "INFO"}], handlers=[handler],
                             record_caller=not lean, record_process=not lean)
    context.bind(correlation_id=CID, session_id=SID)
    log = get_logger("app.rpc")

    def run(n: int) -> None:
        service.configure()  # starts the writer thread
        info = log.info
        for _ in range(n):
            info("rpc accepted", request=REQUEST)
        service.unconfigure()  # drains the queue: every record is written before the clock stops

    return run, stream


def setup(variant: str) -> tuple[Callable[[int], None], Any]:
    if variant.startswith("structlog"):
        return structlog_setup(variant == "structlog_orjson")
    return ours_setup(variant)


def child(variant: str, n: int, mode: str) -> None:
    run, stream = setup(variant)
    if mode == "count":  # under callgrind: warm up, then exactly n records
        run(WARMUP)
        run(n)
        return
    run(WARMUP)
    before = stream.chars
    best = float("inf")
    for _ in range(INNER):
        start = time.perf_counter()
        run(n)
        best = min(best, time.perf_counter() - start)
    last = stream.last.decode() if isinstance(stream.last, bytes) else stream.last
    assert stream.chars - before >= INNER * n * 60, "records were not written"
    # the writer thread writes a batch of lines at once: show its last line
    print(json.dumps({"records_per_s": n / best, "line": last.strip().rpartition("\n")[2]}))


def run_child(variant: str, n: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, str(n), "time"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def instructions(variant: str, n: int, seed: int, tmp: Path) -> int:
    counts = []
    for records in (0, n):
        out = tmp / f"cg.{variant}.{records}.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", variant, str(records), "count"],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)})
        match = re.search(r"Collected : (\d+)", proc.stderr)
        assert match, proc.stderr[-2000:]
        counts.append(int(match.group(1)))
    return (counts[1] - counts[0]) // n


def table(title: str, unit: str, med: dict[str, float], ratios: dict[str, dict[str, float]],
          higher_better: bool) -> None:
    print(title)
    print(f"{'variant':18} {unit:>14} {'x structlog_json':>17} {'x structlog_orjson':>19}")
    for variant in VARIANTS:
        if variant not in med:
            continue
        cells = [f"{ratios[variant][b]:.2f}" for b in BASES]
        print(f"{variant:18} {med[variant]:14,.0f} {cells[0]:>17} {cells[1]:>19}")
    better = "higher" if higher_better else "lower"
    print(f"(ratios: structlog's cost over ours, higher is better for ours; {unit} {better} is better)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=None, help="records per timed loop (default 20000; "
                        "3000 with --callgrind)")
    parser.add_argument("--reps", type=int, default=None, help="fresh processes per variant (default 7; "
                        "seeds with --callgrind, default 2)")
    parser.add_argument("--callgrind", action="store_true", help="count instructions per record")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    for base in BASES:
        if base not in variants:
            variants.insert(0, base)
    load = os.getloadavg()
    print(f"python {sys.version.split()[0]}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    raw: dict[str, list[float]] = {v: [] for v in variants}
    if args.callgrind:
        records, reps = args.records or 3000, args.reps or 2
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(1, reps + 1):
                for variant in variants:
                    raw[variant].append(instructions(variant, records, seed, Path(tmp)))
        med = {v: statistics.mean(x) for v, x in raw.items()}
        ratios = {v: {b: med[b] / med[v] for b in BASES} for v in variants}
        table(f"instructions per record (callgrind, {records} records, mean of PYTHONHASHSEED 1..{reps})",
              "instr/record", med, ratios, higher_better=False)
    else:
        records, reps = args.records or 20_000, args.reps or 7
        lines: dict[str, str] = {}
        for _ in range(reps):  # reps outermost: a noisy minute hits every variant alike
            for variant in variants:
                result = run_child(variant, records)
                raw[variant].append(result["records_per_s"])
                lines[variant] = result["line"]
        med = {v: statistics.median(x) for v, x in raw.items()}
        ratios = {v: {b: statistics.median(x / y for x, y in zip(raw[v], raw[b], strict=True)) for b in BASES}
                  for v in variants}
        table(f"records/s ({records} records a loop, best of {INNER} loops a process, median of {reps} "
              f"fresh-process reps)", "records/s", med, ratios, higher_better=True)
        print("\nlines written:")
        for variant, line in lines.items():
            print(f"  {variant}: {line}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"records": records, "reps": reps, "callgrind": args.callgrind, "median": med,
                       "ratios": ratios, "raw": raw}, fh, indent=1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
