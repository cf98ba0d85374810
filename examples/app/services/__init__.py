"""The app's own services (registered by app/__init__.py)."""

from app.services.greeter import Greeter
from app.services.cache import LocalCache

__all__ = ['Greeter', 'LocalCache']
