//! `spawn_app`: a catalog serving on a free loopback port with a fresh, migrated database.

use std::collections::HashMap;
use std::path::PathBuf;

use catalog::Config;
use reqwest::{Client, Method, Response};
use service_common::Running;
use service_test_support::{fresh_database, test_redis_url, unique_name};

pub fn migrations() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog")
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:METRICS_PORT/metrics`.
    pub metrics_url: String,
    pub client: Client,
    pub database_url: String,
    pub redis_url: String,
    pub prefix: String,
    _running: Running,
}

/// A catalog on the harness's Redis.
pub async fn spawn_app() -> TestApp {
    spawn_app_with_redis(&test_redis_url()).await
}

/// A catalog on the given Redis, with a fresh database and a fresh key prefix.
pub async fn spawn_app_with_redis(redis_url: &str) -> TestApp {
    let database_url = fresh_database("catalog_test", Some(&migrations())).await;
    spawn_app_on(&database_url, redis_url).await
}

/// A catalog on the given database (not migrated here) and Redis.
pub async fn spawn_app_on(database_url: &str, redis_url: &str) -> TestApp {
    let prefix = format!("{}:", unique_name("t"));
    let config = Config::for_tests(database_url, redis_url, &prefix);
    let running = catalog::build(config)
        .await
        .expect("catalog builds")
        .spawn();
    TestApp {
        address: running.url(),
        metrics_url: running.metrics_url(),
        client: Client::new(),
        database_url: database_url.to_owned(),
        redis_url: redis_url.to_owned(),
        prefix,
        _running: running,
    }
}

impl TestApp {
    pub async fn request(&self, method: Method, path: &str) -> Response {
        self.client
            .request(method, format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// The text of `/metrics`, from the metrics port.
    pub async fn metrics(&self) -> String {
        service_test_support::scrape(&self.metrics_url).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).await
    }

    /// `PUT /info/{name}` with `{"description": description}`.
    pub async fn put(&self, name: &str, description: &str) -> Response {
        self.client
            .put(format!("{}/info/{name}", self.address))
            .json(&serde_json::json!({ "description": description }))
            .send()
            .await
            .expect("request sent")
    }

    /// `PUT /info/{name}` with `If-None-Match: *`: create only, never replace.
    pub async fn create(&self, name: &str, description: &str) -> Response {
        self.client
            .put(format!("{}/info/{name}", self.address))
            .header("if-none-match", "*")
            .json(&serde_json::json!({ "description": description }))
            .send()
            .await
            .expect("request sent")
    }

    /// A request with any body bytes and content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request sent")
    }

    pub async fn db(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.db()
            .await
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count")
            .get(0)
    }

    /// Waits until the publisher has sent every recorded event.
    pub async fn wait_for_empty_outbox(&self) {
        service_test_support::wait_for(
            "an empty outbox",
            std::time::Duration::from_secs(30),
            || async { self.count("outbox").await == 0 },
        )
        .await;
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis")
    }

    pub fn stream(&self) -> String {
        format!("{}{}", self.prefix, catalog::EVENTS_STREAM)
    }

    pub fn cache_key(&self, name: &str) -> String {
        format!("{}catalog:info:{name}", self.prefix)
    }

    /// Every entry of this app's event stream, oldest first, as field maps.
    pub async fn events(&self) -> Vec<HashMap<String, String>> {
        let mut conn = self.redis().await;
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.stream())
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .expect("XRANGE");
        reply
            .ids
            .into_iter()
            .map(|entry| {
                entry
                    .map
                    .into_iter()
                    .map(|(k, v)| {
                        let v: String = redis::from_redis_value(v).expect("text field");
                        (k, v)
                    })
                    .collect()
            })
            .collect()
    }
}

/// The status and the JSON body of a response.
pub async fn json(response: Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
    assert!(
        content_type.starts_with("application/json"),
        "status {status}: content type {content_type:?}"
    );
    (status, value)
}

/// Asserts an error answer: the status, and an `error` message containing `fragment`.
pub async fn assert_error(response: Response, status: u16, fragment: &str, case: &str) {
    let (got, body) = json(response).await;
    assert_eq!(got, status, "case {case}: body {body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("case {case}: no error message in {body}"));
    assert!(
        message.contains(fragment),
        "case {case}: {message:?} does not contain {fragment:?}"
    );
}
