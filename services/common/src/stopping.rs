//! The shutdown delay's other half: while a stopping service still serves (see
//! `SHUTDOWN_DELAY_MS`), `/readyz` answers 503 so that load balancers which probe it stop
//! sending new requests. Every other route is served as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready};
use tower::{Layer, Service};

use crate::health::{Check, Report, Status};

/// Set once the shutdown signal came; shared by the server loop and the layer.
#[derive(Clone, Debug, Default)]
pub struct Stopping(Arc<AtomicBool>);

impl Stopping {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Wraps a router so its `/readyz` answers 503 once [`Stopping`] is set.
#[derive(Clone, Debug)]
pub struct UnreadyWhileStoppingLayer(pub Stopping);

impl<S> Layer<S> for UnreadyWhileStoppingLayer {
    type Service = UnreadyWhileStopping<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UnreadyWhileStopping {
            inner,
            stopping: self.0.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct UnreadyWhileStopping<S> {
    inner: S,
    stopping: Stopping,
}

impl<S> Service<Request> for UnreadyWhileStopping<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    // No boxing: one atomic load is all a request pays while the service runs.
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if self.stopping.is_set() && request.uri().path() == "/readyz" {
            let report = Report {
                ready: false,
                checks: vec![Check {
                    name: "shutdown",
                    status: Status::Down("the service is stopping".into()),
                }],
                served: None,
            };
            return Either::Left(futures_util::future::ready(Ok(report.into_response())));
        }
        Either::Right(self.inner.call(request))
    }
}
