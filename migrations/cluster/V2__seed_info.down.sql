DELETE FROM info WHERE name IN ('cluster', 'dbtool');
