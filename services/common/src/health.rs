//! `GET /healthz` (the process answers) and `GET /readyz` (what it depends on answers).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// The state of one dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "lowercase")]
pub enum Status {
    /// Reachable.
    Ok,
    /// Unreachable, but the service still does its job without it (e.g. a cache):
    /// `/readyz` stays 200 and says so.
    Degraded(String),
    /// Unreachable and needed: `/readyz` answers 503.
    Down(String),
}

/// One named dependency and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    #[serde(flatten)]
    pub status: Status,
}

impl Check {
    /// A check from a probe result: `Ok` or the error text as `Down`.
    pub fn required<E: std::fmt::Display>(name: &'static str, result: Result<(), E>) -> Self {
        let status = match result {
            Ok(()) => Status::Ok,
            Err(err) => Status::Down(err.to_string()),
        };
        Self { name, status }
    }

    /// A check from a probe result: `Ok` or the error text as `Degraded`.
    pub fn optional<E: std::fmt::Display>(name: &'static str, result: Result<(), E>) -> Self {
        let status = match result {
            Ok(()) => Status::Ok,
            Err(err) => Status::Degraded(err.to_string()),
        };
        Self { name, status }
    }
}

type ProbeFuture = Pin<Box<dyn Future<Output = Vec<Check>> + Send>>;

/// What `/readyz` asks: a function that probes each dependency.
#[derive(Clone)]
pub struct Readiness {
    probe: Arc<dyn Fn() -> ProbeFuture + Send + Sync>,
    served: Option<Metrics>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness").finish_non_exhaustive()
    }
}

impl Readiness {
    /// Ready as soon as the process serves: for services without dependencies.
    pub fn always() -> Self {
        Self::new(|| async { Vec::new() })
    }

    /// Ready when no check returned by `probe` is `Down`.
    pub fn new<F, Fut>(probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Check>> + Send + 'static,
    {
        Self {
            probe: Arc::new(move || Box::pin(probe())),
            served: None,
        }
    }

    /// Also reports how many requests `metrics`' service has answered, and which running
    /// instance answers: web's cluster page turns two reports into a request rate.
    pub fn counting(self, metrics: &Metrics) -> Self {
        Self {
            served: Some(metrics.clone()),
            ..self
        }
    }

    /// Runs every probe.
    pub async fn check(&self) -> Report {
        let checks = (self.probe)().await;
        let ready = checks.iter().all(|c| !matches!(c.status, Status::Down(_)));
        let served = self.served.as_ref().map(|metrics| Served {
            instance: metrics.instance().to_owned(),
            requests: metrics.served(),
        });
        Report {
            ready,
            checks,
            served,
        }
    }
}

/// What a service has answered since it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Served {
    /// Random per running service: a count from another instance is not comparable.
    pub instance: String,
    pub requests: u64,
}

/// The body of `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ready: bool,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served: Option<Served>,
}

impl IntoResponse for Report {
    fn into_response(self) -> Response {
        let status = if self.ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self)).into_response()
    }
}

/// The two routes, to `merge` into a service's router.
pub fn router<S>(readiness: Readiness) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let readiness = readiness.clone();
                async move { readiness.check().await }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(router: Router, path: &str) -> (StatusCode, String) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn healthz_answers_ok_whatever_the_dependencies() {
        let down =
            Readiness::new(|| async { vec![Check::required("postgres", Err::<(), _>("refused"))] });
        let (status, body) = get(router(down), "/healthz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    }

    #[tokio::test]
    async fn readyz_is_503_when_a_required_dependency_is_down() {
        let down = Readiness::new(|| async {
            vec![
                Check::required("postgres", Err::<(), _>("connection refused")),
                Check::optional("redis", Ok::<(), String>(())),
            ]
        });
        let (status, body) = get(router(down), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["ready"], false);
        assert_eq!(json["checks"][0]["name"], "postgres");
        assert_eq!(json["checks"][0]["status"], "down");
        assert_eq!(json["checks"][0]["detail"], "connection refused");
        assert_eq!(json["checks"][1]["status"], "ok");
    }

    #[tokio::test]
    async fn readyz_stays_200_when_only_an_optional_dependency_is_degraded() {
        let degraded =
            Readiness::new(|| async { vec![Check::optional("redis", Err::<(), _>("timed out"))] });
        let (status, body) = get(router(degraded), "/readyz").await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["ready"], true);
        assert_eq!(json["checks"][0]["status"], "degraded");
        assert_eq!(json["checks"][0]["detail"], "timed out");
    }

    #[tokio::test]
    async fn readyz_without_dependencies_is_ready() {
        let (status, body) = get(router(Readiness::always()), "/readyz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"ready":true,"checks":[]}"#);
    }
}
