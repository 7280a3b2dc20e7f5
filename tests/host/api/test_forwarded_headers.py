"""The module never sees the caller's credentials: testkit echoes the headers it was handed."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.api.forwarded_headers import CREDENTIAL_HEADERS, forwarded_headers
from trafi_host.project import Project


def test_the_module_sees_no_credential_and_every_other_header(
    sqlite_project: Project, testkit_dir: Path
) -> None:
    install_modules(sqlite_project, testkit_dir)
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    # Raw pairs, so that names in any case and repeated headers go over the wire as given.
    sent = [
        ("Authorization", f"Bearer {key}"),
        ("Cookie", "trafi_session=s3cret-session"),
        ("cookie", "theme=dark"),
        ("X-API-Key", "trafi_0123456789abcdef_another-key"),
        ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
        ("X-Request-Id", "req-1"),
        ("Accept-Language", "fr"),
        ("X-Trace", "a"),
        ("X-Trace", "b"),
    ]
    with TestClient(create_app(sqlite_project)) as client:
        answer = client.send(
            client.build_request("GET", "/api/modules/testkit/headers", headers=httpx.Headers(sent))
        )
    assert answer.status_code == 200
    seen = [(name, value) for name, value in answer.json()["headers"]]
    names = {name for name, _ in seen}
    assert not names & CREDENTIAL_HEADERS
    for secret in (key, "s3cret-session", "another-key", "cHJveHk6c2VjcmV0", "dark"):
        assert not [pair for pair in seen if secret in pair[1]], secret
    assert ("x-request-id", "req-1") in seen
    assert ("accept-language", "fr") in seen
    assert [value for name, value in seen if name == "x-trace"] == ["a", "b"]


def test_credential_names_are_matched_whatever_their_case() -> None:
    given = [
        ("AUTHORIZATION", "x"),
        ("Cookie", "y"),
        ("X-Api-Key", "z"),
        ("proxy-AUTHORIZATION", "w"),
        ("a", "1"),
    ]
    assert forwarded_headers(given) == (("a", "1"),)
