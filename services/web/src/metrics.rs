//! web's own metrics, beside the shared request metrics: each backend call's latency and the
//! calls that failed, by backend (`catalog`, `activity`, `hello`, `echo`) and reason. A
//! backend that refused what was asked (a 4xx with a message for the user) answered as it
//! should, so it is no failure here.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use service_common::metrics::requests::LATENCY_BUCKETS;
use service_common::Metrics;

use crate::backends::BackendError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BackendLabel {
    backend: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    backend: &'static str,
    reason: &'static str,
}

type LatencyFamily = Family<BackendLabel, Histogram, fn() -> Histogram>;

/// The backend call metrics; every backend client holds a clone.
#[derive(Debug, Clone)]
pub struct BackendMetrics {
    latency: LatencyFamily,
    failures: Family<FailureLabels, Counter>,
}

impl BackendMetrics {
    /// Registers `web_backend_request_duration_seconds` and `web_backend_failures_total`.
    pub fn register(metrics: &Metrics) -> Self {
        Self {
            latency: metrics.register(
                "web_backend_request_duration_seconds",
                "Time for a backend to answer a call (to the response head), by backend",
                LatencyFamily::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            ),
            failures: metrics.register(
                "web_backend_failures",
                "Backend calls that got no usable answer, by backend and reason",
                Family::default(),
            ),
        }
    }

    /// Records one call to `backend` that took `elapsed` and ended in `outcome`.
    pub fn observe<T>(
        &self,
        backend: &'static str,
        elapsed: Duration,
        outcome: &Result<T, BackendError>,
    ) {
        self.latency
            .get_or_create(&BackendLabel { backend })
            .observe(elapsed.as_secs_f64());
        let reason = match outcome {
            Ok(_) | Err(BackendError::Refused { .. }) => return,
            Err(BackendError::Timeout { .. }) => "timeout",
            Err(BackendError::Unreachable { .. }) => "unreachable",
            Err(BackendError::Failed { .. } | BackendError::ErrorText { .. }) => "error_status",
            Err(BackendError::BadAnswer { .. }) => "bad_answer",
        };
        self.failures
            .get_or_create(&FailureLabels { backend, reason })
            .inc();
    }
}
