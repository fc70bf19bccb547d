//! `GET /activity?limit=N`: the newest events, newest first, each with its trace id.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use service_common::data_service::Limit;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// `?limit=`: 20 events when not given, at most 100.
type FeedLimit = Limit<20, 100>;

pub fn router() -> Router<AppState> {
    Router::new().route("/activity", get(feed))
}

#[derive(Debug, Serialize)]
struct Feed {
    items: Vec<store::Stored>,
}

async fn feed(
    State(state): State<AppState>,
    Limit(limit): FeedLimit,
) -> Result<Json<Feed>, ApiError> {
    let items = store::recent(&state.pool, limit).await?;
    Ok(Json(Feed { items }))
}
