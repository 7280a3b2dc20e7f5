"""In-memory stand-ins for the host's capabilities, checking what the host checks.

Each fake is shaped like the generated binding module it replaces (`kv.get`,
`config.get_all`, ...) and refuses what the host refuses, with the host's
messages: a missing grant is `access-denied`, an oversized key
`invalid-argument`, a value over 1 MiB `limit-exceeded`, an undeclared metric
`invalid-argument`. State is per tenant, as in the host.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import records
from ._host_errors import refuse
from ._manifest import ManifestFacts

# The host's limits (host/trafi_host/capabilities/*/host.py); tests/sdk/test_testing.py compares.
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 1 << 20
MAX_LIST = 10_000
MAX_EVENT_PAYLOAD = 64 << 10
MAX_ORDERS_LISTED = 100
MAX_NOTE = 2000
MAX_SERVICE_PAYLOAD = 1 << 20
COUNTER_MIN, COUNTER_MAX = -(1 << 63), (1 << 63) - 1
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


@dataclass
class CallState:
    """Who the current call is for: the harness sets it around every call into the module."""

    module: str
    tenant: str


class FakeKv:
    """The module's key-value data: `data[tenant][key]` is the stored bytes (read or seed it).

    Example:

        hello = ModuleHarness("modules/hello")
        hello.kv.data["test-tenant"] = {"hits": b"41"}
        assert hello.get("/v1/hits").json()["hits"] == 42
    """

    _binding_functions: ClassVar[frozenset[str]] = frozenset(
        {"get", "set", "delete", "increment", "list_keys"}
    )

    def __init__(self, manifest: ManifestFacts, call: CallState) -> None:
        self._manifest = manifest
        self._call = call
        self.data: dict[str, dict[str, bytes]] = {}  # tenant -> key -> value

    def _store(self, key: str) -> dict[str, bytes]:
        if not self._manifest.kv:
            raise refuse(
                "access-denied", f"module {self._manifest.name} has no 'kv' permission in its manifest"
            )
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise refuse("invalid-argument", f"key longer than {MAX_KEY_BYTES} bytes")
        return self.data.setdefault(self._call.tenant, {})

    def get(self, key: str) -> bytes:
        value = self._store(key).get(key)
        if value is None:
            raise refuse("not-found", f"no value for key {key!r}")
        return value

    def set(self, key: str, value: bytes) -> None:
        store = self._store(key)
        if len(value) > MAX_VALUE_BYTES:
            raise refuse("limit-exceeded", f"value larger than {MAX_VALUE_BYTES} bytes")
        store[key] = bytes(value)

    def delete(self, key: str) -> bool:
        return self._store(key).pop(key, None) is not None

    def increment(self, key: str, delta: int) -> int:
        store = self._store(key)
        raw = store.get(key)
        try:
            current = 0 if raw is None else int(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise refuse("invalid-argument", f"value of {key!r} is not an integer counter") from None
        result = current + delta
        if not COUNTER_MIN <= result <= COUNTER_MAX:
            raise refuse("limit-exceeded", f"counter {key!r} would leave the signed 64-bit range")
        store[key] = str(result).encode("ascii")
        return result

    def list_keys(self, prefix: str, limit: int) -> list[str]:
        store = self._store(prefix)
        return sorted(k for k in store if k.startswith(prefix))[: min(limit, MAX_LIST)]


class FakeConfig:
    """`trafi.config.json`'s `modules.<name>.config`: what the harness was given."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def get(self, key: str) -> str | None:
        return json.dumps(self.settings[key]) if key in self.settings else None

    def get_all(self) -> str:
        return json.dumps(self.settings)


