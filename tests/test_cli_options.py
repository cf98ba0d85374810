"""An app's command line: ``--host`` / ``--port``, and the services a command starts."""

from __future__ import annotations

import argparse
import urllib.request

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kaiju_tools._cli import _port, command_index
from kernel_support import AppDir, free_port
from suite_support import EVENTS_SERVICES, events, run, stop, wait_port

COMMANDS = '''
from kaiju_tools import Command, get_services
from tapp.services import Recorder


class All(Command):
    """Starts every service (the default)."""

    name = "all"

    async def run(self, app, args):
        print(",".join(s.service_name for s in get_services(app)))


class OnlyWeb(Command):
    """Needs the web service only (and what it depends on)."""

    name = "only-web"
    services = ["web"]

    async def run(self, app, args):
        print(",".join(s.service_name for s in get_services(app)))


class ByClass(Command):
    name = "by-class"
    services = [Recorder]

    async def run(self, app, args):
        print(",".join(s.service_name for s in get_services(app)))


class Missing(Command):
    name = "missing"
    services = ["nope"]

    async def run(self, app, args):
        print("never")
'''


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", EVENTS_SERVICES)
    app_dir.write("tapp/commands.py", COMMANDS)
    app_dir.write("settings/config.yml", """
        run:
          port: "[run_port]"
        services:
          - cls: Recorder
            name: db
          - cls: Recorder
            name: web
            depends_on: [db]
          - cls: Recorder
            name: mailer
    """)
    app_dir.write("settings/env.json", '{"run_port": 8080}\n')
    return app_dir


def config_lines(app: AppDir, *args: str) -> dict[str, str]:
    result = run(app, *args)
    assert result.returncode == 0, result.stderr
    return {line.split(" = ")[0]: line for line in result.stdout.splitlines() if " = " in line}


# ---- --host / --port ------------------------------------------------------------------

def test_port_and_host_show_in_config_as_cli(app: AppDir) -> None:
    lines = config_lines(app, "--port", "9123", "--host", "0.0.0.0", "config")
    assert lines["run.port"] == "run.port = 9123  # CLI --port 9123"
    assert lines["run.host"] == 'run.host = "0.0.0.0"  # CLI --host 0.0.0.0'


def test_port_wins_over_an_e_value_and_may_follow_the_command(app: AppDir) -> None:
    lines = config_lines(app, "-e", "run_port=9000", "config", "--port", "9124")
    assert lines["run.port"] == "run.port = 9124  # CLI --port 9124"


def test_the_app_serves_on_the_port_given(app: AppDir) -> None:
    port = free_port()
    proc = app.popen("--port", str(port))
    try:
        wait_port(port, proc)
        with pytest.raises(urllib.error.HTTPError) as answer:  # served: 404 for an unknown path
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=10)
        answer.value.close()
        assert answer.value.code == 404
    finally:
        code, _, err = stop(proc)
    assert code == 0, err


@pytest.mark.parametrize("value", ["http", "70000", "-1"])
def test_a_bad_port_is_a_usage_error(app: AppDir, value: str) -> None:
    result = run(app, f"--port={value}", "config")
    assert result.returncode == 2
    assert "argument --port: expected a port number 0-65535, got" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_shows_host_and_port(app: AppDir) -> None:
    out = run(app, "--help").stdout
    assert "--host HOST" in out and "--port PORT" in out
    assert "run.port" in out


# ---- which services a command starts ----------------------------------------------------

def test_a_command_starts_every_service_by_default(app: AppDir) -> None:
    result = run(app, "all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "db,web,mailer"
    assert sorted(events(app.root / "events.txt")) == sorted(
        ["build db", "build web", "build mailer", "init db", "init web", "init mailer",
         "close mailer", "close web", "close db"])


def test_a_command_starts_only_the_services_it_declares_and_their_dependencies(app: AppDir) -> None:
    result = run(app, "only-web")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "db,web"
    assert events(app.root / "events.txt") == ["build db", "build web", "init db", "init web",
                                               "close web", "close db"]  # mailer: never built


def test_a_command_may_declare_service_classes(app: AppDir) -> None:
    result = run(app, "by-class")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "db,web,mailer"


def test_a_declared_service_that_is_not_configured_is_a_clear_error(app: AppDir) -> None:
    result = run(app, "missing")
    assert result.returncode == 1
    assert "command 'missing' needs the service 'nope'" in result.stderr
    assert "Configured: db, web, mailer" in result.stderr
    assert "Traceback" not in result.stderr
    assert events(app.root / "events.txt") == []


# ---- the parsing helpers, for any input ----------------------------------------------------

_OPTION = st.sampled_from(["-c", "--config", "-f", "--env-file", "-e", "--env", "--host", "--port"])
_VALUE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@given(st.lists(st.tuples(_OPTION, _VALUE), max_size=4), st.from_regex(r"[a-z][a-z-]{0,10}", fullmatch=True),
       st.lists(_VALUE, max_size=3))
def test_the_command_word_is_found_after_any_options(options: list[tuple[str, str]], word: str,
                                                     rest: list[str]) -> None:
    argv = [x for pair in options for x in pair] + [word, *rest]
    assert command_index(argv) == 2 * len(options)


@given(st.integers())
def test_a_port_is_accepted_exactly_when_it_is_0_to_65535(port: int) -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--port", type=_port)
    if 0 <= port <= 65535:
        assert parser.parse_args(["--port", str(port)]).port == port
    else:
        with pytest.raises(argparse.ArgumentError, match=f"expected a port number 0-65535, got {port}"):
            parser.parse_args(["--port", str(port)])


def _not_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return True
    return False


@given(st.text(max_size=10).filter(_not_int))
def test_a_port_that_is_not_a_number_is_refused_with_the_value(text: str) -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--port", type=_port)
    with pytest.raises(argparse.ArgumentError, match="expected a port number 0-65535, got"):
        parser.parse_args([f"--port={text}"])
