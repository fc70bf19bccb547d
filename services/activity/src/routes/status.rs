//! `GET /status`: the activity database's migrations (against the files this binary was
//! built with) and the consumer group's lag, for web's cluster page.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use service_common::status::{self, DataStatus};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/status", get(report))
}

async fn report(State(state): State<AppState>) -> Json<DataStatus> {
    let (migrations, consumer) = tokio::join!(
        status::migrations(&state.pool, service_migrations::ACTIVITY),
        state.group.figures(),
    );
    Json(DataStatus {
        migrations,
        outbox: None,
        consumer: Some(consumer.into()),
    })
}
