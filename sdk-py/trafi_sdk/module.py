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

_current: Module | None = None


class Module:
    """One per component. Creating it registers it as the component's module."""

    def __init__(self, name: str) -> None:
        global _current
        self.name = name
        self.router = Router()
        self._on_init: list[InitHook] = []
        self._on_destroy: list[DestroyHook] = []
        self.services: dict[str, dict[str, ServiceMethod]] = {}
        self.event_handlers: dict[str, list[EventHandler]] = {}
        _current = self

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.router.add(method, pattern, handler)
            return handler

        return register

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("GET", pattern)

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("POST", pattern)

    def put(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", pattern)

    def delete(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", pattern)

    def service(self, name: str, method: str) -> Callable[[ServiceMethod], ServiceMethod]:
        """Offer `method` of service `name` to modules that depend on this one.

        The host registers it as `<module>.<name>`; callers reach it with
        `trafi_sdk.services.call("<module>.<name>", method, payload)`.
        """

        def register(handler: ServiceMethod) -> ServiceMethod:
            self.services.setdefault(name, {})[method] = handler
            return handler

        return register

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Handle `event_type` (e.g. `order.created`); the manifest's `events` must subscribe to it."""

        def register(handler: EventHandler) -> EventHandler:
            self.event_handlers.setdefault(event_type, []).append(handler)
            return handler

        return register

    def on_init(self, hook: InitHook) -> InitHook:
        """`hook(tenant_id)` runs when the host starts an instance for a tenant."""
        self._on_init.append(hook)
        return hook

    def on_destroy(self, hook: DestroyHook) -> DestroyHook:
        self._on_destroy.append(hook)
        return hook

    def run_init(self, tenant_id: str) -> None:
        for hook in self._on_init:
            hook(tenant_id)

    def run_destroy(self) -> None:
        for hook in self._on_destroy:
            hook()

    def handle(self, request: Request) -> Response:
        return self.router.dispatch(request)


def current_module() -> Module:
    if _current is None:
        raise RuntimeError("no trafi_sdk.Module was created: create one at import time of your module")
    return _current
