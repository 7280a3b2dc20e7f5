"""loyalty: one point per euro of an order, kept by the `points` module's service."""

from trafi_sdk import HostError, Module, Request, Response, services

module = Module("loyalty")


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
