//! The settings of `web`, from the environment.

use std::time::Duration;

use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// The default port.
pub const DEFAULT_PORT: u16 = service_spec::WEB.port();
/// The default time each backend has to answer before its panel says it is unavailable.
pub const DEFAULT_BACKEND_TIMEOUT: Duration = Duration::from_millis(2000);

/// Everything `web` reads from the environment. The URL defaults are the ports of
/// `cargo run -p …` on one machine; compose and Kubernetes set service names.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8080), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`.
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `CATALOG_URL`, default `http://127.0.0.1:8081`.
    pub catalog_url: String,
    /// `ACTIVITY_URL`, default `http://127.0.0.1:8082`.
    pub activity_url: String,
    /// `HELLO_URL`, default `http://127.0.0.1:1401`: the head of the hello chain.
    pub hello_url: String,
    /// `ECHO_URL`, default `http://127.0.0.1:1402`.
    pub echo_url: String,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379` (`rediss://` for TLS).
    pub redis_url: String,
    /// `VISITS_KEY`, default `web:visits`: the Redis key of the visit counter.
    pub visits_key: String,
    /// `BACKEND_TIMEOUT_MS`, default 2000.
    pub backend_timeout: Duration,
}

impl Config {
    /// Reads the variables; a bad value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = |var: &str, default: &str| -> Result<String, ConfigError> {
            Ok(env.http_url(var)?.unwrap_or_else(|| default.to_owned()))
        };
        let redis_url = env.string_or("REDIS_URL", "redis://127.0.0.1:6379")?;
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
            return Err(ConfigError::Invalid {
                var: "REDIS_URL".into(),
                value: redis_url,
                reason: "expected a URL starting with redis:// (or rediss:// for TLS)".into(),
            });
        }
        Ok(Self {
            http: HttpConfig::from_env(env, DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            catalog_url: url("CATALOG_URL", "http://127.0.0.1:8081")?,
            activity_url: url("ACTIVITY_URL", "http://127.0.0.1:8082")?,
            hello_url: url("HELLO_URL", "http://127.0.0.1:1401")?,
            echo_url: url("ECHO_URL", "http://127.0.0.1:1402")?,
            redis_url,
            visits_key: env.string_or("VISITS_KEY", "web:visits")?,
            backend_timeout: env.millis_or("BACKEND_TIMEOUT_MS", DEFAULT_BACKEND_TIMEOUT)?,
        })
    }

    /// Loopback on a free port, every backend at `unreachable` (a URL where nothing listens):
    /// tests then point the ones they run at the real servers.
    pub fn for_tests(unreachable: &str, redis_url: &str) -> Self {
        Self {
            http: HttpConfig::for_tests(),
            log_format: LogFormat::Text,
            catalog_url: unreachable.to_owned(),
            activity_url: unreachable.to_owned(),
            hello_url: unreachable.to_owned(),
            echo_url: unreachable.to_owned(),
            redis_url: redis_url.to_owned(),
            visits_key: "web:visits".into(),
            backend_timeout: DEFAULT_BACKEND_TIMEOUT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exactly_the_variables_service_spec_declares() {
        let env = Env::from_pairs::<&str, &str>([]);
        Config::from_env(&env).unwrap();
        service_spec::WEB.check_reads(env.names_asked()).unwrap();
    }

    #[test]
    fn defaults_point_at_the_local_ports() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 8080);
        assert_eq!(config.catalog_url, "http://127.0.0.1:8081");
        assert_eq!(config.activity_url, "http://127.0.0.1:8082");
        assert_eq!(config.hello_url, "http://127.0.0.1:1401");
        assert_eq!(config.echo_url, "http://127.0.0.1:1402");
        assert_eq!(config.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(config.visits_key, "web:visits");
        assert_eq!(config.backend_timeout, Duration::from_secs(2));
    }

    #[test]
    fn service_names_are_taken_as_given() {
        let env = Env::from_pairs([
            ("CATALOG_URL", "http://catalog:8081/"),
            ("HELLO_URL", "http://hello1403:1403"),
            ("REDIS_URL", "redis://redis:6379/0"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.catalog_url, "http://catalog:8081");
        assert_eq!(config.hello_url, "http://hello1403:1403");
        assert_eq!(config.redis_url, "redis://redis:6379/0");
        let tls = Env::from_pairs([("REDIS_URL", "rediss://cache.example:6380")]);
        assert_eq!(
            Config::from_env(&tls).unwrap().redis_url,
            "rediss://cache.example:6380"
        );
    }

    #[test]
    fn bad_urls_are_refused_naming_the_variable() {
        let env = Env::from_pairs([("ECHO_URL", "echo:1402")]);
        assert!(Config::from_env(&env)
            .unwrap_err()
            .to_string()
            .starts_with("ECHO_URL=\"echo:1402\" is invalid"));
        let env = Env::from_pairs([("REDIS_URL", "http://redis")]);
        assert_eq!(
            Config::from_env(&env).unwrap_err().to_string(),
            "REDIS_URL=\"http://redis\" is invalid: expected a URL starting with redis:// (or rediss:// for TLS)"
        );
    }
}
