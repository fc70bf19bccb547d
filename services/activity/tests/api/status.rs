//! `GET /status`: the activity database's migrations against the files built in, and the
//! consumer group's lag and pending count.

use std::time::Duration;

use service_test_support::{test_redis_url, wait_for};

use crate::support::{event_fields, fresh_prefix, json, publish, spawn_activity};

#[tokio::test]
async fn status_shows_a_current_database_and_a_caught_up_consumer() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let app = spawn_activity(&url, &prefix).await;
    let fields = event_fields(
        "00000000-0000-4000-8000-000000000001",
        "created",
        "s1",
        "2026-01-01T10:00:00Z",
    );
    publish(&url, &prefix, &fields).await;
    wait_for("the event stored", Duration::from_secs(20), || async {
        app.total().await == 1
    })
    .await;

    let latest = std::fs::read_dir(crate::support::migrations("activity"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_str().unwrap();
            name.ends_with(".sql") && !name.ends_with(".down.sql")
        })
        .count();
    let (status, body) = json(app.get("/status").await).await;
    assert_eq!(status, 200, "{body}");
    let migrations = &body["migrations"]["ok"];
    assert_eq!(migrations["version"], latest, "{body}");
    assert_eq!(migrations["pending"], serde_json::json!([]), "{body}");
    assert_eq!(migrations["drift"], serde_json::json!([]), "{body}");
    assert_eq!(
        body["consumer"]["ok"],
        serde_json::json!({"lag": 0, "pending": 0}),
        "{body}"
    );
    assert!(body.get("outbox").is_none(), "{body}");
}
