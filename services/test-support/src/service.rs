//! A client for one running data service (catalog or activity) started by a test: the
//! requests the tests make of either, and its metrics.

use reqwest::{Client, Response};
use service_common::Running;

use crate::unique_name;

/// One running service of either kind.
pub struct TestService {
    pub address: String,
    /// `http://127.0.0.1:METRICS_PORT/metrics`.
    pub metrics_url: String,
    pub client: Client,
    _running: Running,
}

/// A fresh Redis key prefix: the stream of one test is `{prefix}catalog.events`.
pub fn fresh_prefix() -> String {
    format!("{}:", unique_name("t"))
}

impl TestService {
    pub fn new(running: Running) -> Self {
        Self {
            address: running.url(),
            metrics_url: running.metrics_url(),
            client: Client::new(),
            _running: running,
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

    /// The text of `/metrics`, from the metrics port.
    pub async fn metrics(&self) -> String {
        crate::scrape(&self.metrics_url).await
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
