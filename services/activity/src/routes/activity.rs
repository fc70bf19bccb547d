//! `GET /activity?limit=N`: the newest events, newest first.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::event::Event;
use crate::state::AppState;
use crate::store;

/// Events returned when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest `limit` accepted.
pub const MAX_LIMIT: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/activity", get(feed))
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
struct Feed {
    items: Vec<Event>,
}

fn parse_limit(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(ApiError::BadRequest(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}"
        ))),
    }
}

async fn feed(
    State(state): State<AppState>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Json<Feed>, ApiError> {
    let Query(query) = query?;
    let limit = parse_limit(query.limit.as_deref())?;
    let items = store::recent(&state.pool, limit).await?;
    Ok(Json(Feed { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_the_maximum_are_refused() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "x", "", "2.0"] {
            assert!(parse_limit(Some(bad)).is_err(), "case {bad:?}");
        }
    }
}
