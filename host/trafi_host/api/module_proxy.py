"""`/api/modules/<name>/<path>`: authenticated requests handed to the module's HTTP export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..auth import ApiKeyRecord
from ..runtime import ModuleRequest, Principal
from .auth import module_host, require_api_key
from .errors import ApiError

MAX_BODY_BYTES = 1 << 20

router = APIRouter()


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def module_proxy(
    name: str, path: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> Response:
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
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    module_request = ModuleRequest(
        method=request.method,
        path="/" + path,
        tenant_id=key.tenant_id,
        principal=Principal(id=key.key_id, kind="api-key", scopes=key.scopes),
        query=tuple(request.query_params.multi_items()),
        headers=tuple((k, v) for k, v in request.headers.items() if k != "authorization"),
        body=body,
    )
    result = await host.runtime.call_http(image, module_request)
    # Checked by the runtime's response policy; appended one by one so that
    # repeated headers (several set-cookie) all reach the caller.
    response = Response(content=result.body, status_code=result.status)
    for name, value in result.headers:
        response.headers.append(name, value)
    return response


# One route per method, so that each has its own operation id in the OpenAPI document.
for _method in METHODS:
    router.add_api_route(
        "/api/modules/{name}/{path:path}",
        module_proxy,
        methods=[_method],
        summary="Call a module's HTTP handler",
        operation_id=f"module_proxy_{_method.lower()}",
    )
