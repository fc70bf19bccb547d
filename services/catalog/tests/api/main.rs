//! Integration tests of the catalog against the harness's real PostgreSQL and Redis: each
//! test runs its own catalog on a free port, with a fresh database and its own Redis prefix.

mod support;

mod cache_and_events;
mod endpoints;
mod health;
mod metrics;
mod redis_outage;
mod status;
mod validation;
