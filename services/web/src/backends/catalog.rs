//! The catalog's JSON API: `GET /info?limit=&after=`, `GET|PUT|DELETE /info/{name}`.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::{Backend, BackendError};

/// An entry as the catalog returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub updated_at: String,
}

/// One page of entries; `next` is the name to continue after.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Page {
    pub items: Vec<Entry>,
    pub next: Option<String>,
}

#[derive(Serialize)]
struct PutBody<'a> {
    description: &'a str,
}

/// The catalog client.
#[derive(Debug, Clone)]
pub struct Catalog {
    backend: Backend,
}

impl Catalog {
    pub fn new(backend: Backend) -> Self {
        Self { backend }
    }

    /// The service itself, for the calls every service answers (`/readyz`, `/status`).
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Up to `limit` entries in name order, after `after` when given.
    pub async fn list(&self, limit: u32, after: Option<&str>) -> Result<Page, BackendError> {
        let mut url = self.backend.url(&["info"]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(after) = after {
            url.query_pairs_mut().append_pair("after", after);
        }
        let response = self
            .backend
            .send(self.backend.request(Method::GET, url))
            .await?;
        self.backend.json(response).await
    }

    /// The entry named `name`, or `None`.
    pub async fn get(&self, name: &str) -> Result<Option<Entry>, BackendError> {
        let url = self.backend.url(&["info", name]);
        let request = self.backend.request(Method::GET, url);
        match self.backend.send_if_found(request).await? {
            Some(response) => self.backend.json(response).await.map(Some),
            None => Ok(None),
        }
    }

    /// Creates or replaces the entry.
    pub async fn put(&self, name: &str, description: &str) -> Result<Entry, BackendError> {
        let url = self.backend.url(&["info", name]);
        let request = self
            .backend
            .request(Method::PUT, url)
            .json(&PutBody { description });
        let response = self.backend.send(request).await?;
        self.backend.json(response).await
    }

    /// Creates the entry only if none has its name (`If-None-Match: *`): `None` when one
    /// exists. Checking and creating are one step in the catalog, so two people adding one
    /// name at once cannot both succeed.
    pub async fn create(
        &self,
        name: &str,
        description: &str,
    ) -> Result<Option<Entry>, BackendError> {
        let url = self.backend.url(&["info", name]);
        let request = self
            .backend
            .request(Method::PUT, url)
            .header(reqwest::header::IF_NONE_MATCH, "*")
            .json(&PutBody { description });
        let response = match self.backend.send(request).await {
            Ok(response) => response,
            Err(BackendError::Refused { status, .. })
                if status == StatusCode::PRECONDITION_FAILED =>
            {
                return Ok(None)
            }
            Err(err) => return Err(err),
        };
        self.backend.json(response).await.map(Some)
    }

    /// Deletes the entry; `false` when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool, BackendError> {
        let url = self.backend.url(&["info", name]);
        let request = self.backend.request(Method::DELETE, url);
        Ok(self.backend.send_if_found(request).await?.is_some())
    }
}
