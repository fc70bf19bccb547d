//! The settings of `hello`, from the environment.

use std::path::PathBuf;
use std::time::Duration;

use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// The default port.
pub const DEFAULT_PORT: u16 = service_spec::HELLO.port();
/// The default time an upstream has to answer.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_millis(2000);
/// The file in `CONTENT_DIR` that holds the greeting.
pub const GREETING_FILE: &str = "greeting.txt";

/// Everything `hello` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 1401), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`.
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `CONTENT_DIR`: the folder holding `greeting.txt`, read once at start. Unset: the
    /// built-in `hello world`.
    pub content_dir: Option<PathBuf>,
    /// `UPSTREAM_URL`: when set, every answer is this URL's body instead of the greeting.
    pub upstream_url: Option<String>,
    /// `UPSTREAM_TIMEOUT_MS`, default 2000: after this the answer is a 502.
    pub upstream_timeout: Duration,
}

impl Config {
    /// Reads the variables; a bad value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env(env, DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            content_dir: env.get("CONTENT_DIR")?.map(PathBuf::from),
            upstream_url: env.http_url("UPSTREAM_URL")?,
            upstream_timeout: env.millis_or("UPSTREAM_TIMEOUT_MS", DEFAULT_UPSTREAM_TIMEOUT)?,
        })
    }

    /// Loopback, a free port, no content folder, no upstream: for tests.
    pub fn for_tests() -> Self {
        Self {
            http: HttpConfig::for_tests(),
            log_format: LogFormat::Text,
            content_dir: None,
            upstream_url: None,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
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
        service_spec::HELLO.check_reads(env.names_asked()).unwrap();
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 1401);
        assert_eq!(config.content_dir, None);
        assert_eq!(config.upstream_url, None);
        assert_eq!(config.upstream_timeout, Duration::from_secs(2));
    }

    #[test]
    fn the_1403_role_reads_its_upstream() {
        let env = Env::from_pairs([
            ("PORT", "1403"),
            ("UPSTREAM_URL", "http://hello1402:1402/"),
            ("UPSTREAM_TIMEOUT_MS", "500"),
            ("CONTENT_DIR", "/srv/content"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.http.port, 1403);
        assert_eq!(
            config.upstream_url.as_deref(),
            Some("http://hello1402:1402")
        );
        assert_eq!(config.upstream_timeout, Duration::from_millis(500));
        assert_eq!(config.content_dir, Some(PathBuf::from("/srv/content")));
    }

    #[test]
    fn a_bad_upstream_is_refused() {
        let env = Env::from_pairs([("UPSTREAM_URL", "hello1402:1402")]);
        assert_eq!(
            Config::from_env(&env).unwrap_err().to_string(),
            "UPSTREAM_URL=\"hello1402:1402\" is invalid: expected a URL starting with http://"
        );
    }
}
