DROP TABLE mod_reviews__review;
