"""`Module`: the object a module author creates once and decorates handlers on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .http import Request, Response
from .routing import Handler, Router

InitHook = Callable[[str], None]
# A service method: (payload decoded from JSON, tenant id) -> JSON-serialisable answer.
ServiceMethod = Callable[[Any, str], Any]
DestroyHook = Callable[[], None]
# An event handler: gets a `trafi_sdk.Event`; raising means the delivery failed (async retries it).
EventHandler = Callable[[Any], None]
# Under `trafi dev`: what the old code hands over (JSON-serialisable), and what the new code does with it.
SnapshotHook = Callable[[], Any]
RestoreHook = Callable[[Any], None]

_current: Module | None = None


class ReloadHooks:
    """`@module.on_reload.snapshot` and `@module.on_reload.restore`: in-memory state kept across a
    hot reload under `trafi dev` (kv and db keep theirs by nature).

    Before the new code serves a tenant, the old code's `snapshot()` returns a JSON-serialisable
    value (per tenant); the new code's `restore(value)` runs right after its `on_init` hooks. Both are
    optional; a built component (`trafi serve`) never reloads, so they are never called there.
    """

    def __init__(self) -> None:
        self.snapshot_hook: SnapshotHook | None = None
        self.restore_hook: RestoreHook | None = None

    def snapshot(self, hook: SnapshotHook) -> SnapshotHook:
        self.snapshot_hook = hook
        return hook

    def restore(self, hook: RestoreHook) -> RestoreHook:
        self.restore_hook = hook
        return hook


class Module:
    """One per component. Creating it registers it as the component's module.

    Create it once, at import time of the entry module (`build.pythonModule`),
    with the manifest's name, and decorate the handlers on it:

        from trafi_sdk import Module, Request, Response

        module = Module("greeter")

        @module.get("/v1/hello")
        def hello(request: Request) -> Response:
            return Response.json({"message": "hello"})
    """

    def __init__(self, name: str) -> None:
        global _current
        self.name = name
        self.router = Router()
        self._on_init: list[InitHook] = []
        self._on_destroy: list[DestroyHook] = []
        self.services: dict[str, dict[str, ServiceMethod]] = {}
        self.event_handlers: dict[str, list[EventHandler]] = {}
        self.on_reload = ReloadHooks()
        _current = self

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Route `method` requests matching `pattern` (`/v1/items/{id}`: `{id}` is a path parameter).

        Example:

            @module.route("PATCH", "/v1/items/{id}")
            def patch(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """

        def register(handler: Handler) -> Handler:
            self.router.add(method, pattern, handler)
            return handler

        return register

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        """`route("GET", pattern)`.

        Example:

            @module.get("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("GET", pattern)

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        """`route("POST", pattern)`.

        Example:

            @module.post("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("POST", pattern)

    def put(self, pattern: str) -> Callable[[Handler], Handler]:
        """`route("PUT", pattern)`.

        Example:

            @module.put("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("PUT", pattern)

    def delete(self, pattern: str) -> Callable[[Handler], Handler]:
        """`route("DELETE", pattern)`.

        Example:

            @module.delete("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("DELETE", pattern)

    def service(self, name: str, method: str) -> Callable[[ServiceMethod], ServiceMethod]:
        """Offer `method` of service `name` to modules that depend on this one.

        The host registers it as `<module>.<name>`; callers reach it with
        `trafi_sdk.services.call("<module>.<name>", method, payload)`. The method gets
        the decoded JSON payload and the tenant; its answer is sent back as JSON; an
        exception is the caller's `InvalidArgument` with its message.

            @module.service("balance", "get")
            def balance_get(payload: Any, tenant: str) -> Any:
                customer = payload["customer"]
                return {"customer": customer, "points": kv.increment(f"balance:{customer}", 0)}
        """

        def register(handler: ServiceMethod) -> ServiceMethod:
            self.services.setdefault(name, {})[method] = handler
            return handler

        return register

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Handle `event_type` (e.g. `order.created`); the manifest's `events` must subscribe to it.

        The handler gets an `Event`; raising means the delivery failed (an async
        subscription retries it). Delivery is at-least-once: use `event.id` to act once.

            @module.on("payment.completed")
            def reward(event: Event) -> None:
                if kv.get(f"done:{event.id}") is None:
                    award(event.payload.order_id)
                    kv.set(f"done:{event.id}", b"1")
        """

        def register(handler: EventHandler) -> EventHandler:
            self.event_handlers.setdefault(event_type, []).append(handler)
            return handler

        return register

    def on_init(self, hook: InitHook) -> InitHook:
        """`hook(tenant_id)` runs when the host starts an instance for a tenant (before its first call).

        Example:

            @module.on_init
            def warm(tenant_id: str) -> None:
                log.info(f"starting for {tenant_id}")
        """
        self._on_init.append(hook)
        return hook

    def on_destroy(self, hook: DestroyHook) -> DestroyHook:
        """`hook()` runs when the host retires the instance (unload, update, idle).

        Example:

            @module.on_destroy
            def flush() -> None:
                kv.set("last-stop", b"now")
        """
        self._on_destroy.append(hook)
        return hook

    def run_init(self, tenant_id: str) -> None:
        """Runs the `on_init` hooks (the component's lifecycle export and the test harness call it).

        Example:

            module.run_init("acme")
        """
        for hook in self._on_init:
            hook(tenant_id)

    def run_destroy(self) -> None:
        """Runs the `on_destroy` hooks.

        Example:

            module.run_destroy()
        """
        for hook in self._on_destroy:
            hook()

    def handle(self, request: Request) -> Response:
        """Routes `request` to its handler: a 404 without a route, a 405 (with `allow`) for another method.

        Example:

            response = module.handle(request)
        """
        return self.router.dispatch(request)


def current_module() -> Module:
    if _current is None:
        raise RuntimeError("no trafi_sdk.Module was created: create one at import time of your module")
    return _current


def _current_or_none() -> Module | None:
    return _current
