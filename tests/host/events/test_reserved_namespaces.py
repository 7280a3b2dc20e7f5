"""A module cannot pass its events off as the core's (or another module's).

The attack this stops: a module named `payment` emitted `payment.completed`, and
a loyalty module subscribed to the core's `payment.completed` awarded points
for a payment that never happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from trafi_host.compatibility import compatibility_problem
from trafi_host.delivery.dispatch import Dispatcher
from trafi_host.errors import ManifestError
from trafi_host.events.catalogue import CORE_NAMESPACES, RESERVED_NAMESPACES, expected_source
from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.model import Manifest


def manifest(name: str, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.0.0",
        "description": "A module.",
        "author": "Mallory",
        "license": "MIT",
        "trafi": "^0.1.0",
        "entry": {"backend": f"dist/{name}.wasm"},
        "events": events or [],
    }


@pytest.mark.parametrize("name", sorted(RESERVED_NAMESPACES))
def test_a_module_cannot_take_a_core_namespace_as_its_name(name: str) -> None:
    with pytest.raises(ManifestError, match=rf"\$\.name: '{name}' is reserved"):
        parse_manifest(manifest(name))


def test_every_core_event_namespace_is_reserved() -> None:
    assert {"order", "payment", "product", "customer", "module"} <= CORE_NAMESPACES <= RESERVED_NAMESPACES


def test_a_subscription_to_a_reserved_namespace_the_core_does_not_emit_is_refused() -> None:
    subscriber = parse_manifest(manifest("shipping-tracker", [{"event": "shipment.sent"}]))
    assert "subscribes to shipment.sent, which this host does not emit" in str(
        compatibility_problem(subscriber)
    )


@dataclass
class RunningModule:
    """What the dispatcher reads of a running module to find subscribers."""

    manifest: Manifest

    @property
    def name(self) -> str:
        return self.manifest.name


def dispatcher_with(*manifests: Manifest) -> Dispatcher:
    images = {m.name: RunningModule(m) for m in manifests}
    return Dispatcher(None, None, lambda: images, None, None, 250)  # type: ignore[arg-type]


def test_an_event_is_delivered_only_from_the_source_its_type_names() -> None:
    loyalty = parse_manifest(
        manifest("loyalty", [{"event": "payment.completed"}, {"event": "points.awarded"}])
    )
    dispatcher = dispatcher_with(loyalty)
    assert [image.name for image, _, _ in dispatcher.subscribers("payment.completed", "core")] == ["loyalty"]
    # A module's event of a core type (however it got into the outbox) reaches no one.
    assert dispatcher.subscribers("payment.completed", "payment") == []
    assert dispatcher.subscribers("payment.completed", "points") == []
    # A module's own events come from that module only.
    assert [image.name for image, _, _ in dispatcher.subscribers("points.awarded", "points")] == ["loyalty"]
    assert dispatcher.subscribers("points.awarded", "core") == []
    assert dispatcher.subscribers("points.awarded", "evil") == []


def test_expected_sources() -> None:
    assert expected_source("order.created") == "core"
    assert expected_source("cart.updated") == "core"
    assert expected_source("points.awarded") == "points"
