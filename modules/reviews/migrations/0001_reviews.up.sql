-- One row per review; the host adds the tenant column and makes every key per tenant.
CREATE TABLE mod_reviews__review (
    id SERIAL PRIMARY KEY,
    product_id TEXT NOT NULL,
    author TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (product_id, author)
);
CREATE INDEX mod_reviews__review_product ON mod_reviews__review (product_id, rating);
