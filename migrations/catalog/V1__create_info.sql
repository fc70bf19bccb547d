-- The entries of the tutorial's `info(name, description)` table. The checks repeat the API's
-- validation so that no other writer can store what the service would refuse to serve.
CREATE TABLE info (
    -- "C" collation: keyset pagination (`WHERE name > $after ORDER BY name`) then orders by
    -- bytes, the same on every server whatever its locale.
    name        text COLLATE "C" PRIMARY KEY
                CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    description text NOT NULL
                CHECK (char_length(description) <= 4096),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
