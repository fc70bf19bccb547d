//! `/info`: list entries (keyset pagination), read one (through the cache), create or
//! replace one (`PUT`; with `If-None-Match: *` only create, 412 when it exists), delete one.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use service_common::data_service::{Limit, ServerError};
use service_common::layers::current_trace;

use crate::entry::{Description, Entry, Name, Page, BODY_SHAPE};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{self, Written};

/// `?limit=` of `GET /info`: 20 entries when not given, at most 100.
type PageLimit = Limit<20, 100>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/info", get(list))
        .route("/info/{name}", get(read).put(write).delete(remove))
}

/// `?after=` (the limit is [`PageLimit`]'s), read as text so that a bad value gets our own
/// message.
#[derive(Debug, Deserialize)]
struct ListQuery {
    after: Option<String>,
}

/// The body of `PUT /info/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    description: String,
}

fn parse_name(path: Result<Path<String>, PathRejection>) -> Result<Name, ApiError> {
    let Path(raw) = path?;
    Name::parse(&raw).ok_or_else(|| ApiError::BadRequest(Name::RULE.into()))
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::from(body),
    )
        .into_response()
}

fn to_json(entry: &Entry) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(entry).map_err(|e| ServerError::Internal(e.into()).into())
}

async fn list(
    State(state): State<AppState>,
    Limit(limit): PageLimit,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(query) = query?;
    let after = match query.after.as_deref() {
        None => None,
        Some(raw) => Some(Name::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(format!("after must be an entry name: {}", Name::RULE))
        })?),
    };
    let (items, more) = store::list(&state.pool, after.as_ref(), limit).await?;
    let next = more.then(|| items.last().map(|e| e.name.clone())).flatten();
    Ok(Json(Page { items, next }))
}

async fn read(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let name = parse_name(path)?;
    if let Some(json) = state.cache.get(&name).await {
        return Ok(json_response(StatusCode::OK, json));
    }
    let entry = store::get(&state.pool, &name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no entry named {}", name.as_str())))?;
    let json = to_json(&entry)?;
    state.cache.put(&name, &json).await;
    Ok(json_response(StatusCode::OK, json))
}

/// `If-None-Match: *`: the client wants the entry created, never replaced (RFC 9110 13.1.2).
fn create_only(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|value| value.to_str().is_ok_and(|v| v.trim() == "*"))
}

async fn write(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> Result<Response, ApiError> {
    let name = parse_name(path)?;
    // Read as an object first: serde would otherwise also accept `["text"]` for the struct.
    let Json(object) = body?;
    let body: PutBody = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| ApiError::Unprocessable(format!("{BODY_SHAPE}: {e}")))?;
    let description =
        Description::parse(body.description).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    // The change's event is recorded in the request's trace, which activity continues.
    let trace = current_trace();
    let (entry, written) = if create_only(&headers) {
        let entry = store::create(&state.pool, &name, &description, trace)
            .await?
            .ok_or_else(|| {
                ApiError::PreconditionFailed(format!(
                    "an entry named {} already exists",
                    name.as_str()
                ))
            })?;
        (entry, Written::Created)
    } else {
        store::put(&state.pool, &name, &description, trace).await?
    };
    state.cache.invalidate(&name).await;
    state.outbox.wake();
    let json = to_json(&entry)?;
    Ok(match written {
        Written::Created => {
            let location = format!("/info/{}", name.as_str());
            let mut response = json_response(StatusCode::CREATED, json);
            if let Ok(value) = location.parse() {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Written::Replaced => json_response(StatusCode::OK, json),
    })
}

async fn remove(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let name = parse_name(path)?;
    if !store::delete(&state.pool, &name, current_trace()).await? {
        return Err(ApiError::NotFound(format!(
            "no entry named {}",
            name.as_str()
        )));
    }
    state.cache.invalidate(&name).await;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}
