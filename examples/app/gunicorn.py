"""The app for gunicorn (run from examples/, like ``python -m app``)::

    gunicorn 'app.gunicorn:app' --worker-class aiohttp.GunicornWebWorker --workers 2 --bind 127.0.0.1:8080
"""

from kaiju_tools.gunicorn import app_factory

from app.application import init_app

app = app_factory(
    init_app,
    base_config_paths=["./settings/config.yml", "./settings/services.yml"],
    base_env_paths=["./settings/env.json"],
    default_env_paths=["./settings/env.local.json"],
)
