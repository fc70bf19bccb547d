//! Configuration from environment variables: typed lookups with defaults, and errors that
//! name the variable, the bad value and what was expected.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A variable that is set but cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var}={value:?} is invalid: {reason}")]
    Invalid {
        var: String,
        value: String,
        reason: String,
    },
    #[error("{var} is not valid UTF-8")]
    NotUnicode { var: String },
}

/// Where variables are read from: the process environment, or a fixed map in tests.
#[derive(Debug, Clone, Default)]
pub struct Env {
    fixed: Option<HashMap<String, String>>,
    /// Every name asked for, so a service's tests can compare what its configuration reads
    /// with what `service-spec` declares for it.
    asked: Arc<Mutex<BTreeSet<String>>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self::default()
    }

    /// A fixed set of variables, so configuration can be tested without touching the
    /// process environment (which is shared by every test thread).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            fixed: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            asked: Arc::default(),
        }
    }

    /// The names asked for so far, set or not.
    pub fn names_asked(&self) -> BTreeSet<String> {
        self.asked
            .lock()
            .map(|names| names.clone())
            .unwrap_or_default()
    }

    /// The raw value; an empty value counts as unset, as compose writes `VAR=` for
    /// "no value".
    pub fn get(&self, var: &str) -> Result<Option<String>, ConfigError> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.insert(var.to_owned());
        }
        let value = match &self.fixed {
            Some(map) => map.get(var).cloned(),
            None => match std::env::var(var) {
                Ok(value) => Some(value),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(ConfigError::NotUnicode { var: var.into() })
                }
            },
        };
        Ok(value.filter(|v| !v.trim().is_empty()))
    }

    /// The value parsed as `T`, or `None` when unset.
    pub fn parse<T>(&self, var: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(var)? {
            None => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|e: T::Err| ConfigError::Invalid {
                    var: var.into(),
                    value: raw.clone(),
                    reason: e.to_string(),
                }),
        }
    }

    /// The value parsed as `T`, or `default` when unset.
    pub fn parse_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.parse(var)?.unwrap_or(default))
    }

    /// The value as text, or `default` when unset.
    pub fn string_or(&self, var: &str, default: &str) -> Result<String, ConfigError> {
        Ok(self.get(var)?.unwrap_or_else(|| default.to_owned()))
    }

    /// A duration given in whole milliseconds, or `default` when unset; zero is refused
    /// because every duration here is a limit, and a zero limit fails every request.
    pub fn millis_or(&self, var: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.parse::<u64>(var)? {
            None => Ok(default),
            Some(0) => Err(ConfigError::Invalid {
                var: var.into(),
                value: "0".into(),
                reason: "must be at least 1 millisecond".into(),
            }),
            Some(ms) => Ok(Duration::from_millis(ms)),
        }
    }

    /// An `http://host:port[/path]` base URL (trailing slash removed), or `None` when unset.
    /// Only plain HTTP: services talk to each other inside the cluster network.
    pub fn http_url(&self, var: &str) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.get(var)? else {
            return Ok(None);
        };
        let url = raw.trim();
        let invalid = |reason: &str| ConfigError::Invalid {
            var: var.into(),
            value: raw.clone(),
            reason: reason.into(),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| invalid("expected a URL starting with http://"))?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') {
            return Err(invalid("the URL has no host"));
        }
        if url.chars().any(char::is_whitespace) {
            return Err(invalid("the URL contains white space"));
        }
        Ok(Some(url.trim_end_matches('/').to_owned()))
    }
}

/// How log lines are written (`LOG_FORMAT`, default `text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected `json` or `text`".into()),
        }
    }
}

impl LogFormat {
    /// `LOG_FORMAT`, default `text`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        env.parse_or("LOG_FORMAT", Self::Text)
    }
}

/// How the shared layers word the errors they answer themselves, before a handler runs: a
/// body over the limit (413) and a request over the time limit (408). A JSON API answers
/// `{"error": "..."}` as its own errors do; other services answer plain text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ErrorBody {
    #[default]
    Text,
    Json,
}

/// The HTTP server settings every service shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Address to bind; `0.0.0.0` so the port is reachable from outside a container.
    /// Not read from the environment; tests use `127.0.0.1`.
    pub host: String,
    /// `PORT`; the default depends on the service. Port 0 picks a free port.
    pub port: u16,
    /// `REQUEST_TIMEOUT_MS`, default 10 000: a request still running after this gets a 408,
    /// which also bounds how long a graceful shutdown can wait.
    pub request_timeout: Duration,
    /// `BODY_LIMIT_BYTES`, default 65 536: larger request bodies get a 413.
    pub body_limit: usize,
    /// The format of the shared layers' own 413 and 408 answers: the service's choice, not
    /// read from the environment.
    pub error_body: ErrorBody,
    /// `METRICS_PORT`, default 9090: the port of `GET /metrics`, apart from the service's
    /// own so that publishing the service (web's 8080) never publishes its metrics. Port 0
    /// picks a free port.
    pub metrics_port: u16,
    /// `HTTP_METRICS`, default `true`: `false` leaves out the request metrics layer, to measure
    /// what it costs (bench/catalog.sh); `/metrics` still serves every other figure.
    pub request_metrics: bool,
    /// `SHUTDOWN_DELAY_MS`, default 0: after SIGTERM, keep serving this long (with `/readyz`
    /// answering 503) before the listener closes. Kubernetes removes a deleted Pod from its
    /// Service a moment after it sends SIGTERM; without this pause, connections sent in that
    /// moment find no listener (or, once the Pod's network is gone, nothing at all).
    pub shutdown_delay: Duration,
}

