//! The HTTP routes, one module per resource, joined with the health routes and the JSON
//! fallbacks for unknown paths and methods.

pub mod activity;
pub mod stats;
pub mod status;

use axum::Router;
use service_common::Readiness;

use crate::error;
use crate::state::AppState;

/// Every route of the service, state applied.
pub fn router(state: AppState, readiness: Readiness) -> Router {
    Router::new()
        .merge(activity::router())
        .merge(stats::router())
        .merge(status::router())
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .merge(service_common::health::router(readiness))
}
