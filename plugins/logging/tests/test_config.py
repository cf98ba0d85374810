"""LoggingService settings: any input gives a working service or one ConfigError, never a crash."""

from __future__ import annotations

import logging
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.logging import LoggingService
from kaiju_plugins.logging._config import check_settings
from kaiju_plugins.logging.service import BUILTIN_CLASSES
from kaiju_tools import ConfigError

SAFE_CLASSES = {k: v for k, v in BUILTIN_CLASSES.items() if k != "FileHandler"}  # no files from junk
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
              st.sampled_from(["INFO", "debug", "LOUD", "stdout", "stderr", "default", "root", "t"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
handler = st.fixed_dictionaries({}, optional={
    "cls": st.one_of(st.sampled_from([*sorted(SAFE_CLASSES), "JSONHandlr", "Formatter"]), junk),
    "name": st.one_of(st.sampled_from(["default", "other"]), junk),
    "level": st.one_of(st.sampled_from(["INFO", "error", "VERBOSE"]), junk),
    "settings": st.one_of(st.fixed_dictionaries({}, optional={"stream": junk}), junk),
    "formatter": st.one_of(st.sampled_from(["TextFormatter", "DataFormatter", "JSONHandler"]), junk),
    "formatter_settings": st.one_of(st.fixed_dictionaries({}, optional={"datefmt": junk}), junk),
    "enabled": st.booleans(),
    "extra_key": junk,
})
logger = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.sampled_from(["other", "[main_name]"]), junk),
    "handlers": st.one_of(st.booleans(), junk,
                          st.lists(st.sampled_from(["default", "other", "missing"]), max_size=3)),
    "level": st.one_of(st.sampled_from(["INFO", "WARNING", "LOUD"]), junk),
    "propagate": st.booleans(),
    "enabled": st.booleans(),
})


@settings(deadline=None, max_examples=150)
@given(loggers=st.one_of(st.lists(logger, max_size=3), junk),
       handlers=st.one_of(st.lists(handler, max_size=3), junk))
def test_any_settings_build_a_service_or_raise_one_config_error(loggers: Any, handlers: Any) -> None:
    parsed_loggers, parsed_handlers, problems = check_settings(loggers, handlers, SAFE_CLASSES, "x.settings")
    assert all(p.where.startswith("x.settings") for p in problems)
    try:
        service = LoggingService(loggers=loggers, handlers=handlers, use_queue=False)
    except ConfigError as exc:
        assert exc.problems
        return
    assert not problems
    assert all(isinstance(h, logging.Handler) for h in service.handlers.values())
    if handlers is not None:  # None: the service's default handler
        assert set(service.handlers) == {h.name for h in parsed_handlers if h.enabled}
    if loggers is not None:
        assert len(parsed_loggers) == len(loggers)
