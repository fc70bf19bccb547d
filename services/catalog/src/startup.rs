//! Building and running the service: the pool and the Redis client (both lazy, so the
//! service starts while its database or Redis is still down), the routes, and the outbox
//! publisher that runs beside the HTTP server and stops after it.

use std::future::Future;

use service_common::data_service::{DataConnections, DataService, Worker};
use service_common::Metrics;
use tokio::sync::watch;

use crate::cache::Cache;
use crate::config::Config;
use crate::outbox::{Outbox, Publisher};
use crate::routes;
use crate::state::AppState;

/// The stream every change is published to (after `REDIS_KEY_PREFIX`).
pub const EVENTS_STREAM: &str = cluster_events::STREAM;

/// A bound, not yet serving, catalog: the shared data-service shape with the outbox publisher as
/// its worker ([`DataService::run_until_stopped`], [`DataService::port`]).
pub type Application = DataService<Publisher>;

/// Binds the port and prepares everything; connects to nothing yet.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let connections = DataConnections::open(&config.data)?;
    // Without Redis the catalog still serves (no cache, events wait in the outbox).
    let metrics = Metrics::new();
    let readiness = connections.readiness().counting(&metrics);
    let DataConnections { pool, redis } = connections;
    let cache = Cache::new(
        redis.clone(),
        &config.data.redis_key_prefix,
        config.cache_ttl,
    );
    let outbox = Outbox::default();
    let state = AppState {
        pool: pool.clone(),
        cache: cache.clone(),
        outbox: outbox.clone(),
    };
    crate::metrics::register(&metrics, &pool);
    let publisher = Publisher {
        pool,
        redis,
        cache,
        stream: config.data.redis_key(EVENTS_STREAM),
        outbox,
    };
    let routes = routes::router(state, readiness);
    DataService::build(&config.http, routes, metrics, publisher).await
}

impl Worker for Publisher {
    const NAME: &'static str = "outbox publisher";

    fn run(self, stop: watch::Receiver<bool>) -> impl Future<Output = ()> + Send {
        Publisher::run(self, stop)
    }
}
