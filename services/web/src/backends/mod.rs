//! Clients of the services behind the pages. Each call either returns data or a
//! [`BackendError`] that the page shows in place of that part: one backend down never
//! takes the page down. A page that cannot go on without the answer returns the error, which
//! becomes its response here, once ([`BackendError::status`]).

pub mod activity;
pub mod catalog;
pub mod cluster;
pub mod health;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reqwest::Url;
use service_common::layers;
use service_common::trace::TRACEPARENT;

use crate::metrics::BackendMetrics;
use crate::pages::Failure;

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
    /// The status of a page that shows this error: what the backend refused keeps its 404,
    /// other refusals are the user's input (422), anything else is the backend being down.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } if *status == reqwest::StatusCode::NOT_FOUND => {
                StatusCode::NOT_FOUND
            }
            Self::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<BackendError> for Failure {
    fn from(err: BackendError) -> Self {
        let title = match err {
            BackendError::Refused { .. } => "Refused",
            _ => "Unavailable",
        };
        Failure::new(err.status(), title, err.to_string())
    }
}

impl IntoResponse for BackendError {
    fn into_response(self) -> Response {
        Failure::from(self).into_response()
    }
}

/// One backend: its name for messages, its base URL, the shared HTTP client.
#[derive(Debug, Clone)]
pub struct Backend {
    service: &'static str,
    base: Url,
    client: reqwest::Client,
    timeout: Duration,
    metrics: Option<BackendMetrics>,
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
            metrics: None,
        })
    }

    /// This backend with each call's latency and failures recorded in `metrics`.
    pub fn with_metrics(self, metrics: BackendMetrics) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
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

    /// A request to this backend, carrying the id and the trace of the request being served
    /// (`x-request-id`, `traceparent` naming web's span as the parent).
    pub fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, url).timeout(self.timeout);
        if let Some(id) = layers::current_request_id() {
            request = request.header(layers::REQUEST_ID_HEADER, id);
        }
        if let Some(trace) = layers::current_trace() {
            request = request.header(TRACEPARENT, trace.header_value());
        }
        request
    }

    /// Sends `request`; a 2xx comes back as the response, any other 4xx becomes
    /// [`BackendError::Refused`] with the backend's `{"error": …}` message, and the rest
    /// (404 included: the backend has no such route) an unavailable error.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BackendError> {
        self.send_if_found(request)
            .await?
            .ok_or(BackendError::Failed {
                service: self.service,
                status: reqwest::StatusCode::NOT_FOUND,
            })
    }

    /// As [`Backend::send`], but a 404 is `None`: for the calls about one thing (an entry)
    /// that may not exist.
    pub async fn send_if_found(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<reqwest::Response>, BackendError> {
        self.observed(self.send_unobserved(request)).await
    }

    /// Runs `call` to this backend, recording its latency and failure in the metrics.
    pub async fn observed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        let start = Instant::now();
        let outcome = call.await;
        if let Some(metrics) = &self.metrics {
            metrics.observe(self.service, start.elapsed(), &outcome);
        }
        outcome
    }

    async fn send_unobserved(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<reqwest::Response>, BackendError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(Some(response));
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
