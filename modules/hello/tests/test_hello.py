"""hello's handlers in-process with trafi_sdk.testing: no build, a few milliseconds per test."""

from pathlib import Path

import pytest

from trafi_sdk.errors import InvalidArgument
from trafi_sdk.testing import ModuleHarness

HELLO = Path(__file__).resolve().parents[1]


def test_counts_hits_per_tenant() -> None:
    hello = ModuleHarness(HELLO)
    assert hello.get("/v1/hits").json() == {"greeting": "hello", "tenant": "test-tenant", "hits": 1}
    assert hello.get("/v1/hits").json()["hits"] == 2
    assert hello.get("/v1/hits", tenant="globex").json()["hits"] == 1
    assert hello.get("/v1/hits/current").json() == {"tenant": "test-tenant", "hits": 2}


def test_the_greeting_comes_from_the_config() -> None:
    hello = ModuleHarness(HELLO, config={"greeting": "bonjour"})
    assert hello.get("/v1/hits").json()["greeting"] == "bonjour"


def test_reset_and_log() -> None:
    hello = ModuleHarness(HELLO)
    hello.get("/v1/hits")
    assert hello.delete("/v1/hits").json() == {"tenant": "test-tenant", "hits": 0}
    assert hello.get("/v1/hits/current").json()["hits"] == 0
    assert [(r.level, r.message) for r in hello.logs] == [("info", "hit 1 for tenant test-tenant")]


def test_a_counter_that_is_not_a_number_is_refused_as_by_the_host() -> None:
    hello = ModuleHarness(HELLO)
    hello.kv.data["test-tenant"] = {"hits": b"many"}
    with pytest.raises(InvalidArgument, match="not an integer counter"):
        hello.get("/v1/hits")
    # Without raise_exceptions, the answer is the component's in `trafi dev`: a 500 with the text.
    answered = ModuleHarness(HELLO, raise_exceptions=False)
    answered.kv.data["test-tenant"] = {"hits": b"many"}
    response = answered.get("/v1/hits")
    assert response.status == 500
    assert response.json()["error"] == "InvalidArgument: value of 'hits' is not an integer counter"
