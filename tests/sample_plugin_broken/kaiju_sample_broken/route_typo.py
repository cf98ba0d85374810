"""A plugin whose hook name misses a letter: ``kaiju_register_route`` for ``kaiju_register_routes``."""

from kaiju_tools.hookspecs import hookimpl


@hookimpl
def kaiju_register_route(app):
    return []
