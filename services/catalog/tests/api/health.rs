//! `/healthz` and `/readyz`, with the database up and with it unreachable.

use crate::support::{assert_error, json, spawn_app, spawn_app_on};

#[tokio::test]
async fn readyz_reports_postgres_and_redis_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let (status, report) = json(app.get("/readyz").await).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ready"], true);
    assert_eq!(report["checks"][0]["name"], "postgres");
    assert_eq!(report["checks"][0]["status"], "ok");
    assert_eq!(report["checks"][1]["name"], "redis");
    assert_eq!(report["checks"][1]["status"], "ok");
}

#[tokio::test]
async fn the_service_starts_without_its_database_and_says_it_is_unavailable() {
    // Nothing listens on port 1: the pool is lazy, so the service still starts.
    let app = spawn_app_on(
        "postgres://catalog@127.0.0.1:1/catalog",
        &service_test_support::test_redis_url(),
    )
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let (status, report) = json(app.get("/readyz").await).await;
    assert_eq!(status, 503, "{report}");
    assert_eq!(report["checks"][0]["status"], "down");
    assert_error(
        app.get("/info/x").await,
        503,
        "the database is unavailable",
        "get",
    )
    .await;
    assert_error(
        app.put("x", "y").await,
        503,
        "the database is unavailable",
        "put",
    )
    .await;
    assert_error(
        app.get("/info").await,
        503,
        "the database is unavailable",
        "list",
    )
    .await;
}
