//! The activity service: `GET /activity?limit=N` (newest first) and `GET /stats`.

use reqwest::Method;
use serde::Deserialize;

use super::{Backend, BackendError};

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// `created`, `updated` or `deleted`.
    pub kind: String,
    /// The entry's name.
    pub name: String,
    /// When it happened, RFC 3339.
    #[serde(default)]
    pub occurred_at: String,
}

/// The body of `GET /activity`.
#[derive(Deserialize)]
struct Feed {
    items: Vec<Event>,
}

/// One line of the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub kind: String,
    pub count: i64,
}

/// The body of `GET /stats` (its `total` is not shown).
#[derive(Deserialize)]
struct Stats {
    counts: std::collections::BTreeMap<String, i64>,
}

/// The activity client.
#[derive(Debug, Clone)]
pub struct Activity {
    backend: Backend,
}

impl Activity {
    pub fn new(backend: Backend) -> Self {
        Self { backend }
    }

    /// The service itself, for the calls every service answers (`/readyz`, `/status`).
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The newest `limit` events.
    pub async fn feed(&self, limit: u32) -> Result<Vec<Event>, BackendError> {
        let mut url = self.backend.url(&["activity"]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        let response = self.get(url).await?;
        let feed: Feed = self.backend.json(response).await?;
        Ok(feed.items)
    }

    /// The number of events per kind, in kind order.
    pub async fn stats(&self) -> Result<Vec<Count>, BackendError> {
        let response = self.get(self.backend.url(&["stats"])).await?;
        let stats: Stats = self.backend.json(response).await?;
        // A BTreeMap: already in kind order.
        Ok(stats
            .counts
            .into_iter()
            .map(|(kind, count)| Count { kind, count })
            .collect())
    }

    async fn get(&self, url: reqwest::Url) -> Result<reqwest::Response, BackendError> {
        self.backend
            .send(self.backend.request(Method::GET, url))
            .await
    }
}
