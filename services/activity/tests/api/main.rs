//! Integration tests of the activity service against the harness's real PostgreSQL and Redis
//! (private redis-server processes for the tests that stop Redis). The catalog → Redis →
//! activity path and the database roles are tested in tests/services-e2e.

mod support;

mod consuming;
mod endpoints;
mod metrics;
mod status;
