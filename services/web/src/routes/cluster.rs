//! `GET /cluster`: the running cluster for a learner. Each service's readiness and request
//! rate, each database's migrations (as the service that owns it reports them), the outbox
//! backlog and the consumer lag, the echo replicas that answered the last calls.
//! `GET /cluster/panel` is the same figures alone, which the page's script fetches every
//! [`REFRESH_MS`]; without JavaScript the page reloads itself instead.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::future::join_all;

use crate::backends::health::{self, CheckView, ReadyReport};
use crate::backends::{cluster, BackendError};
use crate::pages::{self, ClusterPage, ClusterPanel, DatabaseRow, ServiceRow};
use crate::state::AppState;

/// How often the page's script fetches the panel.
pub const REFRESH_MS: u32 = 2000;
/// How often the page reloads itself without JavaScript.
pub const RELOAD_SECS: u32 = 5;
/// Calls to echo per view: each on a new connection, so the replicas behind the name share
/// them as they would share clients.
pub const ECHO_CALLS: usize = 6;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cluster", get(page))
        .route("/cluster/panel", get(panel))
}

async fn page(State(state): State<AppState>) -> Response {
    let page = ClusterPage {
        panel: gather(&state).await,
        refresh_ms: REFRESH_MS,
        reload_secs: RELOAD_SECS,
    };
    pages::render(StatusCode::OK, &page, None)
}

async fn panel(State(state): State<AppState>) -> Response {
    let mut response = pages::render(StatusCode::OK, &gather(&state).await, None);
    // Always the figures of now: no cache between the script and web may keep one.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Asks every service at once, each bounded by the backend timeout.
pub async fn gather(state: &AppState) -> ClusterPanel {
    let (web, catalog, activity, hello, echo, catalog_status, activity_status, echo_answers) = tokio::join!(
        state.readiness.check(),
        health::readiness(state.catalog.backend()),
        health::readiness(state.activity.backend()),
        health::readiness(&state.hello),
        health::readiness(&state.echo),
        health::status(state.catalog.backend()),
        health::status(state.activity.backend()),
        join_all((0..ECHO_CALLS).map(|_| cluster::echo(&state.echo))),
    );
    let now = Instant::now();
    let web = ReadyReport {
        ready: web.ready,
        checks: web.checks.iter().map(CheckView::from).collect(),
        served: web.served,
    };
    let rows = [
        ("web", "pages", Ok(web)),
        ("catalog", "entries API", catalog),
        ("activity", "event feed", activity),
        ("hello", "hello chain", hello),
        ("echo", "echo replicas", echo),
    ];
    let services = rows
        .into_iter()
        .map(|(name, role, report)| service_row(state, name, role, report, now))
        .collect();

    let answered: Vec<String> = echo_answers.into_iter().filter_map(Result::ok).collect();
    let echo_ok = answered.len();
    let replicas = state.cluster.echo_answered(answered);
    let (catalog_status, activity_status) = (
        catalog_status.map_err(|e| e.to_string()),
        activity_status.map_err(|e| e.to_string()),
    );
    ClusterPanel {
        services,
        databases: vec![
            DatabaseRow::from_status("catalog", &catalog_status),
            DatabaseRow::from_status("activity", &activity_status),
        ],
        outbox: catalog_status.and_then(|s| reading(s.outbox, "outbox")),
        consumer: activity_status.and_then(|s| reading(s.consumer, "consumer group")),
        echo_calls: ECHO_CALLS,
        echo_answered: echo_ok,
        replicas,
        updated: clock_utc(SystemTime::now()),
    }
}

fn service_row(
    state: &AppState,
    name: &'static str,
    role: &'static str,
    report: Result<ReadyReport, BackendError>,
    now: Instant,
) -> ServiceRow {
    match report {
        Ok(report) => ServiceRow {
            name,
            role,
            state: if report.ready { "ready" } else { "not ready" },
            rate: report
                .served
                .as_ref()
                .and_then(|served| state.cluster.requests_per_second(name, served, now)),
            checks: report.checks,
            error: None,
        },
        Err(err) => ServiceRow {
            name,
            role,
            state: "unreachable",
            rate: None,
            checks: Vec::new(),
            error: Some(err.to_string()),
        },
    }
}

/// One worker figure of a `/status`: the service that owns it always sends it.
fn reading<T>(part: Option<service_common::status::Reading<T>>, what: &str) -> Result<T, String> {
    match part {
        Some(service_common::status::Reading::Ok(value)) => Ok(value),
        Some(service_common::status::Reading::Unavailable(reason)) => Err(reason),
        None => Err(format!("the service reported no {what}")),
    }
}

/// `HH:MM:SS UTC` of `at`.
fn clock_utc(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_clock_reads_hours_minutes_seconds() {
        let at = UNIX_EPOCH + Duration::from_secs(3 * 86_400 + 13 * 3600 + 5 * 60 + 9);
        assert_eq!(clock_utc(at), "13:05:09 UTC");
    }
}
