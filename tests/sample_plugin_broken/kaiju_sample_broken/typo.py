"""A plugin with a misspelt hook implementation name."""

from kaiju_tools.hookspecs import hookimpl


@hookimpl
def kaiju_app_startd(app):
    pass
