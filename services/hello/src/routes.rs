//! The routes: `/healthz`, `/readyz`, and every other path and method answered alike.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Router;
use service_common::health::{self, Readiness};

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
pub fn router(answer: Answer, readiness: Readiness) -> Router {
    let routes = match answer {
        // The greeting is built once; each answer shares its bytes (no copy per request).
        Answer::Greeting(text) => {
            let body = Bytes::from(text.to_string());
            Router::new().fallback(move || {
                let body = body.clone();
                async move { ([(CONTENT_TYPE, "text/plain; charset=utf-8")], body) }
            })
        }
        Answer::Upstream(upstream) => Router::new()
            .fallback(answer_from_upstream)
            .with_state(upstream),
    };
    routes.merge(health::router(readiness))
}

async fn answer_from_upstream(State(upstream): State<Upstream>) -> Response {
    match upstream.fetch().await {
        Ok(body) => body.into_response(),
        Err(err) => err.into_response(),
    }
}
