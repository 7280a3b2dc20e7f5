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
    """One per component. Creating it registers it as the component's module."""

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


def _current_or_none() -> Module | None:
    return _current
