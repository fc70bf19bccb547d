//! Consuming hand-published stream entries: ordering, idempotency, acknowledgement,
//! malformed entries, redelivery after a crash, and replicas sharing a group.

use std::time::Duration;

use service_test_support::{fresh_database, test_redis_url, unique_name, wait_for};

use crate::support::{
    event_fields, fresh_prefix, json, migrations, pending, pending_by_consumer, publish, redis,
    spawn_activity, spawn_activity_on,
};

const ID_A: &str = "00000000-0000-4000-8000-00000000000a";
const ID_B: &str = "00000000-0000-4000-8000-00000000000b";
const ID_C: &str = "00000000-0000-4000-8000-00000000000c";

#[tokio::test]
async fn each_event_is_stored_once_served_newest_first_and_acknowledged() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let app = spawn_activity(&url, &prefix).await;
    publish(
        &url,
        &prefix,
        &event_fields(ID_A, "created", "a", "2026-01-01T10:00:00Z"),
    )
    .await;
    publish(
        &url,
        &prefix,
        &event_fields(ID_B, "updated", "a", "2026-01-01T10:00:01Z"),
    )
    .await;
    // The same event delivered twice (a publisher retry) is stored once.
    publish(
        &url,
        &prefix,
        &event_fields(ID_B, "updated", "a", "2026-01-01T10:00:01Z"),
    )
    .await;
    publish(
        &url,
        &prefix,
        &event_fields(ID_C, "deleted", "a", "2026-01-01T10:00:02Z"),
    )
    .await;
    // A malformed entry is skipped (and acknowledged) without stopping the others.
    publish(
        &url,
        &prefix,
        &[("kind", "created".to_owned()), ("name", "x".to_owned())],
    )
    .await;
    let late = "00000000-0000-4000-8000-0000000000dd";
    publish(
        &url,
        &prefix,
        &event_fields(late, "created", "b", "2026-01-01T10:00:03Z"),
    )
    .await;

    wait_for("four stored events", Duration::from_secs(20), || async {
        app.total().await == 4
    })
    .await;
    wait_for(
        "every entry acknowledged",
        Duration::from_secs(20),
        || async { pending(&url, &prefix).await == 0 },
    )
    .await;
    let feed = app.feed().await;
    let expected = [
        ("created", "b"),
        ("deleted", "a"),
        ("updated", "a"),
        ("created", "a"),
    ]
    .map(|(k, n)| (k.to_owned(), n.to_owned()));
    assert_eq!(feed, expected);

    let (_, body) = json(app.get("/activity?limit=2").await).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["event_id"], late);
    assert_eq!(items[0]["description"], "about b");
    assert_eq!(items[1]["description"], serde_json::Value::Null);
    assert_eq!(items[1]["occurred_at"], "2026-01-01T10:00:02Z");

    let (_, stats) = json(app.get("/stats").await).await;
    assert_eq!(
        stats,
        serde_json::json!({ "total": 4, "counts": { "created": 2, "deleted": 1, "updated": 1 } })
    );
}

#[tokio::test]
async fn entries_delivered_before_a_crash_but_never_acknowledged_are_stored_after_restart() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let stream = format!("{prefix}{}", activity::EVENTS_STREAM);
    let consumer = unique_name("crashed");
    publish(
        &url,
        &prefix,
        &event_fields(ID_A, "created", "a", "2026-01-01T10:00:00Z"),
    )
    .await;
    publish(
        &url,
        &prefix,
        &event_fields(ID_B, "updated", "a", "2026-01-01T10:00:01Z"),
    )
    .await;
    // Play the consumer that read both entries and died before acknowledging them.
    let mut conn = redis(&url).await;
    let () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("activity")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("activity")
        .arg(&consumer)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending(&url, &prefix).await, 2);

    // It had stored the first one already.
    let database_url = fresh_database("activity_test", Some(&migrations("activity"))).await;
    service_test_support::client(&database_url)
        .await
        .execute(
            "INSERT INTO events (event_id, kind, name, occurred_at)
             VALUES ($1::text::uuid, 'created', 'a', now())",
            &[&ID_A],
        )
        .await
        .unwrap();

    let app = spawn_activity_on(&database_url, &url, &prefix, &consumer).await;
    wait_for(
        "both entries acknowledged",
        Duration::from_secs(20),
        || async { pending(&url, &prefix).await == 0 },
    )
    .await;
    assert_eq!(app.total().await, 2);
}

#[tokio::test]
async fn two_replicas_in_one_group_share_the_events_and_store_each_once() {
    let url = test_redis_url();
    let prefix = fresh_prefix();
    let database_url = fresh_database("activity_test", Some(&migrations("activity"))).await;
    // Storing is held up by a lock until both replicas hold entries: a replica that reads a
    // batch then waits on the lock with its batch unacknowledged, so the group can only give
    // the rest of the stream to the other one. Which replica consumed what is then visible in
    // the group's pending entries, and a replica that reads nothing fails the test.
    let locker = service_test_support::client(&database_url).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    // More than one batch (100), all in the stream before either replica reads, so that a
    // replica that reads all it can in one call leaves entries for the other.
    let ids: Vec<String> = (0..250)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        publish(
            &url,
            &prefix,
            &event_fields(id, "created", &format!("e{i}"), "2026-01-01T10:00:00Z"),
        )
        .await;
    }
    let one = spawn_activity_on(&database_url, &url, &prefix, "replica-1").await;
    let _two = spawn_activity_on(&database_url, &url, &prefix, "replica-2").await;
    wait_for(
        "both replicas holding entries",
        Duration::from_secs(20),
        || async {
            let held = pending_by_consumer(&url, &prefix).await;
            ["replica-1", "replica-2"]
                .iter()
                .all(|replica| held.get(*replica).is_some_and(|&n| n > 0))
        },
    )
    .await;
    locker.batch_execute("ROLLBACK").await.unwrap();

    // No entry pending is not enough: between a replica's acknowledgement and its next
    // read, none is pending while some are still unread.
    wait_for(
        "every entry stored and acknowledged",
        Duration::from_secs(30),
        || async { pending(&url, &prefix).await == 0 && one.total().await >= 250 },
    )
    .await;
    let stored: i64 = locker
        .query_one(
            "SELECT count(*) FROM events WHERE event_id::text = ANY($1)",
            &[&ids],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 250, "every published event is stored");
    assert_eq!(one.total().await, 250, "and nothing else");
}
