DROP TABLE mod_points__entry;
