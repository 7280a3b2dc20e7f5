"""loyalty: one point per euro of a paid order, kept by the `points` module's service.

Two event subscriptions show the two modes: `order.created` runs in the order
request (sync, so it must be quick), `payment.completed` runs as a job (async:
retried if the points service is briefly unavailable). Delivery is
at-least-once, so the reward is keyed by the event id.
"""

from trafi_sdk import Event, HostError, Module, Request, Response, commerce, kv, services

module = Module("loyalty")


@module.on("order.created")
def count_order(event: Event) -> None:
    kv.increment("orders-seen", 1)


@module.on("payment.completed")
def reward_payment(event: Event) -> None:
    if kv.get(f"rewarded:{event.id}") is not None:
        return  # this event was handled before (a redelivery)
    order = commerce.get_order(event.payload.order_id)
    points = event.payload.amount_cents // 100
    if points > 0:
        services.call("points.balance", "add", {"customer": order.customer_id, "points": points})
        commerce.add_order_note(order.id, f"{points} loyalty points awarded")
    kv.set(f"rewarded:{event.id}", b"1")


@module.get("/v1/stats")
def stats(request: Request) -> Response:
    return Response.json({"ordersSeen": kv.increment("orders-seen", 0)})


@module.post("/v1/orders")
def reward(request: Request) -> Response:
    order = request.json()
    try:
        balance = services.call(
            "points.balance", "add", {"customer": order["customer"], "points": int(order["total"])}
        )
    except HostError as error:
        return Response.error(422, str(error))
    return Response.json({"order": order["id"], "balance": balance["points"]}, status=201)


@module.get("/v1/customers/{customer}/points")
def points(request: Request) -> Response:
    balance = services.call("points.balance", "get", {"customer": request.path_params["customer"]})
    return Response.json(balance)
