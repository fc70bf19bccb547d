//! What every service of the cluster does the same way: configuration from the environment,
//! telemetry, the shared HTTP layers (request id, request span, timeout, body limit), the
//! health routes, and a server that shuts down gracefully on SIGTERM and SIGINT.

pub mod config;
pub mod health;
pub mod layers;
pub mod postgres;
pub mod redis;
pub mod shutdown;
pub mod startup;
pub mod telemetry;

pub use config::{ConfigError, Env, ErrorBody, HttpConfig, LogFormat};
pub use health::{Check, Readiness, Status};
pub use startup::{exit_code, Application, StartError};
