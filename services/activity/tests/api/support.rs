//! Spawning activity (and catalog) services on free loopback ports, each with a fresh
//! database, sharing one Redis key prefix per test.

use std::path::PathBuf;

use reqwest::{Client, Response};
use service_common::{Env, HttpConfig};
use service_test_support::{fresh_database, unique_name};
use tokio::sync::oneshot;

pub fn migrations(database: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(database)
}

/// One running service of either kind.
pub struct TestService {
    pub address: String,
    pub client: Client,
    _stop: oneshot::Sender<()>,
}

/// A fresh Redis key prefix: the stream of one test is `{prefix}catalog.events`.
pub fn fresh_prefix() -> String {
    format!("{}:", unique_name("t"))
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
    let mut config = activity::Config::from_env(&Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis_url),
        ("REDIS_KEY_PREFIX", prefix),
        ("CONSUMER_NAME", consumer),
    ]))
    .expect("test configuration");
    config.http = HttpConfig::for_tests();
    let app = activity::Application::build(config)
        .await
        .expect("activity builds");
    let port = app.port();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestService::new(port, stop)
}

/// A catalog service on a fresh database.
pub async fn spawn_catalog(redis_url: &str, prefix: &str) -> TestService {
    let database_url = fresh_database("catalog_test", Some(&migrations("catalog"))).await;
    spawn_catalog_on(&database_url, redis_url, prefix).await
}

/// A catalog service on the given database.
pub async fn spawn_catalog_on(database_url: &str, redis_url: &str, prefix: &str) -> TestService {
    let mut config = catalog::Config::from_env(&Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis_url),
        ("REDIS_KEY_PREFIX", prefix),
    ]))
    .expect("test configuration");
    config.http = HttpConfig::for_tests();
    let app = catalog::Application::build(config)
        .await
        .expect("catalog builds");
    let port = app.port();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestService::new(port, stop)
}

impl TestService {
    fn new(port: u16, stop: oneshot::Sender<()>) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: Client::new(),
            _stop: stop,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn put(&self, name: &str, description: &str) -> u16 {
        self.client
            .put(format!("{}/info/{name}", self.address))
            .json(&serde_json::json!({ "description": description }))
            .send()
            .await
            .expect("request sent")
            .status()
            .as_u16()
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.client
            .delete(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
            .status()
            .as_u16()
    }

    /// `GET /stats` of an activity service: the total.
    pub async fn total(&self) -> i64 {
        let (_, stats) = json(self.get("/stats").await).await;
        stats["total"].as_i64().expect("total")
    }

    /// `GET /activity?limit=100` of an activity service: (kind, name) newest first.
    pub async fn feed(&self) -> Vec<(String, String)> {
        let (_, feed) = json(self.get("/activity?limit=100").await).await;
        feed["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_owned(),
                    e["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The status and the JSON body of a response.
pub async fn json(response: Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
    (status, value)
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

/// How many entries of the test's group are delivered but not acknowledged.
pub async fn pending(url: &str, prefix: &str) -> i64 {
    let mut conn = redis(url).await;
    let summary: redis::Value = redis::cmd("XPENDING")
        .arg(format!("{prefix}{}", activity::EVENTS_STREAM))
        .arg("activity")
        .query_async(&mut conn)
        .await
        .expect("XPENDING");
    match summary {
        redis::Value::Array(items) => redis::from_redis_value_ref(&items[0]).expect("count"),
        other => panic!("unexpected XPENDING reply {other:?}"),
    }
}
