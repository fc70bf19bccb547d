//! Clients of the services behind the pages. Each call either returns data or a
//! [`BackendError`] that the page shows in place of that part: one backend down never
//! takes the page down.

pub mod activity;
pub mod catalog;
pub mod cluster;

use std::time::Duration;

use reqwest::Url;

/// Why a backend gave no usable answer. The messages are shown on the page, so they name the
/// service and stay short; details go to the log.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{service} is unavailable: no answer within {ms} ms")]
    Timeout { service: &'static str, ms: u128 },
    #[error("{service} is unavailable: cannot connect")]
    Unreachable { service: &'static str },
    #[error("{service} is unavailable: it answered {status}")]
    Failed {
        service: &'static str,
        status: reqwest::StatusCode,
    },
    /// An error answer whose text says more than the status (hello's 502 names the hop
    /// of the chain that failed).
    #[error("{service} answered {status}: {text}")]
    ErrorText {
        service: &'static str,
        status: reqwest::StatusCode,
        text: String,
    },
    #[error("{service} is unavailable: its answer could not be read")]
    BadAnswer { service: &'static str },
    /// The backend refused the request (4xx) with this message, meant for the user.
    #[error("{message}")]
    Refused {
        status: reqwest::StatusCode,
        message: String,
    },
}

impl BackendError {
    /// Whether the backend itself is down (as opposed to refusing what was asked).
    pub fn is_unavailable(&self) -> bool {
        !matches!(self, Self::Refused { .. })
    }
}

/// One backend: its name for messages, its base URL, the shared HTTP client.
#[derive(Debug, Clone)]
pub struct Backend {
    service: &'static str,
    base: Url,
    client: reqwest::Client,
    timeout: Duration,
}

impl Backend {
    /// `base` was checked by the configuration (an `http://` URL).
    pub fn new(
        service: &'static str,
        base: &str,
        client: reqwest::Client,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let base = Url::parse(base)
            .map_err(|e| anyhow::anyhow!("{service} URL {base:?} is invalid: {e}"))?;
        Ok(Self {
            service,
            base,
            client,
            timeout,
        })
    }

    /// The base URL with `segments` appended, each percent-encoded, so user input in a
    /// segment (an entry name) can never change the path or add a query.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A request to this backend, carrying the id of the request being served.
    pub fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let request = self.client.request(method, url).timeout(self.timeout);
        match service_common::layers::current_request_id() {
            Some(id) => request.header(service_common::layers::REQUEST_ID_HEADER, id),
            None => request,
        }
    }

    /// Sends `request`; 2xx and 404 come back as responses, 4xx become
    /// [`BackendError::Refused`] with the backend's `{"error": …}` message, the rest become
    /// an unavailable error.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BackendError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(response);
        }
        if status.is_client_error() {
            let message = match response.json::<ErrorBody>().await {
                Ok(body) => body.error,
                Err(_) => format!("{} refused the request ({status})", self.service),
            };
            return Err(BackendError::Refused { status, message });
        }
        tracing::warn!(service = self.service, %status, "backend failed");
        Err(BackendError::Failed {
            service: self.service,
            status,
        })
    }

    /// The body as JSON of type `T`.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, BackendError> {
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            tracing::warn!(service = self.service, error = %e, "backend answer is not the expected JSON");
            BackendError::BadAnswer {
                service: self.service,
            }
        })
    }

    /// The body as text, cut to `max` characters.
    pub async fn text(
        &self,
        response: reqwest::Response,
        max: usize,
    ) -> Result<String, BackendError> {
        let text = response.text().await.map_err(|e| self.transport(e))?;
        Ok(text.chars().take(max).collect())
    }

    fn transport(&self, err: reqwest::Error) -> BackendError {
        tracing::warn!(service = self.service, error = %err, source = ?std::error::Error::source(&err), "backend unreachable");
        if err.is_timeout() {
            BackendError::Timeout {
                service: self.service,
                ms: self.timeout.as_millis(),
            }
        } else {
            BackendError::Unreachable {
                service: self.service,
            }
        }
    }

    /// Readiness probe: the backend's own `/healthz`.
    pub async fn probe(&self) -> Result<(), BackendError> {
        let response = self
            .send(self.request(reqwest::Method::GET, self.url(&["healthz"])))
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(BackendError::Failed {
                service: self.service,
                status: response.status(),
            })
        }
    }
}

/// The error body every JSON service of the cluster answers with.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_so_they_stay_one_segment() {
        let backend = Backend::new(
            "catalog",
            "http://catalog:8081",
            reqwest::Client::new(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            backend.url(&["info", "a.b-c_1"]).as_str(),
            "http://catalog:8081/info/a.b-c_1"
        );
        assert_eq!(
            backend.url(&["info", "../admin?x=1#y"]).as_str(),
            "http://catalog:8081/info/..%2Fadmin%3Fx=1%23y"
        );
    }
}
