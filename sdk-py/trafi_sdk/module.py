"""`Module`: the object a module author creates once and decorates handlers on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .http import Request, Response
from .routing import RouteDeclaration, Router
from .views import Renderer, View, ViewDeclaration, ViewRequest, declare_view

# A route handler: `(request: Request) -> Response`, or typed (see `Module.route`).
Handler = TypeVar("Handler", bound=Callable[..., Any])

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
        self.views: dict[str, View] = {}
        _current = self

    def route(
        self,
        method: str,
        pattern: str,
        *,
        summary: str = "",
        description: str = "",
        permission: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Route `method` requests matching `pattern` (`/v1/items/{id}`: `{id}` is a path parameter).

        `summary` and `description` document the route in the host's OpenAPI document
        (default: the handler's docstring, first line and rest); `permission` is one the
        manifest declares in `apiPermissions`, named without the module prefix, that the
        host checks before calling (default: the module's base permission). The route's
        version is its first path segment when that is `v<number>` (`/v1/...`, `/v2/...`).

        A handler takes the `Request` and returns a `Response`, or is typed: a parameter
        named like a path parameter gets it (`str` or `int`), one annotated with a
        dataclass or TypedDict gets the JSON body parsed into it (a 400 naming the field
        when it does not match), and a value returned that is not a `Response` is sent
        as JSON. The request and response JSON Schemas come from those annotations.

        Example:

            @dataclass
            class Rename:
                name: str

            @module.route("PATCH", "/v1/items/{id}", summary="Rename an item", permission="edit")
            def patch(id: str, body: Rename) -> dict:
                return {"id": id, "name": body.name}
        """

        def register(handler: Handler) -> Handler:
            self.router.add(
                method, pattern, handler, summary=summary, description=description, permission=permission
            )
            return handler

        return register

    def get(self, pattern: str, **declared: Any) -> Callable[[Handler], Handler]:
        """`route("GET", pattern, ...)`: the same keywords (`summary`, `description`, `permission`).

        Example:

            @module.get("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("GET", pattern, **declared)

    def post(self, pattern: str, **declared: Any) -> Callable[[Handler], Handler]:
        """`route("POST", pattern, ...)`: the same keywords (`summary`, `description`, `permission`).

        Example:

            @module.post("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("POST", pattern, **declared)

    def put(self, pattern: str, **declared: Any) -> Callable[[Handler], Handler]:
        """`route("PUT", pattern, ...)`: the same keywords (`summary`, `description`, `permission`).

        Example:

            @module.put("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("PUT", pattern, **declared)

    def delete(self, pattern: str, **declared: Any) -> Callable[[Handler], Handler]:
        """`route("DELETE", pattern, ...)`: the same keywords (`summary`, `description`, `permission`).

        Example:

            @module.delete("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("DELETE", pattern, **declared)

    def patch(self, pattern: str, **declared: Any) -> Callable[[Handler], Handler]:
        """`route("PATCH", pattern, ...)`: the same keywords (`summary`, `description`, `permission`).

        Example:

            @module.patch("/v1/items/{id}")
            def handler(request: Request) -> Response:
                return Response.json({"id": request.path_params["id"]})
        """
        return self.route("PATCH", pattern, **declared)

    def view(
        self, view_id: str, *, title: str, nav_label: str | None = None, permission: str | None = None
    ) -> Callable[[Renderer], Renderer]:
        """A page of the admin dashboard (world 0.3.0+): `render(request: ViewRequest)` returns
        its UI tree, a dict of the dashboard's components, sent as JSON.

        `view_id` is `[a-z][a-z0-9-]*`, unique in the module; `nav_label` the navigation
        entry (default: `title`); `permission` as for routes. An exception in `render` is the
        dashboard's error panel, naming the file and line.

        Example:

            @module.view("overview", title="Points overview", nav_label="Points")
            def overview(request: ViewRequest) -> dict:
                return {"schema": "trafi-ui/1", "root": {"type": "text", "text": "Hello"}}
        """

        def register(render: Renderer) -> Renderer:
            if view_id in self.views:
                raise ValueError(f"view {view_id!r} is declared twice")
            self.views[view_id] = declare_view(view_id, title, nav_label, permission, render)
            return render

        return register

    def route_declarations(self) -> list[RouteDeclaration]:
        """The routes as the `routes` export declares them to the host.

        Example:

            paths = [route.path for route in module.route_declarations()]
        """
        return [route.declaration for route in self.router.routes]

    def view_declarations(self) -> list[ViewDeclaration]:
        """The views as the `views` export declares them to the host.

        Example:

            ids = [view.id for view in module.view_declarations()]
        """
        return [view.declaration for view in self.views.values()]

    def render_view(self, request: ViewRequest) -> Any:
        """The UI tree of view `request.view_id` (LookupError when it is not declared).

        Example:

            tree = module.render_view(ViewRequest("overview", "acme", Principal("k")))
        """
        view = self.views.get(request.view_id)
        if view is None:
            raise LookupError(f"module {self.name} declares no view {request.view_id!r}")
        return view.render(request)

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
