//! The upstream of the 1403 role: one GET per request, its body passed through, and a 502
//! naming what went wrong when it fails.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_common::layers;
use service_common::trace::TRACEPARENT;

/// A client for the configured upstream URL.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    url: String,
    timeout: Duration,
}

/// Why the upstream gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream {url} did not answer within {ms} ms")]
    Timeout { url: String, ms: u128 },
    #[error("upstream {url} is unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("upstream {url} answered {status}")]
    Status { url: String, status: StatusCode },
}

impl Upstream {
    /// A client whose every request, body included, is bounded by `timeout`.
    pub fn new(url: String, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            url,
            timeout,
        })
    }

    /// GETs the URL, passing the request id and trace of the request being served along so
    /// both services log the same ones.
    pub async fn fetch(&self) -> Result<String, UpstreamError> {
        let mut request = self.client.get(&self.url);
        if let Some(id) = layers::current_request_id() {
            request = request.header(layers::REQUEST_ID_HEADER, id);
        }
        if let Some(trace) = layers::current_trace() {
            request = request.header(TRACEPARENT, trace.header_value());
        }
        let fail = |source: reqwest::Error| {
            if source.is_timeout() {
                UpstreamError::Timeout {
                    url: self.url.clone(),
                    ms: self.timeout.as_millis(),
                }
            } else {
                UpstreamError::Unreachable {
                    url: self.url.clone(),
                    source,
                }
            }
        };
        let response = request.send().await.map_err(fail)?;
        let status = response.status();
        if !status.is_success() {
            return Err(UpstreamError::Status {
                url: self.url.clone(),
                status,
            });
        }
        response.text().await.map_err(fail)
    }
}

impl IntoResponse for UpstreamError {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, source = ?std::error::Error::source(&self), "upstream failed");
        (StatusCode::BAD_GATEWAY, format!("bad gateway: {self}\n")).into_response()
    }
}
