"""db-bench: the same statements the bench runs natively, from a module."""

from trafi_sdk import Module, Request, Response, db

module = Module("db-bench")
items = db.table("item")


@module.post("/insert")
def insert(request: Request) -> Response:
    items.insert({"name": "widget", "price": 1250})
    return Response.json({})


@module.post("/insert100")
def insert100(request: Request) -> Response:
    db.transaction([items.insert_op({"name": "widget", "price": n}) for n in range(100)])
    return Response.json({})


@module.get("/select1")
def select1(request: Request) -> Response:
    return Response.json(items.select(where={"id": 1}))


@module.get("/select100")
def select100(request: Request) -> Response:
    return Response.json(items.select(columns=["id", "name", "price"], order_by=["id"], limit=100))
