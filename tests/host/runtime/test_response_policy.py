"""A module's response is checked before it reaches the caller (unit level)."""

from __future__ import annotations

import pytest

from trafi_host.runtime import response_policy
from trafi_host.runtime.response_policy import (
    BadResponse,
    checked_headers,
    checked_response_headers,
    checked_status,
    request_host,
)


@pytest.mark.parametrize("status", [0, 100, 101, 199, 600, 999, 65535])
def test_a_status_outside_200_to_599_is_refused(status: int) -> None:
    with pytest.raises(BadResponse, match=f"status {status}"):
        checked_status(status)


@pytest.mark.parametrize(
    "header",
    [("bad name", "x"), ("", "x"), ("x-ok", "a\r\nset-cookie: evil=1"), ("x-ok", "nul\x00"), ("é", "x")],
)
def test_a_header_uvicorn_could_not_write_is_refused(header: tuple[str, str]) -> None:
    with pytest.raises(BadResponse):
        checked_headers([header], "shop.example.com")


def test_too_many_or_too_large_headers_are_refused() -> None:
    with pytest.raises(BadResponse, match="more than 100 headers"):
        checked_headers([("x-n", "1")] * 101, "")
    with pytest.raises(BadResponse, match="larger than"):
        checked_headers([("x-big", "v" * (17 << 10))], "")


def test_the_host_owns_connection_store_wide_and_cross_site_headers() -> None:
    kept, dropped = checked_headers(
        [
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "close"),
            ("Strict-Transport-Security", "max-age=0"),
            ("Access-Control-Allow-Origin", "*"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Domain=shop.example.com"),
            ("Set-Cookie", "c=3; Domain=.example.com"),
            ("Set-Cookie", "d=4; Domain=evil.example"),
            ("X-Module", "kept"),
        ],
        "shop.example.com",
    )
    assert kept == (
        ("content-type", "application/json"),
        ("set-cookie", "a=1; Path=/"),
        ("set-cookie", "b=2; Domain=shop.example.com"),
        ("set-cookie", "c=3; Domain=.example.com"),
        ("x-module", "kept"),
    )
    assert dropped == [
        "transfer-encoding",
        "connection",
        "strict-transport-security",
        "access-control-allow-origin",
        "set-cookie (Domain=evil.example)",
    ]


def test_the_request_host_is_the_name_without_port() -> None:
    assert request_host([("host", "Shop.Example.com:8443")]) == "shop.example.com"
    assert request_host([("host", "[::1]")]) == "[::1]"
    assert request_host([]) == ""


def test_a_responses_verdict_is_remembered_only_when_nothing_else_decides_it() -> None:
    """Headers without a cookie get the same verdict whoever asked; with a cookie the request's
    host decides, so each request is judged anew."""
    plain = [("Content-Type", "application/json"), ("Connection", "close"), ("x-trafi-recycle", "memory")]
    first = checked_response_headers(plain, [("host", "a.example")])
    assert first.kept == (("content-type", "application/json"),)
    assert first.dropped == ("connection",)  # the recycle request is not a dropped header
    assert first.recycle == "memory"
    assert checked_response_headers(list(plain), [("host", "b.example")]) is first

    cookie = [("Set-Cookie", "s=1; Domain=shop.example.com")]
    mine = checked_response_headers(cookie, [("host", "shop.example.com")])
    theirs = checked_response_headers(cookie, [("host", "evil.example")])
    assert mine.kept == (("set-cookie", "s=1; Domain=shop.example.com"),) and mine.dropped == ()
    assert theirs.kept == () and theirs.dropped == ("set-cookie (Domain=shop.example.com)",)


def test_remembered_verdicts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(response_policy, "_VERDICTS", {})
    for number in range(response_policy._VERDICTS_MAX * 3):
        checked_response_headers([("x-request-id", str(number))], [])
    assert len(response_policy._VERDICTS) <= response_policy._VERDICTS_MAX
    checked_response_headers([("x-big", "v" * 2000)], [])  # too large to keep
    assert (("x-big", "v" * 2000),) not in response_policy._VERDICTS


def test_a_malformed_response_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(BadResponse):
            checked_response_headers([("bad name", "x")], [])
