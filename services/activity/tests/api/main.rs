//! Integration tests of the activity service, and of the catalog → Redis → activity path,
//! against the harness's real PostgreSQL and Redis (private redis-server processes for the
//! tests that stop Redis).

mod support;

mod consuming;
mod endpoints;
mod pipeline;
mod roles;
