//! Log output: one `tracing` subscriber per process, human-readable text or JSON lines.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber, writing to stderr. The level filter comes from
/// `RUST_LOG` (default `info`). Returns quietly if one is already installed, so tests that
/// start several services in one process can each call it.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let _already_installed = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        // Span fields (the request id, the route) go into each event so a collector can
        // group every line of one request.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
