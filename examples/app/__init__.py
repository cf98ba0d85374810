"""The example application: the guide's "Basic application" layout."""

from kaiju_tools.app import COMMANDS, SERVICE_CLASS_REGISTRY

import app.commands
from app import services

__version__ = "1.0.0"

SERVICE_CLASS_REGISTRY.register_from_module(services)
COMMANDS.register_from_module(app.commands)
