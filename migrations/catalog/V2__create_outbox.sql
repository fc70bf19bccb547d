-- Change events waiting to be published to the Redis stream `catalog.events`. A change and
-- its event commit in one transaction; a background task publishes the rows and deletes
-- them, so events written while Redis is down go out when it is back.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The consumers' idempotency key: an event published twice keeps its id.
    event_id    uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
    name        text NOT NULL,
    -- NULL for `deleted`.
    description text,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
