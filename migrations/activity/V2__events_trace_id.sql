-- The trace each event was stored in: the one catalog's "add entry" started or continued,
-- carried through the outbox and the stream, or a new one when the event came without a
-- valid traceparent. `SELECT … WHERE trace_id = …` finds the event from a log line.
ALTER TABLE events ADD COLUMN trace_id text;

-- 32 lower-case hex digits, as activity writes them. NOT VALID takes no scan of a table
-- that may be large; rows stored before this migration hold NULL.
ALTER TABLE events ADD CONSTRAINT events_trace_id_is_hex
    CHECK (trace_id ~ '^[0-9a-f]{32}$') NOT VALID;
