//! The entry forms: add (`POST /entries`), edit (`GET /entries/{name}/edit`,
//! `POST /entries/{name}`), delete (`POST /entries/{name}/delete`). Each POST checks the CSRF
//! token first, then asks catalog; on success it redirects (post/redirect/get), on failure it
//! shows the form again with what was typed and why it was refused.

use axum::extract::rejection::{PathRejection, RawFormRejection};
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::backends::BackendError;
use crate::csrf;
use crate::pages::{self, EditPage, Failure};
use crate::routes::home::IndexContent;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/entries", post(add))
        .route("/entries/{name}", post(save))
        .route("/entries/{name}/edit", get(edit))
        .route("/entries/{name}/delete", post(delete))
}

/// Every field optional, so a tampered form gets our message rather than a bare 422.
#[derive(Debug, Deserialize)]
struct EntryForm {
    csrf_token: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

/// The form, or the page saying it could not be read, after the CSRF check.
fn checked_form(
    headers: &HeaderMap,
    form: Result<RawForm, RawFormRejection>,
) -> Result<EntryForm, Failure> {
    let unreadable = |why: String| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            format!("The form could not be read: {why}"),
        )
    };
    let RawForm(body) = form.map_err(|rejection| unreadable(rejection.body_text()))?;
    strict_utf8(&body).map_err(unreadable)?;
    let form: EntryForm =
        serde_urlencoded::from_bytes(&body).map_err(|err| unreadable(err.to_string()))?;
    csrf::verify(headers, form.csrf_token.as_deref()).map_err(|err| {
        tracing::warn!(error = %err, "form refused by the CSRF check");
        Failure::new(
            StatusCode::FORBIDDEN,
            "Refused",
            format!("Refused: {err}. Reload the page and send the form again."),
        )
    })?;
    Ok(form)
}

/// Refuses a form whose names or values, once percent-decoded, are not UTF-8.
fn strict_utf8(body: &[u8]) -> Result<(), String> {
    for part in body.split(|&b| b == b'&' || b == b'=') {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err("a field is not valid UTF-8".into());
        }
    }
    Ok(())
}

/// Names that cannot be an entry's: they vanish or change meaning in catalog's URL
/// (`.` and `..` are dot segments).
fn unusable_name(name: &str) -> bool {
    matches!(name.trim(), "" | "." | "..")
}

fn path_name(path: Result<Path<String>, PathRejection>) -> Result<String, Failure> {
    let name = path.map(|Path(name)| name).map_err(|rejection| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            rejection.body_text(),
        )
    })?;
    if unusable_name(&name) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "An entry name cannot be empty, `.` or `..`.".to_owned(),
        ));
    }
    Ok(name)
}

/// Browsers send text areas with CRLF line breaks; the catalog stores LF.
fn normalize(description: Option<String>) -> String {
    description.unwrap_or_default().replace("\r\n", "\n")
}

/// `/?key=name`, the name percent-encoded.
fn redirect_with(key: &str, name: &str) -> Response {
    let mut url = reqwest::Url::parse("http://web/").expect("a constant URL parses");
    url.query_pairs_mut().append_pair(key, name);
    let target = format!("/?{}", url.query().unwrap_or_default());
    Redirect::to(&target).into_response()
}

/// The status a page shows a backend failure with.
fn status_of(err: &BackendError) -> StatusCode {
    match err {
        BackendError::Refused { status, .. } if *status == StatusCode::NOT_FOUND => {
            StatusCode::NOT_FOUND
        }
        BackendError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<RawForm, RawFormRejection>,
) -> Response {
    let form = match checked_form(&headers, form) {
        Ok(form) => form,
        Err(failure) => return failure.into_response(),
    };
    let name = form.name.unwrap_or_default().trim().to_owned();
    let description = normalize(form.description);
    // Adding must never replace an entry, also when two people add one name at once: the
    // catalog creates only if absent, in one step.
    let outcome = if unusable_name(&name) {
        Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "An entry needs a name, and it cannot be `.` or `..`.".to_owned(),
        ))
    } else {
        match state.catalog.create(&name, &description).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err((
                StatusCode::CONFLICT,
                format!("An entry named {name} already exists: use Edit to change it."),
            )),
            Err(e) => Err((status_of(&e), e.to_string())),
        }
    };
    match outcome {
        Ok(()) => redirect_with("added", &name),
        Err((status, message)) => {
            let token = csrf::token_from_cookie(&headers).unwrap_or_default();
            let page = IndexContent {
                error: Some(message),
                form_name: name,
                form_description: description,
                ..IndexContent::default()
            }
            .gather(&state, token)
            .await;
            pages::render(status, &page, None)
        }
    }
}

async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let name = match path_name(path) {
        Ok(name) => name,
        Err(failure) => return failure.into_response(),
    };
    let (token, cookie) = csrf::token_for_page(&headers);
    match state.catalog.get(&name).await {
        Ok(Some(entry)) => pages::render(
            StatusCode::OK,
            &EditPage {
                csrf: token,
                name: entry.name,
                description: entry.description,
                error: None,
            },
            cookie,
        ),
        Ok(None) => pages::error(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no entry named {name}."),
        ),
        Err(err) => pages::error(status_of(&err), "Cannot edit", err.to_string()),
    }
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<RawForm, RawFormRejection>,
) -> Response {
    let name = match path_name(path) {
        Ok(name) => name,
        Err(failure) => return failure.into_response(),
    };
    let form = match checked_form(&headers, form) {
        Ok(form) => form,
        Err(failure) => return failure.into_response(),
    };
    let description = normalize(form.description);
    match state.catalog.put(&name, &description).await {
        Ok(_) => redirect_with("saved", &name),
        Err(err) => pages::render(
            status_of(&err),
            &EditPage {
                csrf: csrf::token_from_cookie(&headers).unwrap_or_default(),
                name,
                description,
                error: Some(err.to_string()),
            },
            None,
        ),
    }
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<RawForm, RawFormRejection>,
) -> Response {
    let name = match path_name(path) {
        Ok(name) => name,
        Err(failure) => return failure.into_response(),
    };
    if let Err(failure) = checked_form(&headers, form) {
        return failure.into_response();
    }
    let (status, message) = match state.catalog.delete(&name).await {
        Ok(true) => return redirect_with("deleted", &name),
        Ok(false) => (
            StatusCode::NOT_FOUND,
            format!("There is no entry named {name}; it may have been deleted already."),
        ),
        Err(err) => (status_of(&err), err.to_string()),
    };
    let token = csrf::token_from_cookie(&headers).unwrap_or_default();
    let page = IndexContent {
        error: Some(message),
        ..IndexContent::default()
    }
    .gather(&state, token)
    .await;
    pages::render(status, &page, None)
}
