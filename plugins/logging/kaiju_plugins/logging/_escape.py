"""Making any text safe for one log line: valid UTF-8, no raw control characters.

Log fields carry untrusted text (a correlation id from a header, a message built from user
input, an exception's text). Both formats escape what could break or forge a line:

- control characters (``\\n``, ``\\x1b``..., C0, DEL and C1) and the Unicode line and
  paragraph separators, which log pipelines and ``str.splitlines`` treat as line breaks;
- lone surrogates, which cannot be encoded as UTF-8: ``\\udc80``-``\\udcff`` are bytes that
  were not UTF-8 (decoded with ``surrogateescape``, as aiohttp decodes headers) and are
  written as the byte, ``\\xe9``; other lone surrogates as ``\\ud800``;
- in the text format also the column separator: ``|`` is written ``\\|``.

Each check is one C-level scan (``str.isascii`` / ``str.isprintable``); text is escaped only
when the scan finds something.
"""

from __future__ import annotations

import re

__all__ = ["json_line", "text_field"]

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "|": "\\|"}
# in JSON text, non-ASCII unsafe characters can only sit inside strings
# compiled by the first line that needs it (re's cache): 4.3 M instructions, not at every start
_JSON_UNSAFE = "[\x7f-\x9f\u2028\u2029\ud800-\udfff]"


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def text_field(value: object) -> str:
    """``value`` as text for one column of a text line: printable, without ``|``.

    Non-printable characters (controls, separators, surrogates, format characters such as
    bidi overrides) become ``\\n`` / ``\\x1b`` / ``\\u202e`` escapes; ``|`` becomes ``\\|``.
    """
    text = value if type(value) is str else str(value)
    if text.isprintable() and "|" not in text:
        return text
    return "".join(
        _SHORT.get(char) or (char if char.isprintable() else _escape_char(char)) for char in text
    )


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:  # not a character: written as text (``\\xe9``), a valid string
        return "\\" + _escape_char(char)
    return f"\\u{code:04x}"  # a JSON escape: the string decodes to the same character


def json_line(line: str) -> str:
    """A JSON text with DEL, C1 controls, U+2028/U+2029 and lone surrogates escaped.

    The JSON encoder already escapes C0 controls; what it leaves raw is made safe here, so
    the line is valid UTF-8 and one line for any line splitter.
    """
    if line.isascii() and "\x7f" not in line:
        return line
    return re.sub(_JSON_UNSAFE, _json_escape, line)
