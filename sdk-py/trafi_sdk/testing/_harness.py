"""`ModuleHarness`: a module's handlers run in this process against the fakes, no build.

Loading imports the module's entry (`build.pythonModule`) the way the built
component does, with the SDK's host imports pointed at the fakes; each call
then goes through the same routing and adapters as in the component, for one
tenant at a time. A harness swaps the fakes in around each call only, so two
harnesses (a module and one it depends on, `link`) can run side by side.
"""

from __future__ import annotations

import importlib
import json as jsonlib
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import _bindings
from .. import module as sdk_module
from ..events import Event
from ..guest import _where
from ..http import Principal, Request, Response, _wit_value
from ..module import Module
from ..views import ViewRequest
from . import records
from ._db import FakeDb
from ._fakes import (
    CallState,
    EmittedEvent,
    FakeCommerce,
    FakeConfig,
    FakeEvents,
    FakeKv,
    FakeLog,
    FakeMetrics,
    FakeServiceClient,
    LogRecord,
)
from ._host_errors import refuse
from ._manifest import ManifestFacts, read_manifest

_BINDINGS = (
    "wit_kv",
    "wit_config",
    "wit_log",
    "wit_events",
    "wit_services",
    "wit_commerce",
    "wit_db",
    "wit_metrics",
)


