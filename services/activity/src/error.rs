//! The one error type of the HTTP API: `{"error": "..."}` with its status; database errors
//! are logged, never sent. The store's errors become 503 or 500 here, by the shared rule for
//! an unavailable database ([`ServerError`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_common::data_service::{error_response, ServerError};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404.
    #[error("no such route")]
    NotFound,
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503 (the database cannot be reached) or 500 (anything else; logged, not sent).
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Server(err) => err.status(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Server(err) => err.into_response(),
            other => error_response(other.status(), &other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::Server(ServerError::from_store(err))
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
