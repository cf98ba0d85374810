"""TextFormatter and DataFormatter: the guide's line shapes, for our records and foreign ones."""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.logging import DataFormatter, TextFormatter
from kaiju_plugins.logging._encode import ENCODERS
from kaiju_plugins.logging.testing import ListHandler, capture_logs
from kaiju_tools import context, get_logger

GUIDE_KEYS = ["t", "name", "lvl", "msg", "cid", "sid", "t_max", "data", "pid"]
TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d \| +(\w+) \| (\S+) \| (\S+) \| (.*) \| (\{.*\})$")


def guide_record(formatter: logging.Formatter) -> str:
    """The guide's sample: rpc accepted, with a correlation id, session and deadline."""
    with capture_logs("t", formatter=formatter) as logs:
        tokens = context.bind(correlation_id="20d35cfc", session_id="6f580b919f00704584a0453a883310be",
                              deadline=1682328142)
        try:
            get_logger("t.rpc").info("rpc accepted", request={"method": "rpc.api", "id": 0})
        finally:
            context.reset(tokens)
    return logs.lines[0]


class TestDataFormatter:
    def test_guide_sample_keys_in_order(self) -> None:
        line = guide_record(DataFormatter())
        out = json.loads(line)
        assert list(out) == GUIDE_KEYS
        assert out["name"] == "t.rpc" and out["lvl"] == "INFO" and out["msg"] == "rpc accepted"
        assert out["cid"] == "20d35cfc" and out["sid"] == "6f580b919f00704584a0453a883310be"
        assert out["t_max"] == 1682328142
        assert out["data"] == {"request": {"method": "rpc.api", "id": 0}}
        assert isinstance(out["t"], float)
        assert line.startswith('{"t":') and ", " not in line  # compact, like the guide's

    def test_outside_a_request_context_keys_are_null(self) -> None:
        with capture_logs("t") as logs:
            get_logger("t.x").warning("plain")
        out = logs.json()[0]
        assert (out["cid"], out["sid"], out["t_max"], out["data"]) == (None, None, None, {})

    def test_extra_context_keys_go_to_data_and_record_extras_win(self) -> None:
        with capture_logs("t") as logs:
            tokens = context.bind(correlation_id="c1", user_id=5, path="/a")
            try:
                get_logger("t.x").info("hi", path="/b")
            finally:
                context.reset(tokens)
        assert logs.json()[0]["data"] == {"user_id": 5, "path": "/b"}

    def test_exception_traceback_in_exc(self) -> None:
        with capture_logs("t") as logs:
            try:
                raise KeyError("missing")
            except KeyError:
                get_logger("t.x").exception("failed", item=3)
        out = logs.json()[0]
        assert out["lvl"] == "ERROR" and out["data"] == {"item": 3}
        assert out["exc"].startswith("Traceback (most recent call last):")
        assert "KeyError: 'missing'" in out["exc"]

    def test_stack_info_is_rendered(self) -> None:
        with capture_logs("t") as logs:
            logging.getLogger("t.x").info("here", stack_info=True)
        assert "Stack (most recent call last)" in logs.json()[0]["exc"]

    @pytest.mark.parametrize("encoder", ENCODERS)
    def test_unencodable_extras_are_repr(self, encoder: str) -> None:
        with capture_logs("t", formatter=DataFormatter(encoder=encoder)) as logs:
            get_logger("t.x").info("odd", obj=object(), raw=b"\x00", nums={1, 2}, nan=float("nan"),
                                   when=datetime.datetime(2026, 1, 2))
            get_logger("t.x").info("odd", big=2**70, keys={1: "a"}, nan=float("nan"))  # orjson refuses
        data, refused = (out["data"] for out in logs.json())
        assert data["raw"] == "b'\\x00'" and data["nums"] == "{1, 2}"
        assert data["obj"].startswith("<object object at")
        assert data["when"] == "datetime.datetime(2026, 1, 2, 0, 0)"  # both encoders: the repr
        assert data["nan"] == ("nan" if encoder == "ujson" else None)  # JSON has no NaN
        assert refused == {"big": 2**70, "keys": {"1": "a"}, "nan": "nan"}  # through ujson's total path

    @settings(deadline=None, max_examples=200)
    @given(st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(),
                  st.floats(allow_nan=False, allow_infinity=False)),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.text(max_size=4), inner, max_size=3)),
        max_leaves=10))
    def test_both_encoders_write_the_same_values(self, value: Any) -> None:
        lines = []
        for encoder in ENCODERS:
            with capture_logs("t", formatter=DataFormatter(encoder=encoder)) as logs:
                get_logger("t.x").info("same", value=value)
            lines.append(logs.json()[0])
        for line in lines[1:]:
            line["t"] = lines[0]["t"]
            assert line == lines[0]

    def test_unknown_encoder_is_a_clear_error(self) -> None:
        with pytest.raises(ValueError,
                           match=r"DataFormatter: expected encoder to be one of .*'ujson'.*got 'simd'"):
            DataFormatter(encoder="simd")

    def test_failed_message_formatting_is_written_with_the_error(self) -> None:
        logging.getLogger("t").propagate = False  # pytest's own capture handler would raise
        with capture_logs("t") as logs:
            logging.getLogger("t.x").info("%d items", "many")
        out = logs.json()[0]
        assert out["msg"] == "%d items"
        assert out["data"]["log_error"].startswith("TypeError: %d format")
        assert "'many'" in out["data"]["log_error"]


