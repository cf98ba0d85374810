"""Logging throughput: our JSON / text handlers against stdlib formatters, into a null stream.

Each (variant, measure, rep) runs in a fresh Python process, which times its loop of
``--records`` records 10 times and keeps the fastest; the median of the reps is reported,
and every figure is also given as a ratio to the stdlib plain formatter measured in the
same run (the machine is noisy, ratios travel better than absolute numbers).

Measures (records per second, higher is better; caller cost in µs per call, lower is better):

- ``handler``: ``handler.handle(record)`` for prebuilt records shaped like the guide's sample
  (message, ``data`` extras, correlation id / session / deadline in the context): formatting,
  encoding and the write, nothing else.
- ``sync``: ``logger.info("rpc accepted", request=...)`` inside a bound request context, the
  handler attached directly (record creation + dispatch + format + write, in the caller).
- ``queued``: the same calls with our queue in place (JSON/text only). ``caller µs``: cost of
  one call in the calling thread with the writer paused (what a call adds to the event
  loop); ``burst µs``: the same with the writer running, sharing the GIL during a burst;
  ``records/s``: until every record of the burst is written.
- ``queued_lean``: ``queued`` with ``LoggingService(record_caller=False, record_process=False)``
  (no stack walk for the caller's file/line, no thread/process names).

Usage::

    python bench/logging_throughput.py [--records 20000] [--reps 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import subprocess
import sys
import time
from typing import Any

VARIANTS = ("stdlib_plain", "stdlib_json", "text", "json")
MEASURES = ("handler", "sync", "queued", "queued_lean")
INNER = 10
"""Timed loops per process; the fastest counts (as timeit does: it filters out the moments
when other processes take the CPU)."""
CHUNK = 1000
PLAIN_FORMAT = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"


class NullStream(io.TextIOBase):
    """A text stream that drops what is written (``write`` and ``flush`` cost almost nothing)."""

    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


class StdlibJSONFormatter(logging.Formatter):
    """The baseline: the guide's JSON keys built from record attributes, encoded by stdlib json."""

    def format(self, record: logging.LogRecord) -> str:
        from kaiju_tools.context import get_context

        ctx = get_context()
        obj = {
            "t": record.created, "name": record.name, "lvl": record.levelname, "msg": record.getMessage(),
            "cid": ctx.get("correlation_id"), "sid": ctx.get("session_id"), "t_max": ctx.get("deadline"),
            "data": getattr(record, "data", None) or {},
        }
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        return json.dumps(obj, separators=(",", ":"), default=repr, ensure_ascii=False)


def make_handler(variant: str) -> logging.Handler:
    stream = NullStream()
    if variant == "json":
        from kaiju_plugins.logging import JSONHandler

        return JSONHandler(stream=stream)
    if variant == "text":
        from kaiju_plugins.logging import TextHandler

        return TextHandler(stream=stream)
    handler = logging.StreamHandler(stream)
    plain = variant == "stdlib_plain"
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT) if plain else StdlibJSONFormatter())
    return handler


def bind() -> Any:
    from kaiju_tools import context

    return context.bind(correlation_id="20d35cfc", session_id="6f580b919f00704584a0453a883310be",
                        deadline=1682328142)


