DROP TABLE mod_reviews__vote;
