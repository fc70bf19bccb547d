//! The axum hello service. Without `UPSTREAM_URL` it answers the greeting read at start
//! from `CONTENT_DIR/greeting.txt` (built-in `hello world` when unset); with it, it fetches
//! that URL and answers its body, or a 502 when the upstream fails or is too slow.

pub mod config;
pub mod greeting;
pub mod routes;
pub mod upstream;

use anyhow::Context;
use service_common::{Application, Metrics, Readiness};

pub use config::Config;

/// Reads the greeting, prepares the upstream client and binds the port.
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    let answer = match &config.upstream_url {
        Some(url) => routes::Answer::Upstream(upstream::Upstream::new(
            url.clone(),
            config.upstream_timeout,
        )?),
        None => routes::Answer::Greeting(greeting::load(config.content_dir.as_deref())?.into()),
    };
    let metrics = Metrics::new();
    let readiness = Readiness::always().counting(&metrics);
    Application::build_with_metrics(&config.http, routes::router(answer, readiness), metrics)
        .await
        .context("cannot start the HTTP server")
}
