"""A plugin that implements a sync hook with async def."""

from kaiju_tools.hookspecs import hookimpl


@hookimpl
async def kaiju_register_services():
    return []
