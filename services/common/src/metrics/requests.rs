//! The request metrics every service's router wears: requests by route template, method and
//! status, a latency histogram by route template and method, and the requests in flight.
//!
//! Labels never hold what a client wrote: the route is axum's matched template
//! (`/info/{name}`), or `unmatched` for the fallback (hello and echo answer every path there);
//! the method is one of the standard ones or `other`; the status is a number. The number of
//! series is therefore bounded by the routes the service declares.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, Response};
use pin_project_lite::pin_project;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use tower::{Layer, Service};

use super::Metrics;

/// The route label of a request no declared route matched.
pub const UNMATCHED: &str = "unmatched";

/// Latency bucket bounds in seconds: from a cache hit (well under a millisecond) to the
/// default request timeout (10 s).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LatencyLabels {
    route: String,
    method: &'static str,
}

type LatencyFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

/// The request metrics of one service; cloned into the middleware.
#[derive(Clone)]
pub struct RequestMetrics {
    service: Metrics,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Gauge,
}

impl RequestMetrics {
    /// Registers `http_requests_total`, `http_request_duration_seconds` and
    /// `http_requests_in_flight` in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        Self {
            service: metrics.clone(),
            requests: metrics.register(
                "http_requests",
                "HTTP requests answered, by route template, method and status",
                Family::default(),
            ),
            latency: metrics.register(
                "http_request_duration_seconds",
                "Time to answer an HTTP request (to the response head), by route template and method",
                LatencyFamily::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            ),
            in_flight: metrics.register(
                "http_requests_in_flight",
                "HTTP requests being served",
                Gauge::default(),
            ),
        }
    }
}

/// The tower layer that records every request in a [`RequestMetrics`]. A hand-written
/// service rather than `axum::middleware::from_fn`: that one boxes each request's future and
/// clones the whole inner stack per request, which showed in catalog's cached GET benchmark.
#[derive(Clone)]
pub struct RecordLayer {
    metrics: RequestMetrics,
}

impl RecordLayer {
    pub fn new(metrics: RequestMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Record {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`RecordLayer`].
#[derive(Clone)]
pub struct Record<S> {
    inner: S,
    metrics: RequestMetrics,
}

impl<S, B, ResBody> Service<Request<B>> for Record<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str)
            .to_owned();
        let method = method_label(request.method());
        self.metrics.in_flight.inc();
        let pending = Pending {
            metrics: self.metrics.clone(),
            labels: LatencyLabels { route, method },
            start: Instant::now(),
        };
        Recorded {
            inner: self.inner.call(request),
            pending: Some(pending),
        }
    }
}

pin_project! {
    /// The future of one request: records it when the inner service answers.
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, ResBody, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = ready!(this.inner.poll(cx));
        if let (Some(pending), Ok(response)) = (this.pending.take(), &outcome) {
            pending.answered(response.status().as_u16());
        }
        Poll::Ready(outcome)
    }
}

/// One request being served: counted in flight until answered or dropped (a client that went
/// away drops its request's future mid-way).
struct Pending {
    metrics: RequestMetrics,
    labels: LatencyLabels,
    start: Instant,
}

impl Pending {
    fn answered(self, status: u16) {
        let metrics = &self.metrics;
        metrics.service.count_served();
        metrics
            .latency
            .get_or_create(&self.labels)
            .observe(self.start.elapsed().as_secs_f64());
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: self.labels.route.clone(),
                method: self.labels.method,
                status,
            })
            .inc();
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
    }
}

/// The standard methods by name; anything else (an extension method a client made up) is
/// `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    fn app(metrics: &Metrics) -> Router {
        let state = RequestMetrics::register(metrics);
        Router::new()
            .route("/info/{name}", get(|| async { "entry" }))
            .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "none") })
            .layer(RecordLayer::new(state))
    }

    async fn send(router: &Router, method: &str, path: &str) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        router.clone().oneshot(request).await.unwrap();
    }

    #[tokio::test]
    async fn requests_are_counted_by_template_method_and_status() {
        let metrics = Metrics::new();
        let router = app(&metrics);
        send(&router, "GET", "/info/a").await;
        send(&router, "GET", "/info/b").await;
        send(&router, "POST", "/info/a").await;
        send(&router, "BREW", "/pot/secret-name").await;
        let text = metrics.render().await;
        for line in [
            r#"http_requests_total{route="/info/{name}",method="GET",status="200"} 2"#,
            r#"http_requests_total{route="/info/{name}",method="POST",status="405"} 1"#,
            r#"http_requests_total{route="unmatched",method="other",status="404"} 1"#,
            r#"http_request_duration_seconds_count{route="/info/{name}",method="GET"} 2"#,
            "http_requests_in_flight 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(
            !text.contains("secret-name") && !text.contains("BREW"),
            "{text}"
        );
    }
}
