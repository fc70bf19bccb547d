//! catalog: the JSON API over the `info` entries in its own database, with a Redis
//! read-through cache and every change published to the Redis stream `catalog.events` through
//! an outbox table (so writes keep working, and no event is lost, while Redis is down).

pub mod cache;
pub mod config;
pub mod entry;
pub mod error;
pub mod metrics;
pub mod outbox;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;

pub use config::Config;
pub use startup::{build, Application, EVENTS_STREAM};
