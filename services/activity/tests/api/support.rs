//! Spawning activity services on free loopback ports, each with a fresh database, sharing one
//! Redis key prefix per test. (Tests with a catalog too are in tests/services-e2e.)

use std::collections::HashMap;
use std::path::PathBuf;

use service_test_support::{fresh_database, unique_name};
pub use service_test_support::{fresh_prefix, json, TestService};

pub fn migrations(database: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(database)
}

/// An activity service on a fresh database.
pub async fn spawn_activity(redis_url: &str, prefix: &str) -> TestService {
    let database_url = fresh_database("activity_test", Some(&migrations("activity"))).await;
    spawn_activity_on(&database_url, redis_url, prefix, &unique_name("consumer")).await
}

/// An activity service on the given database, consuming as `consumer`.
pub async fn spawn_activity_on(
    database_url: &str,
    redis_url: &str,
    prefix: &str,
    consumer: &str,
) -> TestService {
    let config = activity::Config::for_tests(database_url, redis_url, prefix, consumer);
    TestService::new(
        activity::build(config)
            .await
            .expect("activity builds")
            .spawn(),
    )
}

pub async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis")
}

/// Publishes one entry with the given fields to the test's stream, as the catalog would.
pub async fn publish(url: &str, prefix: &str, fields: &[(&str, String)]) -> String {
    let mut conn = redis(url).await;
    redis::cmd("XADD")
        .arg(format!("{prefix}{}", activity::EVENTS_STREAM))
        .arg("*")
        .arg(fields)
        .query_async(&mut conn)
        .await
        .expect("XADD")
}

/// A valid event's fields.
pub fn event_fields(
    event_id: &str,
    kind: &str,
    name: &str,
    occurred_at: &str,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("event_id", event_id.to_owned()),
        ("kind", kind.to_owned()),
        ("name", name.to_owned()),
        ("occurred_at", occurred_at.to_owned()),
    ];
    if kind != "deleted" {
        fields.push(("description", format!("about {name}")));
    }
    fields
}

/// How many entries of the test's group each consumer holds, delivered but not acknowledged;
/// none while the group does not exist yet.
pub async fn pending_by_consumer(url: &str, prefix: &str) -> HashMap<String, i64> {
    let reply: redis::RedisResult<redis::streams::StreamPendingReply> = redis::cmd("XPENDING")
        .arg(format!("{prefix}{}", activity::EVENTS_STREAM))
        .arg("activity")
        .query_async(&mut redis(url).await)
        .await;
    match reply {
        Ok(redis::streams::StreamPendingReply::Data(data)) => data
            .consumers
            .into_iter()
            .map(|c| (c.name, c.pending as i64))
            .collect(),
        Ok(_) => HashMap::new(),
        Err(err) if err.code() == Some("NOGROUP") => HashMap::new(),
        Err(err) => panic!("XPENDING: {err}"),
    }
}

/// How many entries of the test's group are delivered but not acknowledged.
pub async fn pending(url: &str, prefix: &str) -> i64 {
    pending_by_consumer(url, prefix).await.values().sum()
}
