//! The entry forms: add (`POST /entries`), edit (`GET /entries/{name}/edit`,
//! `POST /entries/{name}`), delete (`POST /entries/{name}/delete`). Each POST takes its form
//! through [`CsrfForm`], so the CSRF token is checked first; then it asks catalog; on success it redirects (post/redirect/get), on failure it
//! shows the form again with what was typed and why it was refused.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::csrf::{self, CsrfForm};
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
    name: Option<String>,
    description: Option<String>,
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

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<EntryForm>,
) -> Response {
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
            Err(e) => Err((e.status(), e.to_string())),
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
) -> Result<Response, Failure> {
    let name = path_name(path)?;
    let (token, cookie) = csrf::token_for_page(&headers);
    let entry = state.catalog.get(&name).await?.ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no entry named {name}."),
        )
    })?;
    Ok(pages::render(
        StatusCode::OK,
        &EditPage {
            csrf: token,
            name: entry.name,
            description: entry.description,
            error: None,
        },
        cookie,
    ))
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    CsrfForm(form): CsrfForm<EntryForm>,
) -> Result<Response, Failure> {
    let name = path_name(path)?;
    let description = normalize(form.description);
    Ok(match state.catalog.put(&name, &description).await {
        Ok(_) => redirect_with("saved", &name),
        Err(err) => pages::render(
            err.status(),
            &EditPage {
                csrf: csrf::token_from_cookie(&headers).unwrap_or_default(),
                name,
                description,
                error: Some(err.to_string()),
            },
            None,
        ),
    })
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    // The form has nothing but the token.
    _: CsrfForm<IgnoredAny>,
) -> Result<Response, Failure> {
    let name = path_name(path)?;
    let (status, message) = match state.catalog.delete(&name).await {
        Ok(true) => return Ok(redirect_with("deleted", &name)),
        Ok(false) => (
            StatusCode::NOT_FOUND,
            format!("There is no entry named {name}; it may have been deleted already."),
        ),
        Err(err) => (err.status(), err.to_string()),
    };
    let token = csrf::token_from_cookie(&headers).unwrap_or_default();
    let page = IndexContent {
        error: Some(message),
        ..IndexContent::default()
    }
    .gather(&state, token)
    .await;
    Ok(pages::render(status, &page, None))
}
