"""hello: counts hits per tenant. Uses the log, config and kv host imports."""

from trafi_sdk import Module, Request, Response, config, kv, log

module = Module("hello")


@module.get("/v1/hits")
def hits(request: Request) -> Response:
    count = kv.increment("hits", 1)
    greeting = config.get("greeting", "hello")
    log.info(f"hit {count} for tenant {request.tenant_id}")
    return Response.json({"greeting": greeting, "tenant": request.tenant_id, "hits": count})


@module.get("/v1/hits/current")
def current(request: Request) -> Response:
    """Reads the counter without counting: one kv read, one JSON answer."""
    raw = kv.get("hits")
    return Response.json({"tenant": request.tenant_id, "hits": int(raw) if raw else 0})


@module.delete("/v1/hits")
def reset(request: Request) -> Response:
    kv.delete("hits")
    return Response.json({"tenant": request.tenant_id, "hits": 0})
