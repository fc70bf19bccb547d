//! Prometheus metrics: one registry per running service (so tests that start several
//! services in one process never share counters), the request metrics every router wears
//! ([`requests`]), the connection pool's figures ([`pool`]), and `GET /metrics` in the
//! Prometheus text format on its own port (see [`HttpConfig::metrics_port`]).
//!
//! Figures that cost a query (an outbox backlog, a consumer group's lag) are read when
//! Prometheus scrapes, by hooks given to [`Metrics::on_scrape`]; each hook has
//! [`SCRAPE_TIMEOUT`] so a slow database or Redis never holds `/metrics`.
//!
//! [`HttpConfig::metrics_port`]: crate::HttpConfig::metrics_port

pub mod pool;
pub mod requests;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Metric, Registry};

pub use prometheus_client;

/// How long one scrape hook may take before its figures are skipped for this scrape.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_millis(500);

type HookFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

struct Hook {
    source: &'static str,
    run: Box<dyn Fn() -> HookFuture + Send + Sync>,
}

/// The metrics of one running service: cheap to clone, every clone the same registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    hooks: Mutex<Vec<Arc<Hook>>>,
    hook_failures: Family<SourceLabel, Counter>,
    /// Requests answered since start, all routes: what `/readyz` reports, so a dashboard
    /// computes request rates from the service's own port.
    served: AtomicU64,
    /// Tells this process from another replica behind the same name.
    instance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SourceLabel {
    source: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        let hook_failures = Family::<SourceLabel, Counter>::default();
        let mut registry = Registry::default();
        registry.register(
            "metrics_scrape_failures",
            "Scrapes whose figures from this source were skipped (failed or too slow)",
            hook_failures.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry: Mutex::new(registry),
                hooks: Mutex::new(Vec::new()),
                hook_failures,
                served: AtomicU64::new(0),
                instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            }),
        }
    }

    /// Requests answered since this service started.
    pub fn served(&self) -> u64 {
        self.inner.served.load(Ordering::Relaxed)
    }

    pub(crate) fn count_served(&self) {
        self.inner.served.fetch_add(1, Ordering::Relaxed);
    }

    /// A random id of this running service, the same for all its clones.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Registers `metric` as `name` (counters get `_total` added when written) and returns
    /// it: the registry holds a clone that sees every change to it.
    pub fn register<M: Metric + Clone>(&self, name: &str, help: &str, metric: M) -> M {
        self.registry().register(name, help, metric.clone());
        metric
    }

    /// Gives direct access to the registry, for collectors and units.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while registering leaves nothing half-written that matters here.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `hook` before every scrape, to update gauges that cost a query. A hook that
    /// fails or takes longer than [`SCRAPE_TIMEOUT`] leaves its gauges as they were and
    /// counts in `metrics_scrape_failures_total{source}`.
    pub fn on_scrape<F, Fut>(&self, source: &'static str, hook: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let hook = Hook {
            source,
            run: Box::new(move || Box::pin(hook())),
        };
        self.inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(hook));
    }

    /// Runs the scrape hooks (side by side), then writes every metric in the Prometheus
    /// text format.
    pub async fn render(&self) -> String {
        let hooks = self
            .inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let runs = hooks.iter().map(|hook| async move {
            let outcome = match tokio::time::timeout(SCRAPE_TIMEOUT, (hook.run)()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!(
                    "no answer within {} ms",
                    SCRAPE_TIMEOUT.as_millis()
                )),
            };
            if let Err(error) = outcome {
                tracing::debug!(source = hook.source, %error, "metrics skipped");
                self.inner
                    .hook_failures
                    .get_or_create(&SourceLabel {
                        source: hook.source,
                    })
                    .inc();
            }
        });
        futures_util::future::join_all(runs).await;
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_text::encode(&mut text, &self.registry());
        text
    }

    /// `GET /metrics`, for the metrics port.
    pub fn router(&self) -> Router {
        let metrics = self.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
                        metrics.render().await,
                    )
                        .into_response()
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::gauge::Gauge;

    use super::*;

    #[tokio::test]
    async fn a_hook_updates_its_gauge_before_the_text_is_written() {
        let metrics = Metrics::new();
        let gauge = metrics.register("backlog", "Things waiting", Gauge::<i64>::default());
        metrics.on_scrape("backlog", move || {
            let gauge = gauge.clone();
            async move {
                gauge.set(7);
                Ok(())
            }
        });
        let text = metrics.render().await;
        assert!(text.contains("\nbacklog 7\n"), "{text}");
    }

    #[tokio::test]
    async fn a_slow_hook_is_cut_short_and_counted() {
        let metrics = Metrics::new();
        metrics.on_scrape("slow", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        let text = metrics.render().await;
        assert!(
            text.contains("metrics_scrape_failures_total{source=\"slow\"} 1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn two_instances_share_nothing() {
        let (a, b) = (Metrics::new(), Metrics::new());
        let counter = a.register("only_in_a", "A counter", Counter::<u64>::default());
        counter.inc();
        assert!(a.render().await.contains("only_in_a_total 1"));
        assert!(!b.render().await.contains("only_in_a"));
    }
}
