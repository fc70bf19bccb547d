//! The one error type of the HTTP API: `{"error": "..."}` with its status; database errors
//! are logged, never sent.

use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed query.
    #[error("{0}")]
    BadRequest(String),
    /// 404.
    #[error("no such route")]
    NotFound,
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503: the database cannot be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    /// 500: anything else; the cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            _ => {}
        }
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let unavailable = match &err {
            StoreError::Pool(pool) => service_common::postgres::is_unavailable(pool),
            StoreError::Postgres(pg) => pg.is_closed(),
        };
        if unavailable {
            Self::Unavailable(err)
        } else {
            Self::Internal(err)
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query: {}", rejection.body_text()))
    }
}

/// The fallback for unknown paths.
pub async fn no_such_route() -> ApiError {
    ApiError::NotFound
}

/// The fallback for known paths with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
