-- Every catalog change event, stored once: the primary key on the event id makes a
-- redelivered event (at-least-once delivery) a no-op.
CREATE TABLE events (
    event_id    uuid PRIMARY KEY,
    -- Insertion order, to break ties between events of the same instant.
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
    name        text NOT NULL,
    description text,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The feed reads newest first.
CREATE INDEX events_newest_first ON events (occurred_at DESC, seq DESC);
