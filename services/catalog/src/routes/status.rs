//! `GET /status`: the catalog database's migrations (against the files this binary was built
//! with) and the outbox backlog, for web's cluster page.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use service_common::status::{self, DataStatus};

use crate::outbox;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/status", get(report))
}

async fn report(State(state): State<AppState>) -> Json<DataStatus> {
    let (migrations, outbox) = tokio::join!(
        status::migrations(&state.pool, service_migrations::CATALOG),
        outbox::figures(&state.pool),
    );
    Json(DataStatus {
        migrations,
        outbox: Some(outbox.into()),
        consumer: None,
    })
}
