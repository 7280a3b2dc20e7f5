-- "Was this review helpful?": one vote per voter and review.
CREATE TABLE mod_reviews__vote (
    review_id INTEGER NOT NULL REFERENCES mod_reviews__review (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    PRIMARY KEY (review_id, voter)
);
