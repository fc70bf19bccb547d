//! The routes: `/healthz`, `/readyz`, and every other path and method answered alike.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Router;
use service_common::health::{self, Readiness};
use service_common::layers::REQUEST_ID_HEADER;

use crate::upstream::Upstream;

/// What every request is answered with.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The greeting read at start.
    Greeting(Arc<str>),
    /// The upstream's body, fetched per request.
    Upstream(Upstream),
}

/// The whole router. `/readyz` does not probe the upstream: a slow upstream must not take
/// this service out of its load balancer, the 502 already tells the caller.
pub fn router(answer: Answer) -> Router {
    Router::new()
        .fallback(answer_any)
        .with_state(answer)
        .merge(health::router(Readiness::always()))
}

async fn answer_any(State(answer): State<Answer>, headers: HeaderMap) -> Response {
    match answer {
        Answer::Greeting(text) => text.to_string().into_response(),
        Answer::Upstream(upstream) => match upstream.fetch(headers.get(REQUEST_ID_HEADER)).await {
            Ok(body) => body.into_response(),
            Err(err) => err.into_response(),
        },
    }
}
