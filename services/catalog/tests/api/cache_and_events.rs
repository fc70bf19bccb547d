//! The read-through cache and the events published for each change.

use std::time::Duration;

use redis::AsyncCommands;
use service_test_support::wait_for;

use crate::support::{json, spawn_app};

#[tokio::test]
async fn reads_fill_the_cache_are_served_from_it_and_writes_invalidate_it() {
    let app = spawn_app().await;
    let mut redis = app.redis().await;
    let key = app.cache_key("cached");
    assert_eq!(app.put("cached", "first").await.status(), 201);
    // Let the publisher drop the key for the event first, or it races the reads below.
    app.wait_for_empty_outbox().await;
    let cached: Option<String> = redis.get(&key).await.unwrap();
    assert_eq!(cached, None, "a write must not fill the cache");

    let (_, first) = json(app.get("/info/cached").await).await;
    let cached: String = redis.get(&key).await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&cached).unwrap(),
        first
    );
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert!(ttl > 0 && ttl <= 300, "ttl {ttl}");

    // A hit is answered from Redis: change the cached copy behind the service's back.
    let marker = serde_json::json!({ "name": "cached", "description": "from the cache" });
    let () = redis.set(&key, marker.to_string()).await.unwrap();
    let (_, read) = json(app.get("/info/cached").await).await;
    assert_eq!(read, marker);

    // A write drops the cached copy; the next read sees the new description.
    assert_eq!(app.put("cached", "second").await.status(), 200);
    app.wait_for_empty_outbox().await;
    let (_, read) = json(app.get("/info/cached").await).await;
    assert_eq!(read["description"], "second");

    assert_eq!(app.delete("/info/cached").await.status(), 204);
    assert_eq!(app.get("/info/cached").await.status(), 404);
    let cached: Option<String> = redis.get(&key).await.unwrap();
    assert_eq!(cached, None, "a miss must not be cached");
}

#[tokio::test]
async fn every_change_is_published_once_to_the_stream_and_leaves_the_outbox() {
    let app = spawn_app().await;
    assert_eq!(app.put("a", "one").await.status(), 201);
    assert_eq!(app.put("a", "two").await.status(), 200);
    assert_eq!(app.put("b", "<b>bold</b>").await.status(), 201);
    assert_eq!(app.delete("/info/a").await.status(), 204);
    // Refused and failed requests publish nothing.
    assert_eq!(app.delete("/info/a").await.status(), 404);
    assert_eq!(app.put("bad name", "x").await.status(), 400);

    wait_for(
        "four events in the stream",
        Duration::from_secs(20),
        || async { app.events().await.len() >= 4 },
    )
    .await;
    wait_for("an empty outbox", Duration::from_secs(20), || async {
        app.count("outbox").await == 0
    })
    .await;

    let events = app.events().await;
    let summary: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str(),
                e["name"].as_str(),
                e.get("description").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("created", "a", Some("one")),
            ("updated", "a", Some("two")),
            ("created", "b", Some("<b>bold</b>")),
            ("deleted", "a", None),
        ]
    );
    let mut ids: Vec<&str> = events.iter().map(|e| e["event_id"].as_str()).collect();
    assert!(ids.iter().all(|id| id.len() == 36), "{ids:?}");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "event ids must be unique");
    for event in &events {
        assert_eq!(event["schema_version"], "1");
        time::OffsetDateTime::parse(
            &event["occurred_at"],
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|e| panic!("occurred_at {:?}: {e}", event["occurred_at"]));
    }
}
