"""`python -m app`: serve the app (or run one of its commands: `python -m app --help`)."""

from kaiju_tools.app import run_server

from app.application import init_app

if __name__ == "__main__":
    run_server(
        init_app,
        base_config_paths=["./settings/config.yml", "./settings/services.yml"],
        base_env_paths=["./settings/env.json"],
        default_env_paths=["./settings/env.local.json"],
    )
