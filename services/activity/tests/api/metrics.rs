//! `/metrics` on the metrics port: requests by route template, the pool, and the consumer
//! group's lag and pending count.

use std::time::{Duration, Instant};

use service_test_support::{fresh_database, metric_value, test_redis_url, unique_name, wait_for};

use crate::support::{event_fields, fresh_prefix, publish, spawn_activity, spawn_activity_on};

#[tokio::test]
async fn requests_and_a_caught_up_consumer_show_in_the_metrics() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let app = spawn_activity(&url, &prefix).await;
    publish_events(&url, &prefix, 1).await;
    wait_for("the event stored", Duration::from_secs(20), || async {
        app.total().await == 1
    })
    .await;
    for _ in 0..2 {
        assert_eq!(app.get("/activity?limit=5").await.status(), 200);
    }
    let text = app.metrics().await;
    let feed = r#"http_requests_total{route="/activity",method="GET",status="200"}"#;
    assert_eq!(metric_value(&text, feed), Some(2.0), "{text}");
    assert_eq!(
        metric_value(&text, "activity_consumer_lag"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        metric_value(&text, "activity_consumer_pending"),
        Some(0.0),
        "{text}"
    );
    assert!(
        metric_value(&text, "db_pool_size").is_some_and(|n| n >= 1.0),
        "{text}"
    );
}

#[tokio::test]
async fn events_the_consumer_cannot_store_show_as_pending_and_lag() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    const SENT: usize = 150;
    publish_events(&url, &prefix, SENT).await;
    // A database without its tables: every batch read fails to store and stays pending.
    let database_url = fresh_database("activity_test", None).await;
    let app = spawn_activity_on(&database_url, &url, &prefix, &unique_name("stuck")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let last = loop {
        let text = app.metrics().await;
        if metric_value(&text, "activity_consumer_pending").is_some_and(|n| n > 0.0) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "nothing pending after 20 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let pending = metric_value(&last, "activity_consumer_pending").unwrap();
    let lag = metric_value(&last, "activity_consumer_lag").expect("a lag");
    // Delivered and unacknowledged, or not delivered yet: every entry is one or the other.
    assert_eq!(pending + lag, SENT as f64, "{last}");
}

/// Publishes `count` valid `created` events, as the catalog would.
async fn publish_events(url: &str, prefix: &str, count: usize) {
    for n in 0..count {
        let event_id = format!("00000000-0000-4000-8000-{n:012}");
        let fields = event_fields(
            &event_id,
            "created",
            &format!("e{n}"),
            "2026-01-01T10:00:00Z",
        );
        publish(url, prefix, &fields).await;
    }
}
