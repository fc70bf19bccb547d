//! `GET /stats`: how many events of each kind were stored.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{self, Stats};

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(stats))
}

async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(store::stats(&state.pool).await?))
}