class TestTextFormatter:
    def test_guide_sample_line(self) -> None:
        line = guide_record(TextFormatter())
        match = TEXT_LINE.match(line)
        assert match, line
        assert match.groups() == ("INFO", "20d35cfc", "t.rpc", "rpc accepted",
                                  "{'request': {'method': 'rpc.api', 'id': 0}}")
        assert " |  INFO | " in line  # level right-aligned on 5 columns, as in the guide

    def test_without_context_the_cid_column_is_a_dash(self) -> None:
        with capture_logs("t", formatter=TextFormatter()) as logs:
            logging.getLogger("t.x").error("no request")
        assert TEXT_LINE.match(logs.lines[0]).groups()[:2] == ("ERROR", "-")  # type: ignore[union-attr]

    def test_exception_traceback_is_the_last_column_on_the_same_line(self) -> None:
        with capture_logs("t", formatter=TextFormatter()) as logs:
            try:
                1 / 0  # noqa: B018
            except ZeroDivisionError:
                get_logger("t.x").exception("boom")
        line = logs.lines[0]
        assert "\n" not in line
        head, exc = line.rsplit(" | ", 1)
        assert TEXT_LINE.match(head)
        lines = exc.split("\\n")
        assert lines[0] == "Traceback (most recent call last):"
        assert lines[-1] == "ZeroDivisionError: division by zero"

    def test_datefmt_setting(self) -> None:
        with capture_logs("t", formatter=TextFormatter(datefmt="%Y")) as logs:
            logging.getLogger("t.x").info("x")
        assert re.match(r"^\d{4} \|", logs.lines[0])

    def test_broken_repr_of_one_value_keeps_the_others(self) -> None:
        class Bad:
            def __repr__(self) -> str:
                raise RuntimeError("no")

        with capture_logs("t", formatter=TextFormatter()) as logs:
            get_logger("t.x").info("x", good=1, bad=Bad())
        assert logs.lines[0].endswith("{'good': 1, 'bad': <unrepresentable Bad: RuntimeError>}")


