//! Log output: one `tracing` subscriber per process, human-readable text or JSON lines.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber, writing to stderr. The level filter comes from
/// `RUST_LOG` (default `info`). Returns quietly if one is already installed, so tests that
/// start several services in one process can each call it.
pub fn init(format: LogFormat) {
    let installed = match format {
        LogFormat::Text => fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .with_target(true)
            .with_ansi(false)
            .try_init()
            .is_ok(),
        LogFormat::Json => json_subscriber(std::io::stderr).try_init().is_ok(),
    };
    let _already_installed = !installed;
}

/// The JSON lines subscriber [`init`] installs, writing to `writer`: what a test installs for
/// one service to read that service's log as a collector would.
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Span fields (the request id, the trace id, the route) go into each event so a
    // collector can group every line of one request, and of one trace across services.
    fmt()
        .with_env_filter(filter())
        .with_writer(writer)
        .with_target(true)
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .finish()
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}
