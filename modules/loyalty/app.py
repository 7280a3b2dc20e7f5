"""loyalty: one point per euro of a paid order, kept by the `points` module's service.

Two event subscriptions show the two modes: `order.created` runs in the order
request (sync, so it must be quick), `payment.completed` runs as a job (async:
retried if the points service is briefly unavailable). Delivery is
at-least-once, so the reward carries an idempotency key made of the event id:
the points module adds it once however often it is delivered (docs/events.md,
"Acting once"). The kv marker only skips the work for a redelivery it saw finish.

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
        return  # a fast path: the key below is what makes a redelivery award once
    order = commerce.get_order(event.payload.order_id)
    points = event.payload.amount_cents // 100
    if points > 0:
        with points_service_duration.time(method="add"):
            added = services.call(
                "points.balance",
                "add",
                {"customer": order.customer_id, "points": points, "key": f"payment:{event.id}"},
            )
        if not added["replayed"]:  # a replay's points were counted by the delivery that added them
            points_awarded.inc(points, reason="payment")
        note = f"{points} loyalty points awarded"
        if note not in [n.text for n in order.notes]:  # an earlier delivery may have died after it
            commerce.add_order_note(order.id, note)
    kv.set(f"rewarded:{event.id}", b"1")


@module.get("/v1/stats")
def stats(request: Request) -> Response:
    return Response.json({"ordersSeen": kv.increment("orders-seen", 0)})


@module.post("/v1/orders")
def reward(request: Request) -> Response:
    order = request.json()
    # A client's retry (same Idempotency-Key, or else the same order) awards once and answers
    # what the first request did.
    header = request.header("idempotency-key")
    key = f"order:{order['id']}" if header is None else f"request:{header}"
    try:
        with points_service_duration.time(method="add"):
            balance = services.call(
                "points.balance",
                "add",
                {"customer": order["customer"], "points": int(order["total"]), "key": key},
            )
    except HostError as error:
        return Response.error(422, str(error))
    if not balance["replayed"]:
        points_awarded.inc(int(order["total"]), reason="order")
    return Response.json({"order": order["id"], "balance": balance["points"]}, status=201)


@module.get("/v1/customers/{customer}/points")
def points(request: Request) -> Response:
    with points_service_duration.time(method="get"):
        balance = services.call("points.balance", "get", {"customer": request.path_params["customer"]})
    return Response.json(balance)
