//! Hostile input at every service's edge, from outside: generated requests (proptest),
//! oversized heads and bodies, slow clients, path traversal, invalid JSON and UTF-8, and
//! malformed events in the stream. Nothing panics, nothing is stored that should not be, and
//! each refusal says why.

mod activity;
mod catalog;
mod catalog_cases;
mod oversized;
mod plain;
mod slow_clients;
mod strategies;
mod web;
