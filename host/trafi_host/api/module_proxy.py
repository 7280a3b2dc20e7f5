"""`/api/modules/<name>/<path>`: authenticated requests handed to the module's HTTP export.

The permission a request needs comes from the module's declared routes
(`module_routes/access.py`): checked here, before the module is called. The
body a request may send is the module's world's (`runtime/body_caps.py`):
refused from `Content-Length` or while it streams (`module_body_limit`, in
`RequestLimits`), before the module is looked up for anything else.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import Scope

from ..auth.caller import Caller
from ..auth.permissions import module_use
from ..module_routes.access import Access, access_for, declares_routes
from ..module_routes.deprecation import deprecation_headers
from ..module_routes.table import route_table
from ..permission_catalogue import module_permissions
from ..rate_limits.limiter import ModuleRateLimiter, RateDecision
from ..runtime import ModuleImage, ModuleRequest, Principal
from ..runtime.body_caps import LIST_U8_CEILING
from .auth import caller_of, deny, module_host
from .errors import ApiError
from .forwarded_headers import forwarded_headers
from .loaded_catalogue import LoadedCatalogue
from .request_limits import BodyLimit

PREFIX = "/api/modules/"
# A request to no module served here: the smallest cap (it is refused anyway, 403 or 404).
UNSERVED_BODY_BYTES = LIST_U8_CEILING.request

router = APIRouter()
catalogue = LoadedCatalogue()


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def module_proxy(request: Request) -> Response:
    name: str = request.path_params["name"]
    path: str = request.path_params["path"]
    caller = await caller_of(request)
    host = module_host(request)
    image = host.images.get(name)
    if image is None:
        # Checked before the state is told: a caller without it learns nothing of the module.
        if not caller.allows(module_use(name)):
            await deny(request, caller, module_use(name), module=name)
        raise _not_served(request, name)
    # The caller's permissions in this module's namespace, wildcards expanded.
    own = caller.permissions_in(module_permissions(image.manifest))
    if not own:
        # No permission of the module at all: refused as for a module that does not exist.
        await deny(request, caller, module_use(name), module=name)
    access = _access(image, request.method, "/" + path)
    if access.missing is not None:
        raise _no_route(name, request.method, "/" + path, access.missing.allowed)
    if access.permission not in own:
        await deny(request, caller, access.permission, module=name)
    # Before the body is read and the module called: a refused request costs no wasm.
    decision = await _rate_limited(request, name, caller.tenant_id, image.manifest.rate_limit)
    body = await request.body()
    limit = body_limit(image)
    if len(body) > limit.max_bytes:  # RequestLimits cut it off first; this is the proxy's own word
        raise ApiError(413, f"request body larger than {limit.max_bytes} bytes, the limit of {limit.whose}")
    module_request = ModuleRequest(
        method=request.method,
        path="/" + path,
        tenant_id=caller.tenant_id,
        # `permissions`: every one the caller holds, core and each loaded module's (world 0.3.0+).
        principal=Principal(caller.id, caller.kind, own, _held(caller, image, host.images)),
        query=tuple(request.query_params.multi_items()),
        headers=forwarded_headers(request.headers.items()),
        body=body,
    )
    result = await host.runtime.call_http(image, module_request)
    # Checked by the runtime's response policy; appended one by one so that
    # repeated headers (several set-cookie) all reach the caller.
    response = Response(content=result.body, status_code=result.status)
    for header, value in result.headers:
        response.headers.append(header, value)
    if decision is not None:
        response.headers.update(decision.headers())  # the host's count, whatever the module said
    if access.match is not None:
        table = route_table(image.load_id, name, image.declarations.routes)
        for header, value in deprecation_headers(name, image.manifest.api_versions, table, access.match):
            if header == "Link":  # beside the module's own links (pagination...), not instead
                response.headers.append(header, value)
            else:
                response.headers[header] = value  # the host's word on its versions, whatever the module said
    return response


def body_limit(image: ModuleImage) -> BodyLimit:
    return _body_limit(image.body_caps.request, image.name, image.world.version)


@functools.lru_cache(maxsize=1024)  # one per module and world: asked twice on every request
def _body_limit(max_bytes: int, module: str, world: str) -> BodyLimit:
    return BodyLimit(max_bytes, f"module {module} (world {world})")


def module_body_limit(scope: Scope) -> BodyLimit:
    """The body cap of a request to `/api/modules/<name>/...`: that module's world's."""
    host = getattr(getattr(scope.get("app"), "state", None), "host", None)
    name = scope["path"].removeprefix(PREFIX).split("/", 1)[0]
    image = None if host is None else host.images.get(name)
    return BodyLimit(UNSERVED_BODY_BYTES) if image is None else body_limit(image)


def _held(caller: Caller, image: ModuleImage, images: Mapping[str, ModuleImage]) -> tuple[str, ...]:
    if not declares_routes(image.manifest.wit_version):
        return ()  # an older world's principal has no such field
    return caller.permissions_in(catalogue.names(images))


def _access(image: ModuleImage, method: str, path: str) -> Access:
    table = route_table(image.load_id, image.name, image.declarations.routes)
    return access_for(image.name, image.manifest.wit_version, table, method, path)


def _not_served(request: Request, name: str) -> ApiError:
    state = module_host(request).states.get(name)
    if state is None:
        return ApiError(404, f"no module named {name!r}")
    if state.status == "disabled":
        return ApiError(404, f"module {name!r} is disabled")
    if state.status == "quarantined":
        return ApiError(503, f"module {name!r} is quarantined", reason=state.error)
    if state.status == "failed":
        where = {"source": state.problem} if state.problem else {}  # set under `trafi dev` only
        return ApiError(503, f"module {name!r} failed to load", None, reason=state.error, **where)
    return ApiError(404, f"module {name!r} is not running")


def _no_route(name: str, method: str, path: str, allowed: tuple[str, ...]) -> ApiError:
    if not allowed:
        return ApiError(404, f"module {name!r} declares no route {path}")
    return ApiError(
        405,
        f"module {name!r} declares no {method} route for {path} (it has: {', '.join(allowed)})",
        headers={"Allow": ", ".join(allowed)},
    )


async def _rate_limited(
    request: Request, module: str, tenant: str, manifest_rate: str | None
) -> RateDecision | None:
    """Count the request against the tenant's rate on the module; over it, a 429 (docs/rate-limits.md)."""
    host = module_host(request)
    rate = host.rate_policy.rate_for(module, tenant, manifest_rate)
    if rate is None:
        return None
    limiter: ModuleRateLimiter = request.app.state.rate_limiter
    decision = await limiter.hit(rate, module, tenant)
    if decision is not None and not decision.allowed:
        host.rate_policy.count_rejection(module, tenant)
        raise ApiError(
            429,
            f"rate limit of module {module!r} reached for this tenant ({rate}); "
            f"retry in {decision.headers()['Retry-After']} s",
            headers=decision.headers(),
        )
    return decision


# A plain route, not FastAPI's: no parameters to resolve, and out of the OpenAPI document,
# where each module served has its own operations (api/module_openapi.py).
router.add_route(
    "/api/modules/{name}/{path:path}", module_proxy, methods=list(METHODS), include_in_schema=False
)
