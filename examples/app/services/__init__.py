"""The app's services; app/__init__.py registers every class imported here."""

from app.services.cache import LocalCache
from app.services.greeter import Greeter

__all__ = ["Greeter", "LocalCache"]
