//! The whole path: a change in catalog, through the Redis stream, into activity's feed,
//! including while Redis is down.

use std::time::Duration;

use service_test_support::{test_redis_url, wait_for, RedisServer};

use service_test_support::{fresh_prefix, json};
use services_e2e::{activity as spawn_activity, catalog as spawn_catalog};

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
        .collect()
}

#[tokio::test]
async fn changes_made_in_catalog_appear_in_the_activity_feed_newest_first() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let catalog = spawn_catalog(&url, &prefix).await;
    let activity = spawn_activity(&url, &prefix).await;

    assert_eq!(catalog.put("postgres", "a relational database").await, 201);
    assert_eq!(
        catalog.put("postgres", "<script>alert(1)</script>").await,
        200
    );
    assert_eq!(catalog.put("redis", "a data store").await, 201);
    assert_eq!(catalog.delete("/info/postgres").await, 204);

    wait_for(
        "four events in activity",
        Duration::from_secs(20),
        || async { activity.total().await == 4 },
    )
    .await;
    assert_eq!(
        activity.feed().await,
        pairs(&[
            ("deleted", "postgres"),
            ("created", "redis"),
            ("updated", "postgres"),
            ("created", "postgres")
        ])
    );
    let (_, feed) = json(activity.get("/activity?limit=4").await).await;
    assert_eq!(feed["items"][2]["description"], "<script>alert(1)</script>");
    let (_, stats) = json(activity.get("/stats").await).await;
    assert_eq!(stats["counts"]["created"], 2);
    assert_eq!(stats["counts"]["updated"], 1);
    assert_eq!(stats["counts"]["deleted"], 1);
}

#[tokio::test]
async fn with_redis_killed_catalog_keeps_answering_and_the_events_reach_activity_when_it_returns() {
    let mut redis_server = RedisServer::start().await;
    let url = redis_server.url();
    let prefix = fresh_prefix();
    let catalog = spawn_catalog(&url, &prefix).await;
    let activity = spawn_activity(&url, &prefix).await;

    assert_eq!(catalog.put("before", "with Redis up").await, 201);
    wait_for(
        "the first event in activity",
        Duration::from_secs(20),
        || async { activity.total().await == 1 },
    )
    .await;

    redis_server.stop().await;

    assert_eq!(catalog.put("during", "with Redis down").await, 201);
    assert_eq!(catalog.put("before", "changed with Redis down").await, 200);
    assert_eq!(catalog.delete("/info/during").await, 204);
    let (status, entry) = json(catalog.get("/info/before").await).await;
    assert_eq!(
        (status, entry["description"].as_str()),
        (200, Some("changed with Redis down"))
    );
    let (status, report) = json(catalog.get("/readyz").await).await;
    assert_eq!(
        (status, report["checks"][1]["status"].as_str()),
        (200, Some("degraded"))
    );
    // activity still serves what it has, and says Redis is missing.
    assert_eq!(activity.total().await, 1);
    let (status, report) = json(activity.get("/readyz").await).await;
    assert_eq!(
        (status, report["checks"][1]["status"].as_str()),
        (200, Some("degraded"))
    );

    redis_server.restart().await;

    wait_for(
        "all four events in activity",
        Duration::from_secs(30),
        || async { activity.total().await == 4 },
    )
    .await;
    assert_eq!(
        activity.feed().await,
        pairs(&[
            ("deleted", "during"),
            ("updated", "before"),
            ("created", "during"),
            ("created", "before")
        ])
    );
    // And the path keeps working after the outage.
    assert_eq!(catalog.put("after", "with Redis back").await, 201);
    wait_for(
        "the fifth event in activity",
        Duration::from_secs(20),
        || async { activity.total().await == 5 },
    )
    .await;
}
