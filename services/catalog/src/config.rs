//! The catalog's settings, all from environment variables, each with a default.

use std::time::Duration;

use service_common::data_service::DataConfig;
use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// Everything the catalog reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8081), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`, and the rest of
    /// [`HttpConfig`].
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `DATABASE_URL` (default `postgres://catalog@localhost:5432/catalog`),
    /// `DATABASE_POOL_SIZE` (default 16), `REDIS_URL`, `REDIS_KEY_PREFIX`.
    pub data: DataConfig,
    /// `CACHE_TTL_SECONDS`, default 300: how long a cached entry lives. Writes delete the
    /// entry at once; the time limit bounds how stale a rare read-write race can leave it.
    pub cache_ttl: Duration,
}

impl Config {
    pub const DEFAULT_PORT: u16 = service_spec::CATALOG.port();
    pub const DEFAULT_DATABASE_URL: &'static str = "postgres://catalog@localhost:5432/catalog";
    pub const DEFAULT_POOL_SIZE: usize = 16;

    /// Reads every variable; an invalid value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let cache_ttl_seconds: u64 = env.parse_or("CACHE_TTL_SECONDS", 300)?;
        if cache_ttl_seconds == 0 {
            return Err(ConfigError::Invalid {
                var: "CACHE_TTL_SECONDS".into(),
                value: "0".into(),
                reason: "must be at least 1 second".into(),
            });
        }
        Ok(Self {
            http: HttpConfig::from_env(env, Self::DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            data: DataConfig::from_env(env, Self::DEFAULT_DATABASE_URL, Self::DEFAULT_POOL_SIZE)?,
            cache_ttl: Duration::from_secs(cache_ttl_seconds),
        })
    }

    /// Loopback on free ports, the given database and Redis, keys under `prefix`: what every
    /// test that starts a catalog uses.
    pub fn for_tests(database_url: &str, redis_url: &str, prefix: &str) -> Self {
        Self {
            http: HttpConfig::for_tests(),
            log_format: LogFormat::Text,
            data: DataConfig::for_tests(database_url, redis_url, prefix, Self::DEFAULT_POOL_SIZE),
            cache_ttl: Duration::from_secs(300),
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
        service_spec::CATALOG
            .check_reads(env.names_asked())
            .unwrap();
    }

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 8081);
        assert_eq!(config.data.database_url, Config::DEFAULT_DATABASE_URL);
        assert_eq!(config.data.redis_url, DataConfig::DEFAULT_REDIS_URL);
        assert_eq!(config.data.redis_key_prefix, "");
        assert_eq!(config.cache_ttl, Duration::from_secs(300));
        assert_eq!(config.data.database_pool_size, 16);
    }

    #[test]
    fn zero_limits_are_refused_naming_the_variable() {
        for var in ["CACHE_TTL_SECONDS", "DATABASE_POOL_SIZE"] {
            let err = Config::from_env(&Env::from_pairs([(var, "0")])).unwrap_err();
            assert!(err.to_string().starts_with(var), "case {var}: {err}");
        }
    }
}
