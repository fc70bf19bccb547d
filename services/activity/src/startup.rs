//! Building and running the service: the pool and the Redis client (both lazy, so the
//! service starts while its database or Redis is still down), the routes, and the stream
//! consumer that runs beside the HTTP server and stops after it.

use std::future::Future;

use service_common::data_service::{DataConnections, DataService, Worker};
use service_common::Metrics;
use tokio::sync::watch;

use crate::config::Config;
use crate::consumer::Consumer;
use crate::group::ConsumerGroup;
use crate::routes;
use crate::state::AppState;

/// The stream the catalog publishes to (after `REDIS_KEY_PREFIX`).
pub const EVENTS_STREAM: &str = cluster_events::STREAM;

/// A bound, not yet serving, activity service: the shared data-service shape with the stream consumer as
/// its worker ([`DataService::run_until_stopped`], [`DataService::port`]).
pub type Application = DataService<Consumer>;

/// Binds the port and prepares everything; connects to nothing yet.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let connections = DataConnections::open(&config.data)?;
    // Without Redis the feed is still served, only not updated.
    let metrics = Metrics::new();
    let readiness = connections.readiness().counting(&metrics);
    let DataConnections { pool, redis } = connections;
    let stream = config.data.redis_key(EVENTS_STREAM);
    let group = ConsumerGroup {
        redis: redis.clone(),
        stream: stream.clone(),
        group: config.consumer_group.clone(),
    };
    crate::metrics::register(&metrics, &pool, &group);
    let routes = routes::router(
        AppState {
            pool: pool.clone(),
            group,
        },
        readiness,
    );
    let consumer = Consumer {
        pool,
        redis,
        stream,
        group: config.consumer_group,
        name: config.consumer_name,
    };
    DataService::build(&config.http, routes, metrics, consumer).await
}

impl Worker for Consumer {
    const NAME: &'static str = "event consumer";

    fn run(self, stop: watch::Receiver<bool>) -> impl Future<Output = ()> + Send {
        Consumer::run(self, stop)
    }
}
