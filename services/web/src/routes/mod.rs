//! The routes: the main page, the entry forms, the health routes.

pub mod cluster;
pub mod entries;
pub mod home;

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use service_common::{health, Readiness};

use crate::pages;
use crate::state::AppState;

/// Every route, state applied.
pub fn router(state: AppState, readiness: Readiness) -> Router {
    Router::new()
        .merge(home::router())
        .merge(entries::router())
        .merge(cluster::router())
        .fallback(not_found)
        .with_state(state)
        .merge(health::router(readiness))
}

async fn not_found() -> Response {
    pages::error(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    )
}
