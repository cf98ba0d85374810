"""The HTTP layer's own rules: JSON content types only (no CSRF), validated / generated correlation ids."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PING = '{"jsonrpc": "2.0", "method": "calc.ping", "id": 1}'
CID_SHAPE = re.compile(r"[A-Za-z0-9._:/+=@;~-]{1,128}")


def post(serve_app: Any, body: str, headers: dict[str, str],
         rpc_settings: dict[str, Any] | None = None) -> Any:
    async def go() -> Any:
        async with serve_app(rpc_settings) as served:
            return await served.post_raw(body, headers)

    return asyncio.run(go())


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                   "application/octet-stream", "", "json", "application/jsonx"])
def test_a_body_not_declared_json_is_refused_with_415_and_a_json_rpc_error(serve_app, ctype):
    calc_log: list[Any] = []

    async def go() -> Any:
        async with serve_app() as served:
            calc_log.append(served.service("calc"))
            body = '{"jsonrpc": "2.0", "method": "calc.sleep", "params": [0, "ran"], "id": 1}'
            return await served.post_raw(body, {"Content-Type": ctype})

    status, out, _ = asyncio.run(go())
    assert status == 415
    assert out["error"]["code"] == -32600 and out["id"] is None
    problem = out["error"]["data"]["problem"]
    assert "application/json" in problem and repr(ctype) in problem
    assert "require_json_content_type" in out["error"]["data"]["hint"]
    assert calc_log[0].log == []  # nothing ran


def test_a_form_post_without_any_content_type_header_is_refused(serve_app):
    async def go() -> Any:
        async with serve_app() as served, served.session.post(served.url, data=PING.encode(),
                                       skip_auto_headers=["Content-Type"]) as resp:
            return resp.status, await resp.json()

    status, out = asyncio.run(go())
    assert status == 415 and "no Content-Type" in out["error"]["data"]["problem"]


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8", "Application/JSON",
                                   "application/json;charset=UTF-8", "application/json-rpc",
                                   "application/jsonrequest"])
def test_json_content_types_are_served(serve_app, ctype):
    status, out, _ = post(serve_app, PING, {"Content-Type": ctype})
    assert (status, out["result"]) == (200, "pong")


def test_legacy_clients_can_be_allowed_any_content_type(serve_app):
    status, out, _ = post(serve_app, PING, {"Content-Type": "text/plain"},
                          {"require_json_content_type": False})
    assert (status, out["result"]) == (200, "pong")


def test_a_non_boolean_content_type_setting_is_a_config_error(serve_app):
    from kaiju_tools import ConfigError

    with pytest.raises(ConfigError, match=r"settings\.require_json_content_type.*expected bool"):
        post(serve_app, PING, {}, {"require_json_content_type": "yes"})


media_types = st.builds(lambda t, s, p: f"{t}/{s}{p}",
                        st.sampled_from(["application", "text", "multipart", "x"]),
                        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
                        st.sampled_from(["", "; charset=utf-8", ";q=1", " ;"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ctype=media_types)
def test_only_json_media_types_are_executed(server, ctype):
    status, out, _ = server.post(PING, {"Content-Type": ctype})
    essence = ctype.split(";")[0].strip().lower()
    if essence in ("application/json", "application/json-rpc", "application/jsonrequest"):
        assert (status, out["result"]) == (200, "pong")
    else:
        assert status == 415 and out["error"]["code"] == -32600


def test_without_a_correlation_id_one_is_generated_echoed_and_bound(server):
    answers = [server.post('{"jsonrpc": "2.0", "method": "calc.context", "id": 1}', {}) for _ in range(3)]
    cids = [headers["Correlation-Id"] for _, _, headers in answers]
    assert len(set(cids)) == 3 and all(CID_SHAPE.fullmatch(cid) for cid in cids)
    assert [out["result"]["cid"] for _, out, _ in answers] == cids
    prefixes = {cid.rsplit("-", 1)[0] for cid in cids}
    assert len(prefixes) == 1  # a per-process prefix and a counter


def test_a_valid_correlation_id_is_kept_echoed_and_bound(server):
    cid = "req-42.a:b/c+d=e@f;g~h_" + "x" * 100
    _, out, headers = server.post('{"jsonrpc": "2.0", "method": "calc.context", "id": 1}',
                                  {"Correlation-Id": cid})
    assert headers["Correlation-Id"] == cid and out["result"]["cid"] == cid


@pytest.mark.parametrize("raw", ["x | app.rpc | FORGED | {}", "a b", "x" * 129, "tab\there", 'quote"d',
                                 "caf\xe9", "back\\slash", "{json}", "<tag>"])
def test_an_unsafe_correlation_id_is_replaced_by_a_generated_one(serve_app, raw):
    async def go() -> Any:
        async with serve_app() as served, served.session.post(
                served.url, data=b'{"jsonrpc": "2.0", "method": "calc.context", "id": 1}',
                headers={"Content-Type": "application/json",
                         "Correlation-Id": raw.encode("latin-1").decode("latin-1")}) as resp:
            return resp.headers["Correlation-Id"], (await resp.json())["result"]["cid"]

    echoed, bound = asyncio.run(go())
    assert echoed == bound and echoed != raw and CID_SHAPE.fullmatch(echoed)


def test_a_non_utf8_correlation_id_is_replaced_and_reported_safely(serve_app):
    from kaiju_tools.testing import capture_logs

    async def go() -> Any:
        async with serve_app() as served:
            reader, writer = await asyncio.open_connection(*served.url.split("/")[2].split(":"))
            body = PING.encode()
            writer.write(b"POST /public/rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Correlation-Id: caf\xe9\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                         % (len(body), body))
            raw = await reader.read()
            writer.close()
            return raw

    with capture_logs("") as logs:
        raw = asyncio.run(go())
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    assert head.startswith("HTTP/1.1 200")
    echoed = re.search(r"(?im)^correlation-id: ([^\r\n]+)", head).group(1)
    assert CID_SHAPE.fullmatch(echoed)
    record = logs.find("rpc: unsafe Correlation-Id replaced")
    assert record.levelname == "WARNING"
    assert record.data["original"] == "'caf\\udce9'" and record.data["replaced_by"] == echoed
    assert record.context["correlation_id"] == echoed


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cid=st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_categories=("Cc",)),
                   min_size=1, max_size=200))
def test_every_bound_correlation_id_is_printable_ascii_without_separators(server, cid):
    cid = cid.strip() or "x"
    status, out, headers = server.post('{"jsonrpc": "2.0", "method": "calc.context", "id": 1}',
                                       {"Correlation-Id": cid})
    assert status == 200
    bound = out["result"]["cid"]
    assert bound == headers["Correlation-Id"] and CID_SHAPE.fullmatch(bound)
    assert (bound == cid) == bool(CID_SHAPE.fullmatch(cid))


def test_unsafe_correlation_ids_are_reported_once_per_window_then_counted(serve_app):
    from kaiju_tools.testing import capture_logs

    async def go() -> Any:
        async with serve_app() as served:
            for i in range(20):
                await served.post_raw(PING, {"Correlation-Id": f"bad id {i}"})
            served.service("rpc")._cid_reports[0] -= 60  # the window has passed  # noqa: SLF001 -- the window passes without waiting
            await served.post_raw(PING, {"Correlation-Id": "bad id again"})

    with capture_logs("") as logs:
        asyncio.run(go())
    reports = logs.filter_records("rpc: unsafe Correlation-Id replaced")
    assert len(reports) == 2
    assert reports[0].data["original"] == "'bad id 0'" and "suppressed" not in reports[0].data
    assert reports[1].data["original"] == "'bad id again'" and reports[1].data["suppressed"] == 19