@dataclass(frozen=True)
class HandlerResponse:
    """What a handler answered: `status`, `headers` (pairs), `body` (bytes).

    Example:

        response = hello.get("/v1/hits")
        assert response.status == 200 and response.json()["hits"] == 1
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON.

        Example:

            assert hello.get("/v1/hits").json()["hits"] == 1
        """
        return jsonlib.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        """The body as UTF-8 text.

        Example:

            assert "hits" in hello.get("/v1/hits").text
        """
        return self.body.decode("utf-8")

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (any case), else `default`.

        Example:

            assert hello.get("/v1/hits").header("Content-Type") == "application/json"
        """
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), default)


class ModuleHarness:
    """Loads the module in `folder` (its `trafi-module.json` and source) and calls its handlers.

    `config`: the module's settings, as `trafi.config.json` would give them (over the
    manifest's `configSchema` defaults, which a first install sets).
    `tenant`: the tenant of calls that name none. `raise_exceptions`: a handler's
    uncaught exception is raised in the test (default); False answers the 500
    the component would in `trafi dev`.

    Its fakes are attributes: `kv`, `config`, `log` (`logs`), `events` (`emitted`),
    `services`, `commerce`, `db`, `metrics`. Handlers run for one tenant at a time,
    `tenant` unless a call names another; the `on_init` hooks run before a tenant's
    first call, as when the host starts an instance.

    Example:

        from trafi_sdk.testing import ModuleHarness

        def test_counts_hits_per_tenant() -> None:
            hello = ModuleHarness("modules/hello", config={"greeting": "bonjour"})
            assert hello.get("/v1/hits").json() == {"greeting": "bonjour", "tenant": "test-tenant", "hits": 1}
            assert hello.get("/v1/hits", tenant="globex").json()["hits"] == 1
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        config: Mapping[str, Any] | None = None,
        tenant: str = "test-tenant",
        raise_exceptions: bool = True,
    ) -> None:
        self.folder = Path(folder).resolve()
        self.manifest: ManifestFacts = read_manifest(self.folder)
        self.name = self.manifest.name
        self.tenant = tenant
        self.raise_exceptions = raise_exceptions
        self._call = CallState(self.name, tenant)
        self.kv = FakeKv(self.manifest, self._call)
        self.config = FakeConfig({**self.manifest.config_defaults, **(config or {})})
        self.log = FakeLog(self._call)
        self.events = FakeEvents(self._call)
        self.services = FakeServiceClient(self.manifest, self._call)
        self.commerce = FakeCommerce(self.manifest, self._call)
        self.db = FakeDb(self.manifest, lambda: self._call.tenant)
        self.metrics = FakeMetrics(self.manifest, self._call)
        self._started: set[str] = set()
        self.module, self.python_module = self._load()

    # -- what the module did ----------------------------------------------------

    @property
    def logs(self) -> list[LogRecord]:
        """Every line the module logged, in order.

        Example:

            assert [(r.level, r.message) for r in hello.logs] == [("info", "hit 1 for tenant test-tenant")]
        """
        return self.log.records

    @property
    def emitted(self) -> list[EmittedEvent]:
        """Every event the module emitted, in order.

        Example:

            assert [e.payload for e in harness.emitted] == [{"order": "o1"}]
        """
        return self.events.emitted

    def link(self, other: ModuleHarness) -> None:
        """Calls to `<other>.<service>` from this module go to `other` (it must be a dependency).

        Example:

            loyalty, points = ModuleHarness("modules/loyalty"), ModuleHarness("modules/points")
            loyalty.link(points)
        """
        self.services.modules[other.name] = other._serve

    # -- calling the module ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes = b"",
        query: Mapping[str, str] | list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        tenant: str | None = None,
        principal: Principal | None = None,
    ) -> HandlerResponse:
        """One HTTP request to the module (`path` below `/api/modules/<name>/<version>/`).

        `json` is sent as the body (with its content type): a dict, a list, or the
        dataclass a typed handler takes; `query` and `headers` as given; `principal`
        defaults to an API key without scopes.

        Example:

            response = reviews.request("POST", "/v1/products/p1/reviews", json={"author": "ann", "rating": 5})
            assert response.status == 201
            awarded = points.post("/v2/awards", json=Award(customer="c1", points=5))
        """
        header_pairs = [(k.lower(), v) for k, v in (headers or {}).items()]
        if json is not None:
            body = jsonlib.dumps(json, default=_wit_value).encode("utf-8")
            header_pairs.append(("content-type", "application/json"))
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
        with self._calling(tenant) as module:
            request = Request(
                method=method.upper(),
                path=path,
                tenant_id=self._call.tenant,
                principal=principal or Principal("test-key", "api-key", ()),
                query=tuple(pairs),
                headers=tuple(header_pairs),
                body=body,
            )
            try:
                response = module.handle(request)
            except Exception as exc:
                if self.raise_exceptions:
                    raise
                response = Response.error(
                    500, f"{type(exc).__name__}: {exc}", where=_where(exc), kind="module-exception"
                )
        return HandlerResponse(response.status, tuple(response.headers), bytes(response.body))

    def get(self, path: str, **options: Any) -> HandlerResponse:
        """`request("GET", path, ...)`.

        Example:

            listed = reviews.get("/v1/products/p1/reviews", query={"min_rating": "4"})
        """
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> HandlerResponse:
        """`request("POST", path, ...)`.

        Example:

            created = reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 5})
        """
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> HandlerResponse:
        """`request("PUT", path, ...)`.

        Example:

            harness.put("/kv/greeting", body=b"hello")
        """
        return self.request("PUT", path, **options)

    def delete(self, path: str, **options: Any) -> HandlerResponse:
        """`request("DELETE", path, ...)`.

        Example:

            assert hello.delete("/v1/hits").json()["hits"] == 0
        """
        return self.request("DELETE", path, **options)

    def patch(self, path: str, **options: Any) -> HandlerResponse:
        """`request("PATCH", path, ...)`.

        Example:

            harness.patch("/v1/items/i1", json={"name": "mug"})
        """
        return self.request("PATCH", path, **options)

    def render_view(
        self,
        view_id: str,
        *,
        query: Mapping[str, str] | list[tuple[str, str]] | None = None,
        tenant: str | None = None,
        principal: Principal | None = None,
    ) -> Any:
        """A dashboard view's UI tree (what the module's `render` returned, through JSON as the
        host gets it). `principal` defaults to a user holding every permission the module
        declares. Its exception is raised as is; LookupError for a view not declared.

        Example:

            tree = points.render_view("overview", query={"customer": "c1"})
            assert tree["root"]["type"] == "card"
        """
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
        with self._calling(tenant) as module:
            held = (f"{self.name}:use", *self.manifest.api_permissions)
            request = ViewRequest(
                view_id=view_id,
                tenant_id=self._call.tenant,
                principal=principal or Principal("test-user", "user", held, held),
                query=tuple(pairs),
            )
            tree = module.render_view(request)
        return jsonlib.loads(jsonlib.dumps(tree))

    def deliver(
        self,
        event_type: str,
        payload: Any,
        *,
        event_id: str | None = None,
        tenant: str | None = None,
        source: str = "core",
        version: int = 1,
    ) -> Event:
        """Delivers one event to the module's handlers, as the host does (at-least-once: deliver the
        same `event_id` twice to test a redelivery). A core event's payload is its record
        (`records.PaymentCompleted(...)`); a module's own event's is a dict. Returns the Event.

        Example:

            paid = records.PaymentCompleted("p1", "o1", 2500, "EUR")
            event = loyalty.deliver("payment.completed", paid)
            loyalty.deliver("payment.completed", paid, event_id=event.id)  # a redelivery
        """
        if event_type not in self.manifest.subscriptions:
            raise LookupError(
                f"module {self.name} does not subscribe to {event_type!r} in its manifest's `events`: "
                "the host would never deliver it"
            )
        expected = records.CORE_EVENTS.get(event_type)
        if expected is not None and not isinstance(payload, expected):
            raise TypeError(
                f"{event_type} carries a records.{expected.__name__}, not {type(payload).__name__}"
            )
        with self._calling(tenant) as module:
            handlers = module.event_handlers.get(event_type, [])
            if not handlers:
                raise LookupError(f"no handler for {event_type} (add @module.on({event_type!r}))")
            event = Event(
                id=event_id or uuid.uuid4().hex,
                type=event_type,
                tenant_id=self._call.tenant,
                occurred_at="2026-01-01T00:00:00Z",
                version=version,
                source=source,
                payload=payload,
            )
            for handler in handlers:
                handler(event)
        return event

    def call_service(
        self, service: str, method: str, payload: Any = None, *, tenant: str | None = None
    ) -> Any:
        """Calls one of the module's own services (JSON both ways); its exception is raised as is.

        Example:

            assert points.call_service("balance", "add", {"customer": "c1", "points": 5})["points"] == 5
        """
        with self._calling(tenant) as module:
            handler = module.services.get(service, {}).get(method)
            if handler is None:
                raise LookupError(f"module {self.name} offers no service method {service}.{method}")
            answer = handler(jsonlib.loads(jsonlib.dumps(payload)), self._call.tenant)
        return jsonlib.loads(jsonlib.dumps(answer))

    def _serve(self, service: str, method: str, payload: str, tenant: str) -> str:
        """A linked module's call: refusals as the host gives them to the caller."""
        with self._calling(tenant) as module:
            methods = module.services.get(service)
            if methods is None:
                raise refuse("not-found", f"module {self.name!r} offers no service {service!r}")
            handler = methods.get(method)
            if handler is None:
                error = f"service {self.name}.{service} has no method {method!r}"
                raise refuse("invalid-argument", f"{self.name}.{service}: {error}")
            try:
                answer = handler(jsonlib.loads(payload) if payload else None, self._call.tenant)
            except Exception as exc:  # noqa: BLE001 - the caller gets the service's message, as from the host
                raise refuse(
                    "invalid-argument", f"{self.name}.{service}: {type(exc).__name__}: {exc}"
                ) from None
        return jsonlib.dumps(answer)

    # -- the swap -------------------------------------------------------------------

    @contextmanager
    def _calling(self, tenant: str | None) -> Iterator[Module]:
        """The fakes in the SDK's binding slots and this module current, for one call (nests)."""
        saved_bindings = {name: getattr(_bindings, name) for name in _BINDINGS}
        saved_module = sdk_module._current
        saved_tenant = self._call.tenant
        self._call.tenant = tenant or self.tenant
        fakes = {
            "wit_kv": self.kv,
            "wit_config": self.config,
            "wit_log": self.log,
            "wit_events": self.events,
            "wit_services": self.services,
            "wit_commerce": self.commerce,
            "wit_db": self.db,
            "wit_metrics": self.metrics,
        }
        for name, fake in fakes.items():
            setattr(_bindings, name, fake)
        sdk_module._current = getattr(self, "module", None)
        try:
            module = sdk_module.current_module()
            if self._call.tenant not in self._started:
                # The host starts an instance per tenant, running the init hooks first.
                self._started.add(self._call.tenant)
                module.run_init(self._call.tenant)
            yield module
        finally:
            for name, value in saved_bindings.items():
                setattr(_bindings, name, value)
            sdk_module._current = saved_module
            self._call.tenant = saved_tenant

    def _load(self) -> tuple[Module, ModuleType]:
        source = (self.folder / self.manifest.source_dir).resolve()
        entry = self.manifest.python_module
        # The author's modules (`app`, `handlers.x`) by name may be another harness's: set aside.
        aside = {name: m for name, m in sys.modules.items() if _is_under(m, source) or name == entry}
        for name in aside:
            del sys.modules[name]
        saved_module = sdk_module._current
        sdk_module._current = None
        sys.path.insert(0, str(source))
        try:
            loaded = importlib.import_module(entry)
            module = sdk_module._current
            if module is None:
                raise RuntimeError(f"{entry} created no trafi_sdk.Module: create one at import time")
        finally:
            sys.path.remove(str(source))
            sdk_module._current = saved_module
            for name in [n for n, m in sys.modules.items() if _is_under(m, source)]:
                del sys.modules[name]
            sys.modules.update(aside)
        if module.name != self.name:
            raise ValueError(f"{entry} creates Module({module.name!r}); the manifest names {self.name!r}")
        return module, loaded


def _is_under(module: ModuleType | None, folder: Path) -> bool:
    # A string prefix, not Path.resolve() per module: a test process holds thousands of modules.
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and os.path.abspath(file).startswith(f"{folder}{os.sep}")
