"""The component's exports: adapts the generated bindings to `trafi_sdk.Module`.

The build writes an entry module that imports the author's code and then
`from trafi_sdk.guest import Lifecycle, HttpHandler, ...`; componentize-py finds the
export classes there (a world without `routes` and `views` ignores those two).
"""

from __future__ import annotations

import gc
import json
import traceback
from typing import Any

from . import _bindings, log
from ._bindings import WitErr, wit_types
from .events import from_wit_event
from .http import Principal, Request, Response
from .module import current_module
from .views import ViewRequest


def _to_principal(principal: Any) -> Principal:
    # Filled in directly, as `_to_request` does (the same fields as Principal(...)).
    made = object.__new__(Principal)
    made.__dict__.update(
        id=principal.id,
        kind=principal.kind,
        scopes=tuple(principal.scopes),
        # `permissions` exists from world 0.3.0 on.
        permissions=tuple(getattr(principal, "permissions", ())),
    )
    return made


def _to_request(request: Any) -> Request:
    # Filled in directly: a frozen dataclass's __init__ sets each field through
    # object.__setattr__, which the guest's CPython runs at several times native cost on
    # every request. The same fields and values as Request(...) (tests/sdk check both agree).
    made = object.__new__(Request)
    made.__dict__.update(
        method=request.method,
        path=request.path,
        tenant_id=request.tenant_id,
        principal=_to_principal(request.principal),
        query=tuple(request.query),
        headers=tuple(request.headers),
        body=_bindings.bytes_from_wit(request.body),
        path_params={},
    )
    return made


def freeze_heap() -> None:
    """Called by the build's entry module once the module's code is imported: what the import
    made (the interpreter's, the SDK's and the module's objects, all kept for the instance's
    life) goes to the collector's permanent generation, in the snapshot every instance starts
    from, so the guest's collections on each call walk only what calls make."""
    gc.collect()
    gc.freeze()


# Guest mount point to display prefix, filled in by the build's entry module.
SOURCE_ROOTS: dict[str, str] = {}


def display_path(filename: str) -> str:
    for root, shown in SOURCE_ROOTS.items():
        if filename.startswith(root):
            return shown + filename[len(root) :]
    return filename


def _where(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return {}
    last = frames[-1]
    return {"file": display_path(last.filename), "line": last.lineno, "function": last.name}


def _format(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    for root, shown in SOURCE_ROOTS.items():
        text = text.replace(f'File "{root}', f'File "{shown}')
    return text


# The tenant this instance serves (one instance serves one tenant).
_tenant = ""


class Lifecycle:
    def init(self, ctx: Any) -> None:
        global _tenant
        _tenant = ctx.tenant_id
        try:
            current_module().run_init(ctx.tenant_id)
        except Exception as exc:  # noqa: BLE001 - a module bug must not trap the instance
            log.error("init failed:\n" + _format(exc))
            where = _where(exc)
            raise WitErr(f"{type(exc).__name__}: {exc} at {where.get('file')}:{where.get('line')}") from None

    def destroy(self) -> None:
        try:
            current_module().run_destroy()
        except Exception as exc:  # noqa: BLE001 - a module bug must not trap the instance
            log.error("destroy failed:\n" + _format(exc))


# Tells the host to retire this instance after the call (the host strips it from the response).
RECYCLE_HEADER = "x-trafi-recycle"


class HttpHandler:
    def handle(self, request: Any) -> Any:
        try:
            response = current_module().handle(_to_request(request))
        except MemoryError:
            # The memory cap made an allocation fail: whatever the handler held is freed now,
            # but the heap it leaves is not to be trusted with the next call.
            response = Response.error(500, "MemoryError: out of memory", kind="out-of-memory")
            response = Response(
                response.status, (*response.headers, (RECYCLE_HEADER, "memory")), response.body
            )
        except Exception as exc:  # noqa: BLE001 - a module bug must not trap the instance
            # A module bug becomes a 500 naming the file and line, not a trap.
            log.error("handler failed:\n" + _format(exc))
            response = Response.error(
                500, f"{type(exc).__name__}: {exc}", where=_where(exc), kind="module-exception"
            )
        assert wit_types is not None
        # Filled in directly (the generated dataclass's __init__ is a Python frame per call): the
        # bindings read the fields by name.
        made = object.__new__(wit_types.HttpResponse)
        made.__dict__.update(
            status=response.status, headers=list(response.headers), body=_bindings.bytes_to_wit(response.body)
        )
        return made


class Services:
    def names(self) -> list[str]:
        return sorted(current_module().services)

    def call(self, service: str, method: str, payload: str) -> str:
        module = current_module()
        handler = module.services.get(service, {}).get(method)
        if handler is None:
            raise WitErr(f"service {module.name}.{service} has no method {method!r}")
        try:
            answer = handler(json.loads(payload) if payload else None, _tenant)
        except Exception as exc:  # noqa: BLE001 - the caller gets the message, the log the trace
            log.error(f"service {service}.{method} failed:\n" + _format(exc))
            raise WitErr(f"{type(exc).__name__}: {exc}") from None
        return json.dumps(answer)


class EventHandler:
    def handle(self, event: Any) -> None:
        handlers = current_module().event_handlers.get(event.event_type, [])
        if not handlers:
            # Subscribed in the manifest but not in code: say so, do not pretend success.
            raise WitErr(f"no handler for {event.event_type} (add @module.on({event.event_type!r}))")
        received = from_wit_event(event)
        for handler in handlers:
            try:
                handler(received)
            except Exception as exc:  # noqa: BLE001 - the host retries; the log keeps the trace
                log.error(f"handler for {event.event_type} failed:\n" + _format(exc))
                where = _where(exc)
                raise WitErr(
                    f"{type(exc).__name__}: {exc} at {where.get('file')}:{where.get('line')}"
                ) from None


def _schema_text(schema: dict[str, Any] | None) -> str | None:
    return None if schema is None else json.dumps(schema, separators=(",", ":"))


class Routes:
    """World 0.3.0+: the routes the decorators registered, with their typed handlers' schemas."""

    def declared(self) -> list[Any]:
        wit_routes = _bindings.require(_bindings.wit_routes, "routes")
        return [
            wit_routes.Route(
                method=route.method,
                path=route.path,
                version=route.version,
                summary=route.summary,
                description=route.description,
                permission=route.permission,
                request_schema=_schema_text(route.request_schema),
                response_schema=_schema_text(route.response_schema),
            )
            for route in current_module().route_declarations()
        ]


class Views:
    """World 0.3.0+: the dashboard views, and rendering one as its UI tree's JSON text."""

    def declared(self) -> list[Any]:
        wit_views = _bindings.require(_bindings.wit_views, "views")
        return [
            wit_views.View(id=view.id, title=view.title, nav_label=view.nav_label, permission=view.permission)
            for view in current_module().view_declarations()
        ]

    def render(self, request: Any) -> str:
        view_request = ViewRequest(
            view_id=request.view_id,
            tenant_id=request.tenant_id,
            principal=_to_principal(request.principal),
            query=tuple(request.query),
        )
        try:
            tree = current_module().render_view(view_request)
            return json.dumps(tree, separators=(",", ":"))
        except Exception as exc:  # noqa: BLE001 - the dashboard shows it; a module bug must not trap
            log.error(f"view {request.view_id} failed:\n" + _format(exc))
            where = _where(exc)
            place = f" at {where.get('file')}:{where.get('line')}" if where else ""
            raise WitErr(f"{type(exc).__name__}: {exc}{place}") from None
