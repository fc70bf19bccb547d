//! `GET /`: the main page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::backends::cluster;
use crate::csrf;
use crate::pages::{self, IndexPage};
use crate::state::AppState;

/// Entries per page.
pub const PAGE_SIZE: u32 = 20;
/// Events shown in the feed.
pub const FEED_SIZE: u32 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// `?after=` pages through the entries; the others are the notices the forms redirect with.
#[derive(Debug, Default, Deserialize)]
struct HomeQuery {
    after: Option<String>,
    added: Option<String>,
    saved: Option<String>,
    deleted: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HomeQuery>, QueryRejection>,
) -> Response {
    // A mangled query string shows the first page rather than an error.
    let query = query.map(|q| q.0).unwrap_or_default();
    let (token, cookie) = csrf::token_for_page(&headers);
    let notice = match (&query.added, &query.saved, &query.deleted) {
        (Some(name), _, _) => Some(format!("Added {name}.")),
        (_, Some(name), _) => Some(format!("Saved {name}.")),
        (_, _, Some(name)) => Some(format!("Deleted {name}.")),
        _ => None,
    };
    let page = IndexContent {
        after: query.after.filter(|a| !a.is_empty()),
        notice,
        ..IndexContent::default()
    }
    .gather(&state, token)
    .await;
    pages::render(StatusCode::OK, &page, cookie)
}

/// What the main page shows besides the backends' data.
#[derive(Debug, Default)]
pub struct IndexContent {
    pub after: Option<String>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub form_name: String,
    pub form_description: String,
}

impl IndexContent {
    /// Asks every backend at once, each bounded by the backend timeout, and fills the page.
    pub async fn gather(self, state: &AppState, csrf: String) -> IndexPage {
        let (visits, entries, feed, stats, hello, echo) = tokio::join!(
            state.visits.count(),
            state.catalog.list(PAGE_SIZE, self.after.as_deref()),
            state.activity.feed(FEED_SIZE),
            state.activity.stats(),
            cluster::hello(&state.hello),
            cluster::echo(&state.echo),
        );
        IndexPage {
            csrf,
            notice: self.notice,
            error: self.error,
            visits: visits.map_err(|e| e.to_string()),
            entries: entries.map_err(|e| e.to_string()),
            after: self.after,
            form_name: self.form_name,
            form_description: self.form_description,
            feed: feed.map_err(|e| e.to_string()),
            stats: stats.map_err(|e| e.to_string()),
            hello: hello.map_err(|e| e.to_string()),
            echo: echo.map_err(|e| e.to_string()),
        }
    }
}
