"""`/api/modules/<name>/<path>`: authenticated requests handed to the module's HTTP export."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..auth.caller import Caller
from ..auth.permissions import CORE_PERMISSIONS, module_use
from ..permission_catalogue import module_permissions
from ..rate_limits.limiter import ModuleRateLimiter, RateDecision
from ..runtime import ModuleImage, ModuleRequest, Principal
from .auth import authenticate, deny, module_host
from .errors import ApiError
from .forwarded_headers import forwarded_headers

MAX_BODY_BYTES = 1 << 20

router = APIRouter()


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def module_proxy(
    name: str, path: str, request: Request, caller: Caller = Depends(authenticate)
) -> Response:
    # Checked before the module is looked up: a caller without it learns nothing of the module.
    if not caller.allows(module_use(name)):
        await deny(request, caller, module_use(name), module=name)
    host = module_host(request)
    image = host.images.get(name)
    if image is None:
        state = host.states.get(name)
        if state is None:
            raise ApiError(404, f"no module named {name!r}")
        if state.status == "disabled":
            raise ApiError(404, f"module {name!r} is disabled")
        if state.status == "quarantined":
            raise ApiError(503, f"module {name!r} is quarantined", reason=state.error)
        if state.status == "failed":
            where = {"source": state.problem} if state.problem else {}  # set under `trafi dev` only
            raise ApiError(503, f"module {name!r} failed to load", None, reason=state.error, **where)
        raise ApiError(404, f"module {name!r} is not running")
    # Before the body is read and the module called: a refused request costs no wasm.
    decision = await _rate_limited(request, name, caller.tenant_id, image.manifest.rate_limit)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    module_request = ModuleRequest(
        method=request.method,
        path="/" + path,
        tenant_id=caller.tenant_id,
        # `scopes`: the caller's permissions in this module's namespace; `permissions` (world
        # 0.3.0+): every one it holds, core and each running module's; wildcards expanded.
        principal=Principal(
            caller.id,
            caller.kind,
            caller.permissions_in(module_permissions(image.manifest)),
            _held_permissions(caller, host.images.values()) if image.world.declares else (),
        ),
        query=tuple(request.query_params.multi_items()),
        headers=forwarded_headers(request.headers.items()),
        body=body,
    )
    result = await host.runtime.call_http(image, module_request)
    # Checked by the runtime's response policy; appended one by one so that
    # repeated headers (several set-cookie) all reach the caller.
    response = Response(content=result.body, status_code=result.status)
    for name, value in result.headers:
        response.headers.append(name, value)
    if decision is not None:
        response.headers.update(decision.headers())  # the host's count, whatever the module said
    return response


def _held_permissions(caller: Caller, images: Iterable[ModuleImage]) -> tuple[str, ...]:
    catalogue = dict(CORE_PERMISSIONS)
    for running in images:
        catalogue.update(module_permissions(running.manifest))
    return caller.permissions_in(catalogue)


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


# One route per method, so that each has its own operation id in the OpenAPI document.
for _method in METHODS:
    router.add_api_route(
        "/api/modules/{name}/{path:path}",
        module_proxy,
        methods=[_method],
        summary="Call a module's HTTP handler",
        operation_id=f"module_proxy_{_method.lower()}",
    )
