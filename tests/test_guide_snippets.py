"""The guide's snippets run as written: the basic application, run_server, services, logger.

Deviations from the guide's text, each forced by the text itself:
- ``application.py`` uses ``Path`` without importing it: the import is added;
- the guide's config lists ``packages: [kaiju_db]``: a local module of that name stands in;
- ``env.json`` says ``"run_host": "localhost"``: tests pass ``-e run_host=127.0.0.1`` and a
  free port, so that they never collide with another process.
"""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from kaiju_tools import get_logger
from kernel_support import child_env, free_port
from suite_support import CHILD_ENV, events, stop, wait_port

GUIDE_INIT = '''
from kaiju_tools.app import COMMANDS, SERVICE_CLASS_REGISTRY

import app.commands
from app import services

__version__ = '1.0.0'

SERVICE_CLASS_REGISTRY.register_from_module(services)
COMMANDS.register_from_module(app.commands)
'''

GUIDE_APPLICATION = '''
from pathlib import Path

from kaiju_tools import App
from kaiju_tools.app import init_app as init_app_base
from kaiju_tools.http import JSONRPCView

from app.tables import METADATA
from app.views import MyView

__all__ = ['init_app', 'URLS']

URLS = [
  ('*', '/public/rpc', JSONRPCView, 'json_rpc_view'),
  ('*', '/my/view', MyView, 'my_view')
]  #: web app routes

def init_app(settings, **kws) -> App:
    _dir = Path(__file__).parent
    app = init_app_base(settings, attrs={'db_meta': METADATA}, **kws)
    for method, reg, handler, name in URLS:
        app.router.add_route(method, reg, handler)
        app.router.add_route(method, reg + '/', handler, name=name)
    return app
'''

GUIDE_MAIN = '''
from kaiju_tools.app import run_server
from app.application import init_app

if __name__ == '__main__':
    run_server(
        init_app,
        base_config_paths=[
            './settings/config.yml',
            './settings/services/services.yml'
        ],
        base_env_paths=['./settings/env.json'],
        default_env_paths=['./settings/env.local.json'],
    )
'''

GUIDE_CONFIG = '''
packages:
  - kaiju_db
app:
  debug: "[app_debug]"
run:
  host: "[run_host]"
  port: "[run_port]"
main:
  name: "[main_name]"
  version: "1.0"
  env: "[main_env:'dev']"
  loglevel: "[main_loglevel:'INFO']"
etc:
  additional_data: 123
services:
  - cls: MyService
    name: my_service
    settings:
      value: 42
'''

GUIDE_ENV = '''
{
  "app_debug": true,
  "main_name": "my_app",
  "run_host": "localhost",
  "run_port": 9999,
  "main_env": "prod",
  "main_loglevel": "DEBUG"
}
'''

SERVICES = '''
from pathlib import Path

from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY


def note(text):
    with Path("events.txt").open("a", encoding="utf-8") as f:
        f.write(text + "\\n")


class Pool:
  def close(self):
    note("pool closed")


class MyPoolService(ContextableService):
  """The guide's contextable service."""

  _pool = None

  async def _initialize_pool(self):
    note("pool opened")
    return Pool()

  async def init(self):
    self._pool = await self._initialize_pool()

  async def close(self):
    if self._pool:
      self._pool.close()

SERVICE_CLASS_REGISTRY.register(MyPoolService)
'''

KAIJU_DB = '''
from kaiju_tools import ContextableService


class MyService(ContextableService):
    """Stands in for the guide's `kaiju_db` package: a service with a `value` setting."""

    def __init__(self, app, value: int = 0, logger=None):
        super().__init__(app=app, logger=logger)
        self.value = value

    async def init(self):
        self.logger.info('Log in completed.', user_id=7)
'''

VIEWS = '''
from aiohttp import web
from kaiju_tools import get_attrs, get_services, get_settings


class MyView(web.View):
    async def get(self):
        app = self.request.app
        service = get_services(app).discover("my_service")
        settings = get_settings(app)
        return web.json_response({
            "value": service.value, "db_meta": get_attrs(app)["db_meta"], "name": settings.main.name,
            "env": settings.main.env,
            "additional_data": settings.etc["additional_data"],
            "services": [s.service_name for s in get_services(app)],
        })
'''

COMMANDS = '''
from kaiju_tools import Command, get_services


class Report(Command):
    """Print the services and their states."""

    name = "report"

    async def run(self, app, args):
        print(" ".join(f"{s.service_name}={s.state.value}" for s in get_services(app)))
'''


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")


