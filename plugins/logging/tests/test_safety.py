"""Untrusted text in any field of a record: every formatted record is one line of valid UTF-8.

A correlation id, a message built from user input, an extra, a context value, a logger name
or an exception's text may hold anything: control characters, ANSI escapes, line
separators, lone surrogates (bytes that were not UTF-8, decoded with ``surrogateescape``)
or the text format's column separator. Whatever the request handlers let through, the
formatters write one line per record, valid UTF-8, with control characters escaped; the
JSON lines parse with a strict parser and the text columns cannot be forged.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.logging import DataFormatter, TextFormatter
from kaiju_plugins.logging.testing import capture_logs
from kaiju_tools import context, get_logger

SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def assert_one_safe_line(line: str) -> None:
    """One line (for any line splitter), valid UTF-8, no control character left raw."""
    line.encode("utf-8")  # strict: a lone surrogate raises
    assert line.splitlines() == [line], repr(line)
    assert not [c for c in line if unicodedata.category(c) == "Cc"], repr(line)


def strict_json(line: str) -> Any:
    """Parse like a strict parser: no NaN, no lone surrogates even as ``\\u`` escapes."""

    def reject(value: str) -> None:
        raise ValueError(f"non-standard JSON constant {value}")

    out = json.loads(line.encode("utf-8"), parse_constant=reject)
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # a decoded lone surrogate raises here
    return out


def text_columns(line: str) -> list[str]:
    return line.split(" | ")


def text_record(formatter: logging.Formatter, cid: Any, msg: str, **extras: Any) -> str:
    with capture_logs("t", formatter=formatter) as logs:
        tokens = context.bind(correlation_id=cid)
        try:
            get_logger("t.rpc").info(msg, **extras)
        finally:
            context.reset(tokens)
    return logs.lines[0]


class TestIssueExamples:
    def test_non_utf8_correlation_id_in_json(self) -> None:
        cid = b"caf\xe9".decode("utf-8", "surrogateescape")  # how aiohttp decodes header bytes
        line = text_record(DataFormatter(), cid, "rpc accepted")
        assert_one_safe_line(line)
        assert strict_json(line)["cid"] == "caf\\xe9"  # the byte, written as text

    def test_non_utf8_correlation_id_in_text(self) -> None:
        cid = b"caf\xe9".decode("utf-8", "surrogateescape")
        line = text_record(TextFormatter(), cid, "rpc accepted")
        assert_one_safe_line(line)
        assert text_columns(line)[2] == "caf\\xe9"

    def test_correlation_id_cannot_forge_text_columns(self) -> None:
        line = text_record(TextFormatter(), "x | app.rpc | FORGED | {}", "real message")
        columns = text_columns(line)
        assert len(columns) == 6, line
        assert columns[2] == "x \\| app.rpc \\| FORGED \\| {}"
        assert columns[3:5] == ["t.rpc", "real message"]

    def test_user_input_message_newline_and_ansi_are_escaped(self) -> None:
        msg = "login failed for admin\n12:00:00 |  INFO | - | app | login ok | {}\x1b[2J"
        for formatter in (TextFormatter(), DataFormatter()):
            line = text_record(formatter, None, msg)
            assert_one_safe_line(line)
        text = text_record(TextFormatter(), None, msg)
        assert "\\n12:00:00 \\|  INFO \\| - \\| app" in text and "\\x1b[2J" in text
        assert strict_json(text_record(DataFormatter(), None, msg))["msg"] == msg  # JSON keeps it exact

    def test_exception_text_stays_on_the_line(self) -> None:
        for formatter in (TextFormatter(), DataFormatter()):
            with capture_logs("t", formatter=formatter) as logs:
                try:
                    raise ValueError("bad\ninput \udce9")
                except ValueError:
                    get_logger("t.x").exception("failed")
            assert_one_safe_line(logs.lines[0])
        assert "Traceback (most recent call last):\\n" in logs.lines[0] or "exc" in strict_json(logs.lines[0])

    def test_unicode_line_separators_and_c1_controls_are_escaped_in_json(self) -> None:
        msg = "a\u2028b\u2029c\x85d\x7fe\x9bf"
        line = text_record(DataFormatter(), None, msg)
        assert_one_safe_line(line)
        assert strict_json(line)["msg"] == msg

    def test_plain_non_ascii_text_is_written_as_it_is(self) -> None:
        for formatter in (TextFormatter(), DataFormatter()):
            line = text_record(formatter, "é-1", "Grüße, 世界 🙂")
            assert "Grüße, 世界 🙂" in line and "é-1" in line


class TestPid:
    def test_json_always_has_the_pid(self) -> None:
        line = text_record(DataFormatter(), None, "x")
        assert strict_json(line)["pid"] == os.getpid()

    def test_json_pid_without_record_process(self) -> None:
        record = logging.makeLogRecord({"msg": "x", "process": None})
        assert json.loads(DataFormatter().format(record))["pid"] == os.getpid()

    def test_text_pid_column_is_optional(self) -> None:
        assert str(os.getpid()) not in text_columns(text_record(TextFormatter(), None, "x"))
        columns = text_columns(text_record(TextFormatter(pid=True), None, "x"))
        assert len(columns) == 7 and columns[2] == str(os.getpid())


# every kind of text: all categories, lone surrogates included; and bytes that are not UTF-8
any_text = st.one_of(
    st.text(st.characters(blacklist_categories=()), max_size=12),
    st.binary(max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.text(st.sampled_from(SEPARATORS + "|\\\x1b[ \t\x00\x7f\ud800\udfff"), max_size=8),
)
any_value = st.one_of(any_text, st.binary(max_size=6), st.integers(), st.floats(),
                      st.lists(any_text, max_size=2), st.dictionaries(any_text, any_text, max_size=2))


@settings(deadline=None, max_examples=300)
@given(msg=any_text, arg=st.one_of(st.none(), any_value), name=any_text, cid=st.one_of(st.none(), any_text),
       sid=st.one_of(st.none(), any_text), ctx_value=any_value, extras=st.dictionaries(any_text, any_value,
                                                                                       max_size=3),
       exc_text=st.one_of(st.none(), any_text), level=st.one_of(st.sampled_from(["INFO", "ERROR"]), any_text),
       pid=st.booleans())
def test_any_field_content_gives_one_safe_line(msg: str, arg: Any, name: str, cid: Any, sid: Any,
                                               ctx_value: Any,
                                               extras: dict[str, Any], exc_text: str | None, level: str,
                                               pid: bool) -> None:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg + (" %r" if arg is not None else ""),
                               (arg,) if arg is not None else None, None)
    record.levelname = level
    record.data = extras
    if exc_text is not None:
        try:
            raise RuntimeError(exc_text)
        except RuntimeError as exc:
            record.exc_info = (type(exc), exc, exc.__traceback__)
    foreign = {f"x{i}": v for i, v in enumerate(extras.values())}  # stdlib ``extra=`` attributes
    record.__dict__.update(foreign)
    tokens = context.bind(correlation_id=cid, session_id=sid, user=ctx_value)
    try:
        json_line = DataFormatter().format(record)
        text_line = TextFormatter(pid=pid).format(record)
    finally:
        context.reset(tokens)
    for line in (json_line, text_line):
        assert_one_safe_line(line)
    out = strict_json(json_line)
    assert set(out) >= {"t", "name", "lvl", "msg", "cid", "sid", "t_max", "data", "pid"}
    assert len(text_columns(text_line)) == 6 + pid + (exc_text is not None), text_line
