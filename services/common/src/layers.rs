//! The HTTP layers every service wears: request id, request span, timeout, body limit.

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::{BoxError, Router};
use tower::util::MapResponseLayer;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::{ErrorBody, HttpConfig};

/// The request id header: kept when the caller sends one (so one id follows a request
/// through web → catalog), generated otherwise, and returned on the response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The request id of the request being served, for the clients that call other services
    /// on its behalf (see [`current_request_id`]).
    static CURRENT_REQUEST_ID: HeaderValue;
}

/// The request id of the request this task is serving, if any: a service that calls another
/// sends it on, so one id follows a request through web → catalog.
pub fn current_request_id() -> Option<HeaderValue> {
    CURRENT_REQUEST_ID.try_with(HeaderValue::clone).ok()
}

/// Serves the rest of the stack with the request's id readable by [`current_request_id`].
async fn scope_request_id(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match request.headers().get(REQUEST_ID_HEADER).cloned() {
        Some(id) => CURRENT_REQUEST_ID.scope(id, next.run(request)).await,
        None => next.run(request).await,
    }
}

/// Wraps every route of `router` (add all routes first: `Router::layer` applies only to
/// routes that exist) with the shared layers, outermost first:
/// request id (kept for the handlers' own calls to other services) → span and response
/// log → propagate id → wording of the limits' errors → body limit (413) → timeout (408).
pub fn apply(router: Router, config: &HttpConfig) -> Router {
    let limits = Limits {
        error_body: config.error_body,
        body_limit: config.body_limit,
        request_timeout: config.request_timeout,
    };
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(axum::middleware::from_fn(scope_request_id))
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
/// the raw path, so logs group by endpoint and never hold user input from the path.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
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
