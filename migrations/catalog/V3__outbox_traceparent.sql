-- The W3C traceparent of the request that made the change, naming catalog's span as the
-- parent; the publisher sends it with the event, so activity stores the event in the same
-- trace. NULL for a change made outside a traced request.
ALTER TABLE outbox ADD COLUMN traceparent text;

-- Only what catalog writes: a version-00 header of lower-case hex digits. NOT VALID takes no
-- scan of the table, and the column is new, so every existing row holds NULL anyway.
ALTER TABLE outbox ADD CONSTRAINT outbox_traceparent_is_w3c
    CHECK (traceparent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$') NOT VALID;
