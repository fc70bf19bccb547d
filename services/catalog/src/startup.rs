//! Building and running the service: the pool and the Redis client (both lazy, so the
//! service starts while its database or Redis is still down), the routes, and the outbox
//! publisher that runs beside the HTTP server and stops after it.

use std::future::Future;

use anyhow::Context as _;
use service_common::postgres::{self, PoolSettings};
use service_common::redis::{Redis, RedisSettings};
use service_common::{Check, ErrorBody, HttpConfig, Readiness};
use tokio::sync::watch;

use crate::cache::Cache;
use crate::config::Config;
use crate::outbox::{Outbox, Publisher};
use crate::routes;
use crate::state::AppState;

/// The stream every change is published to (after `REDIS_KEY_PREFIX`).
pub const EVENTS_STREAM: &str = "catalog.events";

/// A bound, not yet serving, catalog.
pub struct Application {
    http: service_common::Application,
    publisher: Publisher,
}

impl Application {
    /// Binds the port and prepares everything; connects to nothing yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = postgres::pool(
            &config.database_url,
            PoolSettings {
                max_size: config.database_pool_size,
                ..PoolSettings::default()
            },
        )
        .context("DATABASE_URL")?;
        let redis = Redis::new(&config.redis_url, RedisSettings::default()).context("REDIS_URL")?;
        let cache = Cache::new(redis.clone(), &config.redis_key_prefix, config.cache_ttl);
        let outbox = Outbox::default();
        let state = AppState {
            pool: pool.clone(),
            cache: cache.clone(),
            outbox: outbox.clone(),
        };
        let readiness = {
            let (pool, redis) = (pool.clone(), redis.clone());
            Readiness::new(move || {
                let (pool, redis) = (pool.clone(), redis.clone());
                async move {
                    vec![
                        Check::required("postgres", postgres::ping(&pool).await),
                        // Without Redis the catalog still serves (no cache, events wait in
                        // the outbox): degraded, not down.
                        Check::optional("redis", redis.ping().await),
                    ]
                }
            })
        };
        // A JSON API: the shared layers' own 413 and 408 answer JSON like every other error.
        let http_config = HttpConfig {
            error_body: ErrorBody::Json,
            ..config.http.clone()
        };
        let http =
            service_common::Application::build(&http_config, routes::router(state, readiness))
                .await?;
        let publisher = Publisher {
            pool,
            redis,
            cache,
            stream: format!("{}{EVENTS_STREAM}", config.redis_key_prefix),
            outbox,
        };
        Ok(Self { http, publisher })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.http.port()
    }

    /// Serves until SIGTERM or SIGINT, finishing in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(service_common::shutdown::signal()).await
    }

    /// Serves until `shutdown` completes; then the publisher finishes its round and stops.
    pub async fn run_until<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let publisher = tokio::spawn(self.publisher.run(stopped));
        let served = self.http.run_until(shutdown).await;
        let _ = stop.send(true);
        publisher.await.context("outbox publisher")?;
        served.context("HTTP server")
    }
}
