"""reviews: the module database (its migrations on SQLite in memory), in-process."""

from pathlib import Path

from trafi_sdk.testing import ModuleHarness

REVIEWS = Path(__file__).resolve().parents[1]


def test_reviews_are_listed_best_first_and_rated() -> None:
    reviews = ModuleHarness(REVIEWS)
    for author, rating in (("ann", 3), ("bob", 5), ("cid", 4)):
        assert (
            reviews.post("/v1/products/p1/reviews", json={"author": author, "rating": rating}).status == 201
        )
    listed = reviews.get("/v1/products/p1/reviews", query={"min_rating": "4"}).json()["reviews"]
    assert [(r["author"], r["rating"]) for r in listed] == [("bob", 5), ("cid", 4)]
    assert reviews.get("/v1/products/p1/rating").json() == {"product": "p1", "reviews": 3, "average": 4.0}


def test_the_tables_constraints_refuse_bad_reviews() -> None:
    reviews = ModuleHarness(REVIEWS)
    assert reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 5}).status == 201
    assert reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 4}).status == 422
    assert reviews.post("/v1/products/p1/reviews", json={"author": "bob", "rating": 9}).status == 422


def test_votes_replace_a_voters_earlier_vote_and_need_the_review() -> None:
    reviews = ModuleHarness(REVIEWS)
    review = reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 5}).json()["id"]
    assert (
        reviews.post(f"/v1/reviews/{review}/votes", json={"voter": "v", "helpful": True}).json()["helpful"]
        == 1
    )
    assert (
        reviews.post(f"/v1/reviews/{review}/votes", json={"voter": "v", "helpful": False}).json()["helpful"]
        == 0
    )
    assert reviews.post("/v1/reviews/999/votes", json={"voter": "v", "helpful": True}).status == 404


def test_each_tenant_has_its_own_rows() -> None:
    reviews = ModuleHarness(REVIEWS)
    reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 5})
    assert reviews.get("/v1/products/p1/reviews", tenant="globex").json()["reviews"] == []
    assert reviews.delete("/v1/reviews/1", tenant="globex").status == 404
    assert reviews.delete("/v1/reviews/1").json() == {"deleted": 1}
