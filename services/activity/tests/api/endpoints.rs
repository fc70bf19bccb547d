//! The activity service's own endpoints and their errors.

use reqwest::Method;
use service_test_support::test_redis_url;

use crate::support::{fresh_prefix, json, spawn_activity, spawn_activity_on};

#[tokio::test]
async fn an_empty_feed_and_zero_counts() {
    let app = spawn_activity(&test_redis_url(), &fresh_prefix()).await;
    let (status, feed) = json(app.get("/activity").await).await;
    assert_eq!(status, 200);
    assert_eq!(feed, serde_json::json!({ "items": [] }));
    let (status, stats) = json(app.get("/stats").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        stats,
        serde_json::json!({ "total": 0, "counts": { "created": 0, "deleted": 0, "updated": 0 } })
    );
}

#[tokio::test]
async fn invalid_queries_unknown_routes_and_methods_answer_json_errors() {
    let app = spawn_activity(&test_redis_url(), &fresh_prefix()).await;
    let cases = [
        (
            Method::GET,
            "/activity?limit=0",
            400,
            "limit must be a whole number from 1 to 100",
        ),
        (Method::GET, "/activity?limit=101", 400, "limit must be"),
        (Method::GET, "/activity?limit=ten", 400, "limit must be"),
        (
            Method::GET,
            "/activity?limit=1;DROP%20TABLE%20events",
            400,
            "limit must be",
        ),
        (Method::GET, "/activity?limit=%FF", 400, "limit must be"),
        (Method::GET, "/nothing", 404, "no such route"),
        (Method::POST, "/activity", 405, "method not allowed"),
        (Method::DELETE, "/stats", 405, "method not allowed"),
    ];
    for (method, path, status, fragment) in cases {
        let response = app
            .client
            .request(method, format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let (got, body) = json(response).await;
        assert_eq!(got, status, "case {path}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(fragment), "case {path}: {message:?}");
    }
    assert_eq!(app.get("/activity?limit=1").await.status(), 200);
    assert_eq!(app.get("/activity?limit=100").await.status(), 200);
}

#[tokio::test]
async fn readyz_reports_its_dependencies_and_a_missing_database_is_503() {
    let app = spawn_activity(&test_redis_url(), &fresh_prefix()).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let (status, report) = json(app.get("/readyz").await).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["checks"][0]["status"], "ok");
    assert_eq!(report["checks"][1]["status"], "ok");

    // Nothing listens on port 1: the service starts anyway and says what is missing.
    let down = spawn_activity_on(
        "postgres://activity@127.0.0.1:1/activity",
        &test_redis_url(),
        &fresh_prefix(),
        "nobody",
    )
    .await;
    assert_eq!(down.get("/healthz").await.status(), 200);
    let (status, report) = json(down.get("/readyz").await).await;
    assert_eq!(status, 503, "{report}");
    let (status, body) = json(down.get("/activity").await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("the database is unavailable"))
    );
    let (status, _) = json(down.get("/stats").await).await;
    assert_eq!(status, 503);
}
