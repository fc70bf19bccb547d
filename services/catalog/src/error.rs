//! The one error type of the HTTP API. Every error answers `{"error": "..."}` with its status;
//! client errors say what was wrong, anything unexpected becomes an opaque 500 whose cause is
//! logged once and never sent (no database error text reaches a client). The store's errors
//! become 503 or 500 here, by the shared rule for an unavailable database ([`ServerError`]).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_common::data_service::{error_response, ServerError};

use crate::entry::BODY_SHAPE;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed request (bad path, query, or JSON syntax).
    #[error("{0}")]
    BadRequest(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413.
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    /// 412: a conditional request whose condition does not hold (`If-None-Match: *` on an
    /// entry that exists).
    #[error("{0}")]
    PreconditionFailed(String),
    /// 415.
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,
    /// 422: well-formed JSON whose values break a rule.
    #[error("{0}")]
    Unprocessable(String),
    /// 503 (the database cannot be reached) or 500 (anything else; logged, not sent).
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
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

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::JsonDataError(err) => {
                Self::Unprocessable(format!("{BODY_SHAPE}: {}", inner_text(&err)))
            }
            JsonRejection::JsonSyntaxError(err) => {
                Self::BadRequest(format!("the body is not valid JSON: {}", inner_text(&err)))
            }
            JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            other => Self::BadRequest(format!("cannot read the body: {}", other.body_text())),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(format!("invalid path: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query: {}", rejection.body_text()))
    }
}

/// The serde message under an axum rejection ("expected `,` or `}` at line 1 column 9"),
/// without axum's own prefix.
fn inner_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// The fallback for unknown paths.
pub async fn no_such_route() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// The fallback for known paths with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
