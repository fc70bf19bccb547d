//! What every service of the cluster does the same way: configuration from the environment,
//! telemetry, the shared HTTP layers (request metrics, request id, request span, timeout,
//! body limit), the health routes, `/metrics` on its own port, and a server that shuts down
//! gracefully on SIGTERM and SIGINT.

pub mod config;
mod connections;
pub mod data_service;
pub mod health;
pub mod layers;
pub mod metrics;
pub mod postgres;
pub mod redis;
pub mod running;
pub mod shutdown;
pub mod startup;
pub mod status;
pub mod stopping;
pub mod telemetry;
pub mod trace;

pub use config::{ConfigError, Env, ErrorBody, HttpConfig, LogFormat};
pub use health::{Check, Readiness, Status};
pub use metrics::Metrics;
pub use running::Running;
pub use startup::{exit_code, Application, StartError};
