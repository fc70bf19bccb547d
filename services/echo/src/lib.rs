//! The echo service: every request is answered with the host name of the machine (or
//! container, or pod) it runs on, so a client calling several replicas behind one name
//! sees which one answered.

use anyhow::Context;
use axum::Router;
use service_common::health::{self, Readiness};
use service_common::{Application, ConfigError, Env, HttpConfig, LogFormat, Metrics};

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "echo", version, about = "Answers the host name it runs on")]
pub struct Cli {
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 1402)]
    pub port: u16,
}

/// Everything echo is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--port` (or `PORT`, default 1402), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`.
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `HOSTNAME`, else the system host name.
    pub hostname: String,
}

impl Config {
    /// The command line plus the environment.
    pub fn new(cli: &Cli, env: &Env) -> Result<Self, ConfigError> {
        let mut http = HttpConfig::from_env(env, cli.port)?;
        http.port = cli.port;
        Ok(Self {
            http,
            log_format: LogFormat::from_env(env)?,
            hostname: hostname(env)?,
        })
    }
}

/// `HOSTNAME` when set (containers set it to the container id or pod name), else what the
/// system says.
pub fn hostname(env: &Env) -> Result<String, ConfigError> {
    Ok(match env.get("HOSTNAME")? {
        Some(name) => name.trim().to_owned(),
        None => gethostname::gethostname().to_string_lossy().into_owned(),
    })
}

/// The routes: the host name for any path and method, plus the health routes.
pub fn router(hostname: String, readiness: Readiness) -> Router {
    Router::new()
        .fallback(move || {
            let hostname = hostname.clone();
            async move { hostname }
        })
        .merge(health::router(readiness))
}

/// Binds the port.
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let readiness = Readiness::always().counting(&metrics);
    Application::build_with_metrics(
        &config.http,
        router(config.hostname.clone(), readiness),
        metrics,
    )
    .await
    .context("cannot start the HTTP server")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn reads_exactly_the_variables_service_spec_declares() {
        let env = Env::from_pairs::<&str, &str>([]);
        Config::new(&Cli::parse_from(["echo"]), &env).unwrap();
        service_spec::ECHO.check_reads(env.names_asked()).unwrap();
    }

    #[test]
    fn the_port_comes_from_the_command_line() {
        let cli = Cli::try_parse_from(["echo", "--port", "1402"]).unwrap();
        let config = Config::new(&cli, &Env::from_pairs([("HOSTNAME", "replica-1")])).unwrap();
        assert_eq!(config.http.port, 1402);
        assert_eq!(config.hostname, "replica-1");
    }

    #[test]
    fn a_bad_port_is_a_usage_error() {
        let err = Cli::try_parse_from(["echo", "--port", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn without_hostname_the_system_name_is_used() {
        let name = hostname(&Env::from_pairs([("HOSTNAME", "")])).unwrap();
        assert_eq!(name, gethostname::gethostname().to_string_lossy());
        assert!(!name.is_empty());
    }
}
