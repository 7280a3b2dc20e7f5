"""reviews: product reviews with ratings, in the module's own tables (see docs/database.md)."""

from typing import Any

from trafi_sdk import Module, Request, Response, db
from trafi_sdk.errors import InvalidArgument

module = Module("reviews")
reviews = db.table("review")
votes = db.table("vote")


def _review(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": row["created_at"].isoformat()} if "created_at" in row else row


@module.post("/v1/products/{product}/reviews")
def create(request: Request) -> Response:
    data = request.json()
    try:
        created = reviews.insert(
            {
                "product_id": request.path_params["product"],
                "author": str(data["author"]),
                "rating": int(data["rating"]),
                "body": str(data.get("body", "")),
            },
            returning=["id"],
        )
    except InvalidArgument as error:  # the CHECK on rating, or a second review by the same author
        return Response.json({"error": str(error)}, status=422)
    return Response.json(created, status=201)


@module.get("/v1/products/{product}/reviews")
def list_reviews(request: Request) -> Response:
    product = request.path_params["product"]
    least = int(request.query_param("min_rating") or 1)
    rows = reviews.select(
        columns=["id", "author", "rating", "body", "created_at"],
        where={"product_id": product, "rating": db.ge(least)},
        order_by=["-rating", "id"],
        limit=int(request.query_param("limit") or 20),
    )
    return Response.json({"product": product, "reviews": [_review(r) for r in rows]})


@module.get("/v1/products/{product}/rating")
def rating(request: Request) -> Response:
    product = request.path_params["product"]
    (summary,) = db.query(
        "SELECT count(*) AS reviews, avg(rating) AS average FROM mod_reviews__review WHERE product_id = ?",
        [product],
    )
    average = summary["average"]
    return Response.json(
        {
            "product": product,
            "reviews": summary["reviews"],
            "average": None if average is None else round(average, 2),
        }
    )


@module.post("/v1/reviews/{review}/votes")
def vote(request: Request) -> Response:
    review = int(request.path_params["review"])
    data = request.json()
    voter, helpful = str(data["voter"]), bool(data["helpful"])
    # Replace a voter's earlier vote: both operations commit together, or neither does.
    try:
        db.transaction(
            [
                votes.delete_op(where={"review_id": review, "voter": voter}),
                votes.insert_op({"review_id": review, "voter": voter, "helpful": helpful}),
            ]
        )
    except InvalidArgument as error:  # no such review for this tenant
        return Response.json({"error": str(error)}, status=404)
    return Response.json(
        {"review": review, "helpful": votes.count(where={"review_id": review, "helpful": True})}
    )


@module.delete("/v1/reviews/{review}")
def remove(request: Request) -> Response:
    deleted = reviews.delete(where={"id": int(request.path_params["review"])})
    return Response.json({"deleted": deleted}, status=200 if deleted else 404)