class TestForeignRecords:
    """Records of loggers we did not create are formatted like ours and never break logging."""

    def test_aiohttp_and_asyncio_records(self) -> None:
        for name in ("aiohttp.access", "asyncio"):
            with capture_logs(name) as logs:
                logging.getLogger(name).info('%s "%s" %s', "127.0.0.1", "GET / HTTP/1.1", 200)
            out = logs.json()[0]
            assert out["name"] == name and out["msg"] == '127.0.0.1 "GET / HTTP/1.1" 200'

    def test_stdlib_extra_attributes_go_to_data(self) -> None:
        with capture_logs("third.party") as logs:
            logging.getLogger("third.party").warning("x", extra={"remote": "1.2.3.4", "data": "raw"})
        assert logs.json()[0]["data"] == {"remote": "1.2.3.4", "data": "raw"}

    def test_foreign_exception_then_more_records(self) -> None:
        with capture_logs("third.party") as logs:
            log = logging.getLogger("third.party")
            for i in range(3):
                try:
                    raise OSError(i, "disk")
                except OSError:
                    log.exception("io failed", extra={"attempt": i})
            log.info("still logging")
        out = logs.json()
        assert [o["msg"] for o in out] == ["io failed"] * 3 + ["still logging"]
        assert all("OSError" in o["exc"] for o in out[:3])

    def test_strange_records_from_makeLogRecord(self) -> None:  # noqa: N802 -- the stdlib's name
        odd = [
            {"msg": {"a": 1}},
            {"msg": None, "args": (1,)},
            {"msg": "%(x)s", "args": ({"y": 1},)},
            {"msg": "x", "exc_info": (None, None, None)},
            {"msg": "x", "exc_info": True},
            {"msg": "x", "data": [1, 2]},
            {"msg": "x", "created": "not a number"},
            {"msg": "x", "levelname": None, "name": 5},
        ]
        for formatter in (DataFormatter(), TextFormatter()):
            for fields in odd:
                text = formatter.format(logging.makeLogRecord(fields))
                assert isinstance(text, str) and text
                if isinstance(formatter, DataFormatter):
                    assert isinstance(json.loads(text), dict)

    def test_record_made_before_our_import_is_fine(self) -> None:
        record = logging.LogRecord("early", logging.INFO, __file__, 1, "made %s", ("early",), sys.exc_info())
        out = json.loads(DataFormatter().format(record))
        assert out["msg"] == "made early" and "exc" not in out


message_args = st.one_of(st.tuples(), st.tuples(st.integers()), st.tuples(st.text(), st.none()),
                         st.tuples(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
extras = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k.isidentifier()),
                         st.one_of(st.integers(), st.text(), st.floats(), st.binary(max_size=4),
                                   st.lists(st.integers(), max_size=3)), max_size=4)


@settings(deadline=None)
@given(msg=st.one_of(st.text(), st.sampled_from(["%s", "%d", "%(a)s", "%%", "%s %s"])), args=message_args,
       extra=extras)
def test_any_record_gives_one_json_object(msg: str, args: tuple[Any, ...], extra: dict[str, Any]) -> None:
    handler = ListHandler()
    record = logging.LogRecord("third.party", logging.INFO, __file__, 1, msg, args or None, None)
    record.__dict__.update({k: v for k, v in extra.items() if k not in record.__dict__})
    handler.handle(record)
    handler.setFormatter(TextFormatter())
    handler.handle(record)
    assert json.loads(handler.lines[0])["name"] == "third.party"
    assert " | third.party | " in handler.lines[1]



@settings(deadline=None)
@given(data=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text()),
                                                 max_size=3)),
       cid=st.one_of(st.none(), st.text(max_size=8)), captured=st.booleans(),
       other_formatter_first=st.booleans())
def test_short_and_general_paths_write_the_same(data: dict[str, Any] | None, cid: str | None, captured: bool,
                                                other_formatter_first: bool) -> None:
    from kaiju_plugins.logging._record import capture_context

    tokens = context.bind(correlation_id=cid)
    try:
        record = logging.LogRecord("t.x", logging.INFO, __file__, 1, "plain", None, None)
        if data is not None:
            record.data = data
        if captured:
            capture_context(record)
        if other_formatter_first:  # sets record.message and record.asctime
            logging.Formatter("%(asctime)s %(message)s").format(record)
        out = json.loads(DataFormatter().format(record))
    finally:
        context.reset(tokens)
    assert out == {"t": record.created, "name": "t.x", "lvl": "INFO", "msg": "plain", "cid": cid, "sid": None,
                   "t_max": None, "data": data or {}, "pid": os.getpid()}
