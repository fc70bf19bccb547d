//! activity: consumes the catalog's change events from the Redis stream `catalog.events`
//! through a consumer group, stores each event once in its own database, and serves the
//! recent feed (`GET /activity`) and the counts per kind (`GET /stats`).

pub mod config;
pub mod consumer;
pub mod error;
pub mod group;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;

pub use config::Config;
pub use startup::{build, Application, EVENTS_STREAM};