class Level(enum.Enum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


@dataclass(frozen=True)
class LogRecord:
    """One line the module logged: `level` ("info", "error", ...), `message`, `tenant`.

    Example:

        assert [r.message for r in harness.logs if r.level == "error"] == []
    """

    level: str  # "info", "error", ...
    message: str
    tenant: str


class FakeLog:
    def __init__(self, call: CallState) -> None:
        self._call = call
        self.records: list[LogRecord] = []

    def log(self, level: Level, message: str) -> None:
        self.records.append(LogRecord(level.name.lower(), message, self._call.tenant))


FakeLog.Level = Level  # type: ignore[attr-defined] # `wit_log.Level.INFO`, as in the bindings


@dataclass(frozen=True)
class EmittedEvent:
    """An event the module emitted: `type` (`<module>.<name>`), `payload` (dict), `tenant`.

    Example:

        shop.post("/v1/orders/o1/ship")  # its handler calls events.emit("shipped", {"order": "o1"})
        assert [(e.type, e.payload) for e in shop.emitted] == [("shop.shipped", {"order": "o1"})]
    """

    type: str  # `<module>.<name>`, as subscribers see it
    payload: dict[str, Any]
    tenant: str


class FakeEvents:
    def __init__(self, call: CallState) -> None:
        self._call = call
        self.emitted: list[EmittedEvent] = []

    def emit(self, name: str, payload: str) -> None:
        if not _EVENT_NAME.match(name):
            raise refuse("invalid-argument", f"event name {name!r}: lowercase letters, digits and '-'")
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise refuse("limit-exceeded", f"payload larger than {MAX_EVENT_PAYLOAD} bytes")
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as error:
            raise refuse("invalid-argument", f"payload is not JSON: {error.msg}") from None
        if not isinstance(data, dict):
            raise refuse("invalid-argument", "payload must be a JSON object")
        self.emitted.append(EmittedEvent(f"{self._call.module}.{name}", data, self._call.tenant))


# A linked module's service: (service, method, payload JSON, tenant) -> answer JSON.
ServiceTarget = Callable[[str, str, str, str], str]


class FakeServiceClient:
    def __init__(self, manifest: ManifestFacts, call: CallState) -> None:
        self._manifest = manifest
        self._call = call
        self.modules: dict[str, ServiceTarget] = {}

    def call(self, target: str, method: str, payload: str) -> str:
        module, _, service = target.partition(".")
        if not module or not service:
            raise refuse("invalid-argument", f"target {target!r} must be '<module>.<service>'")
        if module not in self._manifest.dependencies:
            raise refuse(
                "access-denied", f"{target}: module {module!r} is not in {self._manifest.name}'s dependencies"
            )
        if len(payload) > MAX_SERVICE_PAYLOAD:
            raise refuse("limit-exceeded", f"payload larger than {MAX_SERVICE_PAYLOAD} bytes")
        linked = self.modules.get(module)
        if linked is None:
            raise refuse(
                "unavailable", f"module {module} is not running (in a test: harness.link(<{module} harness>))"
            )
        return linked(service, method, payload, self._call.tenant)


_SCOPES = {
    "get_order": "orders:read",
    "list_orders": "orders:read",
    "add_order_note": "orders:write",
    "get_product": "products:read",
    "get_customer": "customers:read",
}


@dataclass
class CommerceData:
    orders: dict[str, records.Order] = field(default_factory=dict)
    products: dict[str, records.Product] = field(default_factory=dict)
    customers: dict[str, records.Customer] = field(default_factory=dict)


class FakeCommerce:
    """The commerce core's data per tenant; seed it with `add_order`, `add_product`, `add_customer`.

    The module's calls are checked against its `permissions.core` scopes, as in the host.

    Example:

        loyalty.commerce.add_order(records.Order(id="o1", customer_id="c1", total_cents=2500))
        loyalty.deliver("payment.completed", records.PaymentCompleted("p1", "o1", 2500, "EUR"))
        assert loyalty.commerce.data().orders["o1"].notes[0].text == "25 loyalty points awarded"
    """

    _binding_functions: ClassVar[frozenset[str]] = frozenset(
        {"get_order", "list_orders", "add_order_note", "get_product", "get_customer"}
    )

    def __init__(self, manifest: ManifestFacts, call: CallState) -> None:
        self._manifest = manifest
        self._call = call
        self.tenants: dict[str, CommerceData] = {}

    def data(self, tenant: str | None = None) -> CommerceData:
        """A tenant's orders, products and customers (dicts by id); the current tenant by default.

        Example:

            order = harness.commerce.data("test-tenant").orders["o1"]
        """
        return self.tenants.setdefault(tenant or self._call.tenant, CommerceData())

    def add_order(self, order: records.Order, tenant: str | None = None) -> records.Order:
        """Seeds an order for `tenant` (the harness's default tenant without one).

        Example:

            harness.commerce.add_order(records.Order(id="o1", customer_id="c1", total_cents=1000))
        """
        self.data(tenant).orders[order.id] = order
        return order

    def add_product(self, product: records.Product, tenant: str | None = None) -> records.Product:
        """Seeds a product.

        Example:

            harness.commerce.add_product(records.Product("p1", "SKU-1", "Mug", 1200))
        """
        self.data(tenant).products[product.id] = product
        return product

    def add_customer(self, customer: records.Customer, tenant: str | None = None) -> records.Customer:
        """Seeds a customer.

        Example:

            harness.commerce.add_customer(records.Customer("c1", "ann@example.com", "Ann"))
        """
        self.data(tenant).customers[customer.id] = customer
        return customer

    def _scoped(self, function: str) -> CommerceData:
        scope = _SCOPES[function]
        if scope not in self._manifest.core_scopes:
            raise refuse(
                "access-denied", f"module {self._manifest.name} has no '{scope}' scope in permissions.core"
            )
        return self.data()

    def get_order(self, order_id: str) -> records.Order:
        found = self._scoped("get_order").orders.get(order_id)
        if found is None:
            raise refuse("not-found", f"no order {order_id}")
        return found

    def list_orders(self, limit: int) -> list[records.Order]:
        orders = list(self._scoped("list_orders").orders.values())
        return orders[::-1][: min(limit, MAX_ORDERS_LISTED)]

    def add_order_note(self, order_id: str, text: str) -> records.Order:
        if not text.strip() or len(text) > MAX_NOTE:
            raise refuse("invalid-argument", f"a note has 1 to {MAX_NOTE} characters")
        order = self._scoped("add_order_note").orders.get(order_id)
        if order is None:
            raise refuse("not-found", f"no order {order_id}")
        order.notes.append(records.OrderNote(f"module {self._manifest.name}", text, "2026-01-01T00:00:00Z"))
        return order

    def get_product(self, product_id: str) -> records.Product:
        found = self._scoped("get_product").products.get(product_id)
        if found is None:
            raise refuse("not-found", f"no product {product_id}")
        return found

    def get_customer(self, customer_id: str) -> records.Customer:
        found = self._scoped("get_customer").customers.get(customer_id)
        if found is None:
            raise refuse("not-found", f"no customer {customer_id}")
        return found


class FakeMetrics:
    """Records what the module reports, per tenant and label set, as the host's store would.

    An undeclared metric, a wrong label set or a `set` on a counter is `InvalidArgument`.

    Example:

        assert loyalty.metrics.value("points_awarded_total", reason="payment") == 25
    """

    _binding_functions: ClassVar[frozenset[str]] = frozenset({"add", "set", "observe"})

    def __init__(self, manifest: ManifestFacts, call: CallState) -> None:
        self._manifest = manifest
        self._call = call
        # (name, tenant, labels) -> value (counter, gauge) or observations (histogram)
        self.values: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = {}
        self.observations: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]] = {}

    def _key(self, name: str, value: float, labels: list[tuple[str, str]]) -> tuple[str, str, Any]:
        declared = self._manifest.metrics.get(name)
        if declared is None:
            raise refuse(
                "invalid-argument",
                f"module {self._manifest.name} declares no metric {name!r} in its manifest's `metrics`",
            )
        if value != value or value in (float("inf"), float("-inf")):
            raise refuse("invalid-argument", f"metric {name!r}: {value} is not a finite number")
        given = dict(labels)
        if sorted(given) != sorted(declared.labels) or len(given) != len(labels):
            wanted = ", ".join(declared.labels) or "no labels"
            names = ", ".join(k for k, _ in labels) or "no labels"
            raise refuse("invalid-argument", f"metric {name!r} takes {wanted}; given {names}")
        return name, self._call.tenant, tuple(sorted(given.items()))

    def value(self, name: str, tenant: str | None = None, **labels: str) -> float:
        """A counter's or gauge's current value for one tenant and label set (0 if never recorded).

        Example:

            assert hello.metrics.value("hits_total", route="/v1/hits") == 2
        """
        return self.values.get((name, tenant or self._call.tenant, tuple(sorted(labels.items()))), 0.0)

    def observed(self, name: str, tenant: str | None = None, **labels: str) -> list[float]:
        """A histogram's observations for one tenant and label set, in order.

        Example:

            assert len(loyalty.metrics.observed("points_service_duration_seconds", method="add")) == 1
        """
        return self.observations.get((name, tenant or self._call.tenant, tuple(sorted(labels.items()))), [])

    def _kind(self, name: str) -> str:
        return self._manifest.metrics[name].type

    def add(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        key = self._key(name, value, labels)
        if self._kind(name) == "histogram":
            raise refuse("invalid-argument", f"metric {name!r} is a histogram: use observe")
        if self._kind(name) == "counter" and value < 0:
            raise refuse("invalid-argument", f"counter {name!r} only goes up; given {value}")
        self.values[key] = self.values.get(key, 0.0) + value

    def set(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        key = self._key(name, value, labels)
        if self._kind(name) != "gauge":
            raise refuse("invalid-argument", f"metric {name!r} is a {self._kind(name)}: only gauges are set")
        self.values[key] = value

    def observe(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        key = self._key(name, value, labels)
        if self._kind(name) != "histogram":
            raise refuse(
                "invalid-argument", f"metric {name!r} is a {self._kind(name)}: only histograms observe"
            )
        self.observations.setdefault(key, []).append(value)
