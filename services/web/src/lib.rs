//! The web app: server-rendered HTML, usable without JavaScript. Lists, adds, edits and
//! deletes entries through `catalog`, shows the activity feed from `activity`, a cluster panel
//! (the hello chain, which echo replica answered) and a visit counter in Redis. Every part
//! that depends on a backend renders on its own: a backend down empties its part and says so.

pub mod backends;
pub mod cluster;
pub mod config;
pub mod csrf;
pub mod metrics;
pub mod pages;
pub mod routes;
pub mod state;
pub mod visits;

use anyhow::Context;
use service_common::{Application, Check, Metrics, Readiness};

use crate::backends::activity::Activity;
use crate::backends::catalog::Catalog;
use crate::backends::Backend;
use crate::cluster::ClusterMemory;
pub use crate::config::Config;
use crate::metrics::BackendMetrics;
use crate::state::AppState;
use crate::visits::Visits;

/// Prepares the clients (nothing connects yet) and binds the port.
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    let client = reqwest::Client::builder()
        .build()
        .context("cannot build the HTTP client")?;
    let metrics = Metrics::new();
    let backend_metrics = BackendMetrics::register(&metrics);
    let backend = |service, url: &str| {
        Backend::new(service, url, client.clone(), config.backend_timeout)
            .map(|backend| backend.with_metrics(backend_metrics.clone()))
    };
    // Each call to echo on a new connection: the replicas behind its one name then share
    // web's calls, as the cluster page shows, instead of one kept connection reaching one.
    let fresh_connections = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .context("cannot build the HTTP client")?;
    let echo = Backend::new(
        "echo",
        &config.echo_url,
        fresh_connections,
        config.backend_timeout,
    )?
    .with_metrics(backend_metrics.clone());
    let visits = Visits::new(&config.redis_url, config.visits_key.clone())?;
    // Only Redis is probed, and only as optional: every backend's absence is shown on the
    // page, so none of them makes web unready.
    let probed = visits.clone();
    let readiness = Readiness::new(move || {
        let visits = probed.clone();
        async move { vec![Check::optional("redis", visits.ping().await)] }
    })
    .counting(&metrics);
    let state = AppState {
        catalog: Catalog::new(backend("catalog", &config.catalog_url)?),
        activity: Activity::new(backend("activity", &config.activity_url)?),
        hello: backend("hello", &config.hello_url)?,
        echo,
        visits,
        readiness: readiness.clone(),
        cluster: ClusterMemory::default(),
    };
    Application::build_with_metrics(&config.http, routes::router(state, readiness), metrics)
        .await
        .context("cannot start the HTTP server")
}