@pytest.fixture
def basic_app(tmp_path: Path) -> Path:
    """The guide's "Basic application" layout, file by file."""
    write(tmp_path, "app/__init__.py", GUIDE_INIT)
    write(tmp_path, "app/__main__.py", GUIDE_MAIN)
    write(tmp_path, "app/application.py", GUIDE_APPLICATION)
    write(tmp_path, "app/services/__init__.py", SERVICES)
    write(tmp_path, "app/tables.py", "METADATA = {'tables': ['users']}\n")
    write(tmp_path, "app/views.py", VIEWS)
    write(tmp_path, "app/commands.py", COMMANDS)
    write(tmp_path, "kaiju_db.py", KAIJU_DB)
    write(tmp_path, "settings/config.yml", GUIDE_CONFIG)
    write(tmp_path, "settings/services/services.yml", "services:\n  - cls: MyPoolService\n")
    write(tmp_path, "settings/env.json", GUIDE_ENV)
    write(tmp_path, "settings/env.local.json", '{"main_env": "local"}\n')
    return tmp_path


def python_m_app(root: Path, *args: str,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=root, capture_output=True, text=True,
                          env=child_env({**CHILD_ENV, **(env or {})}), timeout=60)


def test_the_basic_application_serves(basic_app: Path) -> None:
    port = free_port()
    # the guide's "Environment variables" section: `run_port=9999 python -m app`
    proc = subprocess.Popen([sys.executable, "-m", "app", "-e", "run_host='127.0.0.1'"], cwd=basic_app,
                            env=child_env({**CHILD_ENV, "run_port": str(port)}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/my/view")
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
        assert response.status == 200
        assert body == {"value": 42, "db_meta": {"tables": ["users"]}, "name": "my_app", "env": "local",
                        "additional_data": 123,
                        "services": ["my_service", "MyPoolService"]}
        code, _, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 0, err
    assert events(basic_app / "events.txt") == ["pool opened", "pool closed"]


def test_the_basic_application_runs_its_commands(basic_app: Path) -> None:
    result = python_m_app(basic_app, "report")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "my_service=running MyPoolService=running"
    assert "Log in completed." in result.stderr  # main_loglevel DEBUG from env.json


def test_the_basic_application_help(basic_app: Path) -> None:
    result = python_m_app(basic_app, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m app" in result.stdout
    assert "report" in result.stdout and "Print the services and their states." in result.stdout


def test_the_guides_f_example_replaces_default_env_paths(basic_app: Path) -> None:
    write(basic_app, "settings/executor.env.json", '{"main_name": "executor"}\n')
    write(basic_app, "settings/local.executor.env.json", '{"main_loglevel": "WARNING"}\n')
    result = python_m_app(basic_app, "-f", "settings/executor.env.json", "-f",
                          "settings/local.executor.env.json", "config", "--json")
    assert result.returncode == 0, result.stderr
    main = json.loads(result.stdout)["main"]
    assert main == {"name": "executor", "version": "1.0", "env": "prod", "loglevel": "WARNING"}


def test_the_guides_e_example(basic_app: Path) -> None:
    result = python_m_app(basic_app, "-e", "main_env=test", "config", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["main"]["env"] == "test"


def test_the_guides_run_server_snippet(tmp_path: Path) -> None:
    write(tmp_path, "app/__init__.py", "")
    write(tmp_path, "app/__main__.py", '''
from kaiju_tools import run_server, init_app

run_server(
    init_app,
    base_config_paths=['./settings/config.yml'],
    base_env_paths=['./settings/env.base.json'],
    default_env_paths=['./settings/env.local.json'],
)
''')
    write(tmp_path, "settings/config.yml", 'main:\n  name: "[main_name]"\n  env: "[main_env]"\n')
    write(tmp_path, "settings/env.base.json", '{"main_name": "snippet", "main_env": "base"}\n')
    write(tmp_path, "settings/env.local.json", '{"main_env": "local"}\n')
    result = python_m_app(tmp_path, "config", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"main": {"name": "snippet", "env": "local"}}


def test_the_guides_logger_snippet() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    std = logging.getLogger("guide_snippet_logger")
    handler = Keep()
    std.addHandler(handler)
    std.setLevel(logging.INFO)
    try:
        logger = get_logger("guide_snippet_logger")
        user_id = 7
        logger.info('Log in completed.', user_id=user_id)  # user_id will be available in extras
    finally:
        std.removeHandler(handler)
        std.setLevel(logging.NOTSET)
    [record] = records
    assert record.getMessage() == "Log in completed."
    assert record.data == {"user_id": 7}  # type: ignore[attr-defined]
    assert record.funcName == "test_the_guides_logger_snippet"
