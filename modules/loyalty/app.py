"""loyalty: one point per euro of a paid order, kept by the `points` module's service.

Two event subscriptions show the two modes: `order.created` runs in the order
request (sync, so it must be quick), `payment.completed` runs as a job (async:
retried if the points service is briefly unavailable). Delivery is
at-least-once, so the reward is keyed by the event id.

Its three metrics (declared in trafi-module.json, see docs/metrics.md) show the
three types: a counter of points awarded, a gauge of the orders counted, a
histogram of the points service's answer time.
"""

from trafi_sdk import Event, HostError, Module, Request, Response, commerce, kv, metrics, services

module = Module("loyalty")

points_awarded = metrics.counter("points_awarded_total")
orders_seen = metrics.gauge("orders_seen")
points_service_duration = metrics.histogram("points_service_duration_seconds")


@module.on("order.created")
def count_order(event: Event) -> None:
    orders_seen.set(kv.increment("orders-seen", 1))


@module.on("payment.completed")
def reward_payment(event: Event) -> None:
    if kv.get(f"rewarded:{event.id}") is not None:
        return  # this event was handled before (a redelivery)
    order = commerce.get_order(event.payload.order_id)
    points = event.payload.amount_cents // 100
    if points > 0:
        with points_service_duration.time(method="add"):
            services.call("points.balance", "add", {"customer": order.customer_id, "points": points})
        points_awarded.inc(points, reason="payment")
        commerce.add_order_note(order.id, f"{points} loyalty points awarded")
    kv.set(f"rewarded:{event.id}", b"1")


@module.get("/v1/stats")
def stats(request: Request) -> Response:
    return Response.json({"ordersSeen": kv.increment("orders-seen", 0)})


@module.post("/v1/orders")
def reward(request: Request) -> Response:
    order = request.json()
    try:
        with points_service_duration.time(method="add"):
            balance = services.call(
                "points.balance", "add", {"customer": order["customer"], "points": int(order["total"])}
            )
    except HostError as error:
        return Response.error(422, str(error))
    points_awarded.inc(int(order["total"]), reason="order")
    return Response.json({"order": order["id"], "balance": balance["points"]}, status=201)


@module.get("/v1/customers/{customer}/points")
def points(request: Request) -> Response:
    with points_service_duration.time(method="get"):
        balance = services.call("points.balance", "get", {"customer": request.path_params["customer"]})
    return Response.json(balance)