impl HttpConfig {
    /// Default request timeout.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default request body limit.
    pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
    /// Default metrics port.
    pub const DEFAULT_METRICS_PORT: u16 = 9090;

    /// Settings with the shared defaults and the given port.
    pub fn with_port(port: u16) -> Self {
        Self {
            host: "0.0.0.0".into(),
            port,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            body_limit: Self::DEFAULT_BODY_LIMIT,
            error_body: ErrorBody::Text,
            metrics_port: Self::DEFAULT_METRICS_PORT,
            request_metrics: true,
            shutdown_delay: Duration::ZERO,
        }
    }

    /// `PORT` (default `default_port`), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`,
    /// `METRICS_PORT`, `HTTP_METRICS`, `SHUTDOWN_DELAY_MS`.
    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        let body_limit = env.parse_or("BODY_LIMIT_BYTES", Self::DEFAULT_BODY_LIMIT)?;
        if body_limit == 0 {
            return Err(ConfigError::Invalid {
                var: "BODY_LIMIT_BYTES".into(),
                value: "0".into(),
                reason: "must be at least 1 byte".into(),
            });
        }
        Ok(Self {
            port: env.parse_or("PORT", default_port)?,
            request_timeout: env.millis_or("REQUEST_TIMEOUT_MS", Self::DEFAULT_REQUEST_TIMEOUT)?,
            body_limit,
            metrics_port: env.parse_or("METRICS_PORT", Self::DEFAULT_METRICS_PORT)?,
            request_metrics: env.parse_or("HTTP_METRICS", true)?,
            shutdown_delay: Duration::from_millis(env.parse_or("SHUTDOWN_DELAY_MS", 0u64)?),
            ..Self::with_port(default_port)
        })
    }

    /// Loopback on a free port (and a free metrics port): what integration tests use.
    pub fn for_tests() -> Self {
        Self {
            host: "127.0.0.1".into(),
            metrics_port: 0,
            ..Self::with_port(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_take_the_defaults() {
        let config = HttpConfig::from_env(&Env::from_pairs::<&str, &str>([]), 1401).unwrap();
        assert_eq!(config, HttpConfig::with_port(1401));
        assert_eq!(
            LogFormat::from_env(&Env::from_pairs([("LOG_FORMAT", "")])).unwrap(),
            LogFormat::Text
        );
    }

    #[test]
    fn set_variables_override_the_defaults() {
        let env = Env::from_pairs([
            ("PORT", "8080"),
            ("REQUEST_TIMEOUT_MS", "250"),
            ("BODY_LIMIT_BYTES", "1024"),
            ("LOG_FORMAT", "JSON"),
            ("METRICS_PORT", "9191"),
            ("HTTP_METRICS", "false"),
            ("SHUTDOWN_DELAY_MS", "5000"),
        ]);
        let config = HttpConfig::from_env(&env, 1).unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.shutdown_delay, Duration::from_secs(5));
        assert_eq!(config.metrics_port, 9191);
        assert!(!config.request_metrics);
        assert_eq!(config.request_timeout, Duration::from_millis(250));
        assert_eq!(config.body_limit, 1024);
        assert_eq!(LogFormat::from_env(&env).unwrap(), LogFormat::Json);
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_and_the_value() {
        let cases = [
            (
                "PORT",
                "eighty",
                "PORT=\"eighty\" is invalid: invalid digit found in string",
            ),
            (
                "PORT",
                "70000",
                "PORT=\"70000\" is invalid: number too large to fit in target type",
            ),
            (
                "REQUEST_TIMEOUT_MS",
                "0",
                "REQUEST_TIMEOUT_MS=\"0\" is invalid: must be at least 1 millisecond",
            ),
            (
                "REQUEST_TIMEOUT_MS",
                "-5",
                "REQUEST_TIMEOUT_MS=\"-5\" is invalid: invalid digit found in string",
            ),
            (
                "BODY_LIMIT_BYTES",
                "0",
                "BODY_LIMIT_BYTES=\"0\" is invalid: must be at least 1 byte",
            ),
            (
                "HTTP_METRICS",
                "maybe",
                "HTTP_METRICS=\"maybe\" is invalid: provided string was not `true` or `false`",
            ),
        ];
        for (var, value, message) in cases {
            let err = HttpConfig::from_env(&Env::from_pairs([(var, value)]), 1).unwrap_err();
            assert_eq!(err.to_string(), message, "case {var}={value}");
        }
        let err = LogFormat::from_env(&Env::from_pairs([("LOG_FORMAT", "xml")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "LOG_FORMAT=\"xml\" is invalid: expected `json` or `text`"
        );
    }

    #[test]
    fn http_urls_are_checked_and_lose_their_trailing_slash() {
        let ok = [
            ("http://catalog:8081", "http://catalog:8081"),
            ("http://catalog:8081/", "http://catalog:8081"),
            ("http://127.0.0.1:1402/x", "http://127.0.0.1:1402/x"),
        ];
        for (raw, want) in ok {
            let env = Env::from_pairs([("CATALOG_URL", raw)]);
            assert_eq!(
                env.http_url("CATALOG_URL").unwrap().as_deref(),
                Some(want),
                "case {raw}"
            );
        }
        for raw in [
            "catalog:8081",
            "https://catalog",
            "http://",
            "http://:80",
            "http://a b",
        ] {
            let env = Env::from_pairs([("CATALOG_URL", raw)]);
            assert!(
                env.http_url("CATALOG_URL").is_err(),
                "case {raw} was accepted"
            );
        }
        assert_eq!(Env::default().http_url("NOT_SET_ANYWHERE_X").unwrap(), None);
    }
}
