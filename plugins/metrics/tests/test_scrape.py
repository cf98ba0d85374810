"""A real app on 127.0.0.1 scraped at /metrics, parsed with prometheus_client's parser."""

from __future__ import annotations

import asyncio

from metrics_support import call, samples, scrape, serve, settings_with, value


def test_rpc_calls_durations_errors_and_http_requests_are_counted() -> None:
    async def go() -> tuple[str, int]:
        async with serve(settings_with()) as running:
            post = running.session.post
            url = running.url + "/public/rpc"
            for _ in range(3):
                async with post(url, json=call("probe.ping")) as resp:
                    assert (await resp.json())["result"] == "pong"
            async with post(url, json=[call("probe.fail", id_=1), call("probe.fail_rpc", id_=2),
                                       call("probe.ping", id_=3)]) as resp:
                code = (await resp.json())[1]["error"]["code"]
            async with running.session.get(running.url + "/hello/you") as resp:
                assert resp.status == 200
            async with running.session.get(running.url + "/nowhere") as resp:
                assert resp.status == 404
            return await scrape(running), code

    text, code = asyncio.run(go())
    parsed = samples(text)
    assert value(parsed, "kaiju_rpc_calls_total", method="probe.ping", outcome="result") == 4
    assert value(parsed, "kaiju_rpc_calls_total", method="probe.fail", outcome="-32603") == 1
    assert value(parsed, "kaiju_rpc_calls_total", method="probe.fail_rpc", outcome=str(code)) == 1
    assert value(parsed, "kaiju_rpc_call_duration_seconds_count", method="probe.ping") == 4
    assert value(parsed, "kaiju_http_requests_total", route="/public/rpc", status="200") == 4
    assert value(parsed, "kaiju_http_requests_total", route="/hello/{name}", status="200") == 1
    assert value(parsed, "kaiju_http_requests_total", route="unknown", status="404") == 1
    assert value(parsed, "kaiju_service_state", service="probe", state="running") == 1
    assert value(parsed, "kaiju_rpc_calls_in_flight") == 0
    assert value(parsed, "kaiju_log_records_total", level="INFO") >= 1  # "app started"
    assert any(name == "kaiju_process_cpu_seconds_total" for name, _ in parsed)


def test_busy_rejections_are_counted() -> None:
    async def go() -> str:
        async with serve(settings_with(rpc={"max_parallel": 1, "max_queue": 0})) as running:
            url = running.url + "/public/rpc"
            async with running.session.post(url, json=[call("probe.sleep", [0.1], 1),
                                                       call("probe.sleep", [0.1], 2),
                                                       call("probe.sleep", [0.1], 3)]) as resp:
                out = await resp.json()
            assert sum(1 for a in out if a.get("error", {}).get("code") == -32003) == 2
            return await scrape(running)

    parsed = samples(asyncio.run(go()))
    assert value(parsed, "kaiju_rpc_busy_rejections_total") == 2
    assert value(parsed, "kaiju_rpc_calls_total", method="probe.sleep", outcome="result") == 1


def test_hostile_method_names_fold_into_one_label() -> None:
    async def go() -> str:
        async with serve(settings_with()) as running:
            url = running.url + "/public/rpc"
            batch = [call(f"evil.{i}\n\"{{x}}", id_=i) for i in range(50)]
            async with running.session.post(url, json=batch) as resp:
                await resp.json()
            return await scrape(running)

    text = asyncio.run(go())
    parsed = samples(text)
    methods = {dict(labels).get("method") for name, labels in parsed if name == "kaiju_rpc_calls_total"}
    assert methods == {"unknown"}
    assert value(parsed, "kaiju_rpc_calls_total", method="unknown", outcome="-32601") == 50
    assert "evil" not in text


def test_prefix_path_and_a_separate_port(unused_port: int) -> None:
    async def go() -> tuple[str, int]:
        settings = settings_with({"prefix": "shop", "path": "/internal/metrics", "port": unused_port,
                                  "host": "127.0.0.1", "process": False})
        async with serve(settings) as running:
            async with running.session.post(running.url + "/public/rpc", json=call("probe.ping")) as resp:
                await resp.json()
            async with running.session.get(running.url + "/internal/metrics") as resp:
                on_app = resp.status
            return await scrape(running, f"http://127.0.0.1:{unused_port}/internal/metrics"), on_app

    text, on_app = asyncio.run(go())
    parsed = samples(text)
    assert on_app == 404
    assert value(parsed, "shop_rpc_calls_total", method="probe.ping", outcome="result") == 1
    assert not any(name.startswith("shop_process") for name, _ in parsed)


def test_inactive_unless_listed_in_packages() -> None:
    async def go() -> int:
        async with serve(settings_with(packages=())) as running, \
                running.session.get(running.url + "/metrics") as resp:
            return resp.status

    assert asyncio.run(go()) == 404


def test_scheduler_runs_failures_and_lateness_are_counted() -> None:
    settings = settings_with()
    settings["services"].append({"cls": "Scheduler", "name": "scheduler", "settings": {"tasks": [
        {"method": "probe.tick", "interval": 0.05}, {"method": "probe.broken_tick", "interval": 0.05}]}})

    async def go() -> str:
        async with serve(settings) as running:
            await asyncio.sleep(0.5)
            return await scrape(running)

    parsed = samples(asyncio.run(go()))
    runs = {dict(labels)["task"]: v for (name, labels), v in parsed.items()
            if name == "kaiju_scheduler_runs_total"}
    assert set(runs) == {"probe.tick", "probe.broken_tick"} and min(runs.values()) >= 2
    failures = value(parsed, "kaiju_scheduler_failures_total", task="probe.broken_tick")
    assert failures == runs["probe.broken_tick"]
    assert value(parsed, "kaiju_scheduler_failures_total", task="probe.tick") == 0
    assert value(parsed, "kaiju_scheduler_lateness_seconds_count", task="probe.tick") == runs["probe.tick"]
    assert value(parsed, "kaiju_service_state", service="scheduler", state="running") == 1
