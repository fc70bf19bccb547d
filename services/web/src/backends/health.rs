//! What the cluster page asks every service: `GET /readyz` (ready or not, each dependency,
//! how many requests it has answered) and, of the data services, `GET /status` (their
//! database's migrations and their worker's figures).

use reqwest::Method;
use serde::Deserialize;
use service_common::health::{Check, Served, Status};
use service_common::status::DataStatus;

use super::{Backend, BackendError};

/// The most of a `/readyz` body read: a few checks, each a short text.
const MAX_REPORT: usize = 16 * 1024;

/// One dependency as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckView {
    pub name: String,
    /// `ok`, `degraded` or `down`.
    pub status: String,
    #[serde(default)]
    pub detail: Option<String>,
}

impl From<&Check> for CheckView {
    /// web's own checks, shown as the other services' are.
    fn from(check: &Check) -> Self {
        let (status, detail) = match &check.status {
            Status::Ok => ("ok", None),
            Status::Degraded(detail) => ("degraded", Some(detail.clone())),
            Status::Down(detail) => ("down", Some(detail.clone())),
        };
        Self {
            name: check.name.to_owned(),
            status: status.to_owned(),
            detail,
        }
    }
}

/// The body of `/readyz`, answered with 200 (ready) or 503 (not ready).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadyReport {
    pub ready: bool,
    #[serde(default)]
    pub checks: Vec<CheckView>,
    #[serde(default)]
    pub served: Option<Served>,
}

/// Asks `backend` whether it is ready. A 503 is an answer (not ready, and why), not an
/// error: only no answer, or one that is not a readiness report, is.
pub async fn readiness(backend: &Backend) -> Result<ReadyReport, BackendError> {
    backend
        .observed(async {
            let response = backend
                .request(Method::GET, backend.url(&["readyz"]))
                .send()
                .await
                .map_err(|e| backend.transport(e))?;
            let status = response.status();
            let text = backend.text(response, MAX_REPORT).await?;
            serde_json::from_str::<ReadyReport>(&text).map_err(|_| BackendError::Failed {
                service: backend.service,
                status,
            })
        })
        .await
}

/// A data service's `GET /status`.
pub async fn status(backend: &Backend) -> Result<DataStatus, BackendError> {
    let response = backend
        .send(backend.request(Method::GET, backend.url(&["status"])))
        .await?;
    backend.json(response).await
}
