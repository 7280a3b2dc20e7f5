DROP TABLE mod_db_bench__item;
