"""The WIT event records are the payload models, field for field; the variant has a case per event."""

from __future__ import annotations

import re

from tests.conftest import REPO
from trafi_host.events.catalogue import EVENTS, OrderLine, Payload
from trafi_host.events.wit_payload import CASES

WIT = (REPO / "wit" / "since_v0.1.0" / "host.wit").read_text()
EVENTS_INTERFACE = re.search(r"^interface events \{(.*?)^\}", WIT, re.S | re.M)
assert EVENTS_INTERFACE is not None
BODY = EVENTS_INTERFACE.group(1)


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def wit_record(name: str) -> list[str]:
    match = re.search(rf"record {name} \{{(.*?)\}}", BODY, re.S)
    assert match is not None, f"no record {name} in the events interface"
    return re.findall(r"^\s*([a-z-]+):", match.group(1), re.M)


def test_every_payload_model_is_a_wit_record() -> None:
    models: list[type[Payload]] = [e.payload for e in EVENTS.values() if e.wit_case] + [OrderLine]
    for model in models:
        fields = [name.replace("_", "-") for name in model.model_fields]
        assert wit_record(kebab(model.__name__)) == fields, model.__name__


def test_the_payload_variant_has_a_case_per_event() -> None:
    match = re.search(r"variant payload \{(.*?)\}\n", BODY, re.S)
    assert match is not None
    cases = dict(re.findall(r"^\s*([a-z-]+)\(([a-z-]+)\),", match.group(1), re.M))
    for name, event in EVENTS.items():
        if event.wit_case:
            assert cases[CASES[name]] == kebab(event.payload.__name__), name
        else:  # newer than the world: delivered as `custom`
            assert name not in CASES
    assert set(cases) == {*CASES.values(), "custom"}
