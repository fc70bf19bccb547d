//! The HTTP layers every service wears: request metrics, request id, trace context, request
//! span, timeout, body limit.

use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::{BoxError, Router};
use tokio::task::futures::TaskLocalFuture;
use tower::util::MapResponseLayer;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::{ErrorBody, HttpConfig};
use crate::metrics::requests::{RecordLayer, RequestMetrics};
use crate::metrics::Metrics;
use crate::trace::TraceContext;

/// The request id header: kept when the caller sends one (so one id follows a request
/// through web → catalog), generated otherwise, and returned on the response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// What the clients that call other services on behalf of the request being served send
    /// on (see [`current_request_id`] and [`current_trace`]).
    static CURRENT: RequestContext;
}

/// The request id and trace of the request a task is serving.
#[derive(Debug, Clone)]
struct RequestContext {
    request_id: Option<HeaderValue>,
    trace: TraceContext,
}

/// The request id of the request this task is serving, if any: a service that calls another
/// sends it on, so one id follows a request through web → catalog.
pub fn current_request_id() -> Option<HeaderValue> {
    CURRENT
        .try_with(|context| context.request_id.clone())
        .ok()
        .flatten()
}

/// The trace of the request this task is serving: a call made on its behalf names it as
/// the parent (`traceparent`), and catalog stores it with the change's outbox event.
pub fn current_trace() -> Option<TraceContext> {
    CURRENT.try_with(|context| context.trace).ok()
}

/// Serves the rest of the stack with the request's id and trace readable by
/// [`current_request_id`] and [`current_trace`], and the trace in the request's extensions
/// for its span. The trace continues a valid incoming `traceparent` or starts a new one.
/// Written as a tower layer rather than `axum::middleware::from_fn`, which clones the rest
/// of the stack and boxes two futures for every request.
#[derive(Debug, Clone, Copy)]
struct ScopeRequestLayer;

impl<S> Layer<S> for ScopeRequestLayer {
    type Service = ScopeRequest<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ScopeRequest(inner)
    }
}

#[derive(Debug, Clone)]
struct ScopeRequest<S>(S);

impl<S, B> Service<Request<B>> for ScopeRequest<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<RequestContext, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let trace = TraceContext::continue_or_start(request.headers());
        request.extensions_mut().insert(trace);
        let context = RequestContext {
            request_id: request.headers().get(REQUEST_ID_HEADER).cloned(),
            trace,
        };
        // The handler runs when the future is polled, inside the scope.
        CURRENT.scope(context, self.0.call(request))
    }
}

/// Wraps every route of `router` (add all routes first: `Router::layer` applies only to
/// routes that exist) with the shared layers, outermost first:
/// request metrics (registered in `metrics`, unless `config.request_metrics` is off; outside
/// the others so they count the 408 and 413 answers) → request id → request id and trace
/// kept for the handlers' own calls to other services → span and response log → propagate id → wording of the
/// limits' errors → body limit (413) → timeout (408).
pub fn apply(router: Router, config: &HttpConfig, metrics: &Metrics) -> Router {
    let limits = Limits {
        error_body: config.error_body,
        body_limit: config.body_limit,
        request_timeout: config.request_timeout,
    };
    let record = config
        .request_metrics
        .then(|| RecordLayer::new(RequestMetrics::register(metrics)));
    let layers = ServiceBuilder::new()
        .option_layer(record)
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(ScopeRequestLayer)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(MapResponseLayer::new(move |response| limits.word(response)))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        // axum's extractors have their own 2 MB default; make them agree with the layer.
        .layer(DefaultBodyLimit::max(config.body_limit));
    router.layer(layers)
}

/// The span of one request. It records the matched route template (`/info/{name}`), not
/// the raw path, so logs group by endpoint and never hold user input from the path; and
/// the trace id, so every line of one "add entry" in every service can be found by it.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let trace_id = request
        .extensions()
        .get::<TraceContext>()
        .map(|trace| tracing::field::display(trace.trace_id()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(fallback)", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        trace_id,
    )
}

/// The limits the shared layers enforce, and how their errors are worded.
#[derive(Debug, Clone, Copy)]
struct Limits {
    error_body: ErrorBody,
    body_limit: usize,
    request_timeout: Duration,
}

impl Limits {
    /// Gives a 413 or 408 that is not already JSON a body that says which limit was passed:
    /// the layers' own answers are empty (408) or a bare "length limit exceeded" (413). A
    /// JSON answer a handler wrote itself is kept.
    fn word<B>(self, response: Response<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let message = match response.status() {
            StatusCode::PAYLOAD_TOO_LARGE => format!(
                "the request body is larger than the limit of {} bytes",
                self.body_limit
            ),
            StatusCode::REQUEST_TIMEOUT => format!(
                "the request took longer than the limit of {} ms",
                self.request_timeout.as_millis()
            ),
            _ => return response.map(Body::new),
        };
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return response.map(Body::new);
        }
        let (mut parts, _body) = response.into_parts();
        let (content_type, body) = match self.error_body {
            ErrorBody::Json => (
                "application/json",
                serde_json::json!({ "error": message }).to_string(),
            ),
            ErrorBody::Text => ("text/plain; charset=utf-8", message),
        };
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, Body::from(body))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// What the request metrics add to the shared layers, per request, with no network and
    /// no other load in between: the figure bench/catalog.sh --metrics-cost cannot isolate on
    /// a busy machine. Run with
    /// `cargo test --release -p service-common layers::tests::request_metrics_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check: run it in release"]
    fn request_metrics_cost() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let router = |request_metrics| {
            let config = HttpConfig {
                request_metrics,
                ..HttpConfig::for_tests()
            };
            let routes = Router::new().route("/info/{name}", get(|| async { "entry" }));
            apply(routes, &config, &Metrics::new())
        };
        let (on, off) = (router(true), router(false));
        let per_request = |router: &Router, count: u32| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..count {
                    let request = Request::get("/info/bench").body(Body::empty()).unwrap();
                    let response = router.clone().oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
                start.elapsed().as_nanos() as f64 / f64::from(count)
            })
        };
        per_request(&on, 10_000);
        per_request(&off, 10_000);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            with.push(per_request(&on, 100_000));
            without.push(per_request(&off, 100_000));
        }
        with.sort_by(f64::total_cmp);
        without.sort_by(f64::total_cmp);
        let (with, without) = (with[3], without[3]);
        println!(
            "shared layers per request (median of 7 x 100,000): with request metrics {with:.0} ns, \
             without {without:.0} ns: the request metrics add {:.0} ns",
            with - without
        );
    }
}
