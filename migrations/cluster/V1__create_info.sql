-- The tutorial's first table: one row per named piece of information.
CREATE TABLE info (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT ''
);
