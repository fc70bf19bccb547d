//! Building and running the service: the pool and the Redis client (both lazy, so the
//! service starts while its database or Redis is still down), the routes, and the stream
//! consumer that runs beside the HTTP server and stops after it.

use std::future::Future;

use anyhow::Context as _;
use service_common::postgres::{self, PoolSettings};
use service_common::redis::{Redis, RedisSettings};
use service_common::{Check, ErrorBody, HttpConfig, Readiness};
use tokio::sync::watch;

use crate::config::Config;
use crate::consumer::Consumer;
use crate::routes;
use crate::state::AppState;

/// The stream the catalog publishes to (after `REDIS_KEY_PREFIX`).
pub const EVENTS_STREAM: &str = "catalog.events";

/// A bound, not yet serving, activity service.
pub struct Application {
    http: service_common::Application,
    consumer: Consumer,
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
        let readiness = {
            let (pool, redis) = (pool.clone(), redis.clone());
            Readiness::new(move || {
                let (pool, redis) = (pool.clone(), redis.clone());
                async move {
                    vec![
                        Check::required("postgres", postgres::ping(&pool).await),
                        // Without Redis the feed is still served, only not updated.
                        Check::optional("redis", redis.ping().await),
                    ]
                }
            })
        };
        let state = AppState { pool: pool.clone() };
        // A JSON API: the shared layers' own 413 and 408 answer JSON like every other error.
        let http_config = HttpConfig {
            error_body: ErrorBody::Json,
            ..config.http.clone()
        };
        let http =
            service_common::Application::build(&http_config, routes::router(state, readiness))
                .await?;
        let consumer = Consumer {
            pool,
            redis,
            stream: format!("{}{EVENTS_STREAM}", config.redis_key_prefix),
            group: config.consumer_group,
            name: config.consumer_name,
        };
        Ok(Self { http, consumer })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.http.port()
    }

    /// Serves until SIGTERM or SIGINT, finishing in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(service_common::shutdown::signal()).await
    }

    /// Serves until `shutdown` completes; then the consumer finishes its batch and stops.
    pub async fn run_until<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let consumer = tokio::spawn(self.consumer.run(stopped));
        let served = self.http.run_until(shutdown).await;
        let _ = stop.send(true);
        consumer.await.context("event consumer")?;
        served.context("HTTP server")
    }
}
