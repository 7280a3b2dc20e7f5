"""The world adapters' value shapes, without a component: what each world lowers and lifts."""

from __future__ import annotations

import pytest

from trafi_host.runtime import ModuleRequest, Principal
from trafi_host.runtime.world import NEWEST_WORLD, BadValue, world_for
from trafi_host.wit_values import record


def test_0_3_carries_every_byte_value_as_one_code_point() -> None:
    world = world_for("0.3.0")
    assert world is not None and world is NEWEST_WORLD
    every_byte = bytes(range(256))
    lowered = world.lower_body(every_byte)
    assert isinstance(lowered, str) and [ord(c) for c in lowered] == list(range(256))
    assert world.lift_body(lowered, "the body") == every_byte


def test_a_code_point_above_u00ff_is_refused_naming_it_and_where() -> None:
    world = world_for("0.3.0")
    assert world is not None
    with pytest.raises(BadValue, match=r"the response body is not bytes: code point U\+20AC at index 3"):
        world.lift_response(record(status=200, headers=[], body="abc\u20ac"))


def test_older_worlds_keep_byte_lists_and_a_principal_without_permissions() -> None:
    request = ModuleRequest("GET", "/", "acme", Principal("k", scopes=("a:b",), permissions=("a:b", "c:d")))
    old, new = world_for("0.2.0"), world_for("0.3.0")
    assert old is not None and new is not None
    assert old.request(request).body == b"" and new.request(request).body == ""
    assert not hasattr(old.request(request).principal, "permissions")
    assert new.request(request).principal.permissions == ["a:b", "c:d"]
    assert (old.declares, new.declares) == (False, True)
    assert "routes" in new.required_exports and "routes" not in old.required_exports
