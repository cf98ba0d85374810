"""``run.drain_delay``: after SIGTERM the server keeps serving with readiness false, then stops."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

from kernel_support import AppDir
from suite_support import serving, stop


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def make(app_dir: AppDir, delay: str) -> None:
    app_dir.write("settings/config.yml", f"""
        main:
          name: drainer
        run:
          port: "[run_port]"
          drain_delay: {delay}
    """)
    app_dir.write("settings/env.json", '{"run_port": 8080}')


def test_readiness_turns_false_while_the_server_still_answers(app_dir: AppDir) -> None:
    make(app_dir, "30")
    with serving(app_dir) as (proc, port):
        assert get(port, "/health/ready")[0] == 200
        proc.send_signal(signal.SIGTERM)
        for _ in range(200):  # the signal is handled asynchronously: poll until it is seen
            status, body = get(port, "/health/ready")
            if status == 503:
                break
        assert status == 503 and body["stopping"] is True  # still answering: draining
        assert get(port, "/health/live")[0] == 200
        code, _, err = stop(proc, signal.SIGTERM)  # a second signal stops at once
    assert code == 0, err
    assert "readiness is false; serving 30 s more before stopping (run.drain_delay)" in err


def test_a_bad_drain_delay_is_a_settings_error(app_dir: AppDir) -> None:
    make(app_dir, "-1")
    result = app_dir.run("config")
    assert result.returncode == 2
    assert "run.drain_delay" in result.stderr and "expected 0 or more seconds, got -1" in result.stderr
