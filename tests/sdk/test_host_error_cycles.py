"""A host import's error answer leaves no reference cycle behind (plain CPython).

The generated bindings raise the `Err` they hold in a local variable, so the exception's
traceback holds the frame that holds the exception. Left so, every error answer (a `kv.get`
of a missing key, most often) is garbage only the guest's collector can free, and its young
collections ran on every few hundred calls. The SDK drops the traceback once it has caught
the error; these tests raise as the bindings do and check the `Err` is freed by reference
counting alone, with the collector off.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from trafi_sdk import _bindings, kv
from trafi_sdk.errors import AccessDenied
from trafi_sdk.testing._host_errors import refuse


class _Binding:
    """Raises as componentize-py's generated import does: the `Err` is a local of the raising frame."""

    def __init__(self, case: str) -> None:
        self.case = case
        self.raised: list[weakref.ref[Any]] = []

    def get(self, key: str) -> Any:
        result = refuse(self.case, f"no value for key {key!r}")
        self.raised.append(weakref.ref(result))
        raise result


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _with_binding(monkeypatch: pytest.MonkeyPatch, binding: _Binding) -> None:
    monkeypatch.setattr(_bindings, "wit_kv", binding)


def test_a_missing_key_frees_the_bindings_error_without_the_collector(
    monkeypatch: pytest.MonkeyPatch, collector_off: None
) -> None:
    binding = _Binding("not-found")
    _with_binding(monkeypatch, binding)
    assert kv.get("absent") is None
    assert binding.raised[0]() is None  # freed by its last reference, not left for a collection


def test_a_refusal_raised_on_as_the_sdks_exception_frees_the_bindings_error(
    monkeypatch: pytest.MonkeyPatch, collector_off: None
) -> None:
    binding = _Binding("access-denied")
    _with_binding(monkeypatch, binding)
    with pytest.raises(AccessDenied, match="no value for key 'k'"):
        kv.get("k")
    assert binding.raised[0]() is None


def test_without_dropping_the_traceback_the_error_would_wait_for_the_collector(
    collector_off: None,
) -> None:
    """The attack itself: what the bindings' raise leaves when nothing breaks the cycle."""
    binding = _Binding("not-found")
    try:
        binding.get("absent")
    except _bindings.WitErr:
        pass
    assert binding.raised[0]() is not None  # held by its own traceback's frame
    gc.collect()
    assert binding.raised[0]() is None


def test_error_value_is_the_case_the_host_answered() -> None:
    err = refuse("not-found", "gone")
    assert type(_bindings.error_value(err)).__name__ == "HostError_NotFound"
    assert _bindings.error_value(err).value == "gone"
    assert err.__traceback__ is None
