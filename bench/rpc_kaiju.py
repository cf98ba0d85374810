"""Ours: the example app (``examples/``) as ``run_server`` starts it, plus the bench methods.

``python bench/rpc_kaiju.py PORT [--uvloop] [--codec ujson|orjson] [--request-logs] [--otel memory|none]
[--otel-attributes recommended|required] [--otel-ratio R] [--outcome-log LEVEL] [--metrics]``

The example's own config files are used; one generated file (JSON, which YAML reads; the same
path for the same content, rewritten only when it changes, as a deployment's files are) adds the
``Bench`` service
and sets the rpc server's ``request_logs`` (the example turns them on; the raw handler
writes no logs, so they are off unless ``--request-logs``). ``--otel memory`` activates the otel
plugin (``packages: [otel]``) with every trace sampled (``--otel-ratio``: that share of the
traces) and spans exported to an in-memory exporter (``none``: spans made and dropped); the
plugin must be installed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--codec", default="ujson")
    parser.add_argument("--request-logs", action="store_true")
    parser.add_argument("--raw-handler", action="store_true",
                        help="also mount the raw handler (bench/rpc_raw.py) at /raw/rpc: a diagnostic that "
                             "separates the app's environment from the view's own work")
    parser.add_argument("--otel", choices=["memory", "none"],
                        help="activate the otel plugin, spans sampled, exported in memory (or dropped)")
    parser.add_argument("--otel-attributes", choices=["recommended", "required"], default="recommended",
                        help="with --otel: the recommended attributes too, or only the required ones")
    parser.add_argument("--otel-ratio", type=float, default=1.0,
                        help="with --otel: the sampler's share of traces (default 1.0: every trace)")
    parser.add_argument("--outcome-log", help="the rpc server's outcome_log (DEBUG, INFO, WARNING, off); "
                                              "default: the server's default")
    parser.add_argument("--metrics", action="store_true",
                        help="activate the metrics plugin (packages: [metrics]); it must be installed")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from kaiju_plugins.config_yaml import load_yaml

    services = dict(load_yaml(EXAMPLES / "settings" / "services.yml").data)
    for entry in services["services"]:
        if entry["cls"] == "JSONRPCServer":
            entry["settings"].update(request_logs=args.request_logs, codec=args.codec)
            if args.outcome_log:
                entry["settings"]["outcome_log"] = args.outcome_log
    services["services"].append({"cls": "Bench", "name": "bench"})
    if args.otel:
        services["packages"] = ["otel"]
        services["etc"] = {"otel": {"exporter": args.otel, "sample_ratio": args.otel_ratio,
                                    "attributes": args.otel_attributes}}
    if args.metrics:
        services["packages"] = [*services.get("packages", []), "metrics"]
    text = json.dumps(services, indent=1)
    tmp = Path(tempfile.gettempdir()) / f"kaiju-bench-{hashlib.sha1(text.encode()).hexdigest()[:16]}.yml"
    if not tmp.exists() or tmp.read_text() != text:
        tmp.write_text(text)
    os.chdir(EXAMPLES)
    sys.path[:0] = [str(EXAMPLES), str(Path(__file__).parent)]
    import rpc_service  # noqa: F401 -- registers Bench
    from app.application import init_app
    from kaiju_tools.app import run_server

    if args.raw_handler:
        import rpc_raw

        raw = next(iter(rpc_raw.make_app(args.codec).router.routes())).handler
        raw.kaiju_outcome = "quiet"  # the limit: no outcome line of the kernel's (run.outcome_log)
        example_init_app = init_app

        def init_app(settings, **kws):  # the example's app, plus the raw handler
            app = example_init_app(settings, **kws)
            app.router.add_post("/raw/rpc", raw)
            return app

    run_server(init_app, base_config_paths=["./settings/config.yml", str(tmp)],
               base_env_paths=["./settings/env.json"], argv=["-e", f"run_port={args.port}"])


if __name__ == "__main__":
    main()
