//! The cluster panel's two calls: the head of the hello chain and one echo replica.

use reqwest::Method;

use super::{Backend, BackendError};

/// The most characters shown of an answer: these are short texts, and the page must not
/// grow with whatever a misconfigured URL returns.
const MAX_SHOWN: usize = 200;

/// What the hello chain answers (`hello world` through every hop).
pub async fn hello(backend: &Backend) -> Result<String, BackendError> {
    plain_text(backend).await
}

/// The host name of the echo replica that answered.
pub async fn echo(backend: &Backend) -> Result<String, BackendError> {
    plain_text(backend).await
}

async fn plain_text(backend: &Backend) -> Result<String, BackendError> {
    backend.observed(plain_text_unobserved(backend)).await
}

async fn plain_text_unobserved(backend: &Backend) -> Result<String, BackendError> {
    let response = backend
        .request(Method::GET, backend.url(&[]))
        .send()
        .await
        .map_err(|e| backend.transport(e))?;
    let status = response.status();
    let text = backend.text(response, MAX_SHOWN).await?.trim().to_owned();
    if status.is_success() {
        Ok(text)
    } else {
        Err(BackendError::ErrorText {
            service: backend.service,
            status,
            text,
        })
    }
}