def one_run(variant: str, measure: str, n: int) -> dict[str, float]:
    from kaiju_tools import get_logger

    handler = make_handler(variant)
    std = logging.getLogger("app")
    std.setLevel(logging.INFO)
    std.propagate = False
    log = get_logger("app.rpc")
    request = {"method": "rpc.api", "id": 0}
    bind()
    if measure == "handler":
        from kaiju_plugins.logging._record import capture_context

        records = []
        for _ in range(n):
            record = std.makeRecord("app.rpc", logging.INFO, __file__, 1, "rpc accepted", (), None,
                                    extra={"data": {"request": request}})
            capture_context(record)
            records.append(record)
        if hasattr(handler, "flush_each_record"):
            handler.flush_each_record = False  # as the queue's writer thread uses it
        handle = handler.handle
        best = float("inf")
        for _ in range(INNER):
            start = time.perf_counter()
            for record in records:
                handle(record)
            best = min(best, time.perf_counter() - start)
        return {"records_per_s": n / best}
    if measure == "sync":
        std.addHandler(handler)
        info = log.info
        best = float("inf")
        for _ in range(INNER):
            start = time.perf_counter()
            for _ in range(n):
                info("rpc accepted", request=request)
            best = min(best, time.perf_counter() - start)
        return {"records_per_s": n / best, "caller_us": best / n * 1e6}
    from kaiju_plugins.logging import LogQueue

    if measure == "queued_lean":  # LoggingService(record_caller=False, record_process=False)
        logging._srcfile = None  # type: ignore[attr-defined]  # noqa: SLF001 -- the stdlib's documented speed switch
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    info = log.info
    paused = drained = busy = float("inf")
    for _ in range(INNER):
        # writer paused: the cost a call adds to the calling thread (the event loop); the
        # queue is drained (untimed) every CHUNK calls, so that no more records pile up
        # in memory than a running writer would leave there
        queue = LogQueue(maxsize=n + 10)
        front = queue.handler([handler])
        std.addHandler(front)
        took = 0.0
        for _ in range(n // CHUNK):
            start = time.perf_counter()
            for _ in range(CHUNK):
                info("rpc accepted", request=request)
            took += time.perf_counter() - start
            queue.drain()
        paused = min(paused, took)
        std.removeHandler(front)
        # writer running: a burst of calls shares the GIL with the writer thread
        queue = LogQueue(maxsize=n + 10)
        front = queue.handler([handler])
        std.addHandler(front)
        queue.start()
        start = time.perf_counter()
        for _ in range(n):
            info("rpc accepted", request=request)
        busy = min(busy, time.perf_counter() - start)
        queue.stop()
        drained = min(drained, time.perf_counter() - start)
        std.removeHandler(front)
        assert queue.dropped == 0
    return {"records_per_s": n / drained, "caller_us": paused / n * 1e6, "burst_caller_us": busy / n * 1e6}


def child(argv: list[str]) -> None:
    variant, measure, n = argv[0], argv[1], int(argv[2])
    print(json.dumps(one_run(variant, measure, n)))


def run_child(variant: str, measure: str, records: int) -> dict[str, float]:
    """One measure of one variant in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--child", variant, measure, str(records)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="records per timed loop")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    raw: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.reps):  # reps outermost: a noisy minute hits every variant alike
        for measure in MEASURES:
            for variant in VARIANTS:
                if measure == "queued" and variant not in ("json", "text"):
                    continue
                if measure == "queued_lean" and variant != "json":
                    continue
                for key, value in run_child(variant, measure, args.records).items():
                    raw.setdefault(f"{measure}/{variant}", {}).setdefault(key, []).append(value)
    med = {name: {k: statistics.median(v) for k, v in figures.items()} for name, figures in raw.items()}
    base_handler = med["handler/stdlib_plain"]["records_per_s"]
    base_sync = med["sync/stdlib_plain"]["records_per_s"]
    base_caller = med["sync/stdlib_plain"]["caller_us"]
    print(f"python {sys.version.split()[0]}, {args.records} records, "
          f"median of {args.reps} fresh-process reps\n")
    print(f"{'measure/variant':22} {'records/s':>10} {'x plain':>8} {'caller µs':>10} {'x plain':>8}"
          f" {'burst µs':>9} {'x plain':>8}")
    table = {}
    for name, figures in med.items():
        base = base_handler if name.startswith("handler/") else base_sync
        rate = figures["records_per_s"]
        row = {**figures, "ratio": rate / base}
        line = f"{name:22} {rate:10.0f} {rate / base:8.2f}"
        for key in ("caller_us", "burst_caller_us"):
            if key in figures:
                row[key.replace("_us", "_ratio")] = figures[key] / base_caller
                width = 10 if key == "caller_us" else 9
                line += f" {figures[key]:{width}.2f} {figures[key] / base_caller:8.2f}"
        table[name] = row
        print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"records": args.records, "reps": args.reps, "median": table, "raw": raw}, fh, indent=1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
